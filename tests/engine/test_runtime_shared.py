"""Merged detector graphs (engine.runtime.merge/shared) and files in flight (analysis.many).

Sharing the frozen trunk of SBI, Face X-ray and MAT is an optimisation: these tests hold it to
giving exactly what each detector gives alone, and check that the shared work is real.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from engine.analysis.many import analyze_in_order
from engine.analysis.scoring import detector_units
from engine.runtime import WeightsStore, default_models_dir, load_detector
from engine.runtime.cfg import DetectorCfg

STORE = WeightsStore(default_models_dir())
SHARED = [n for n in ("sbi_effl0", "xray_effl0", "mat_effl0") if n in STORE.names()]
needs_weights = pytest.mark.skipif(len(SHARED) < 2, reason="fewer than two trunk-sharing "
                                   "detectors are shipped in resources/models")


def _crops(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(n, 256, 256, 3), dtype=np.uint8)


@pytest.mark.weights
@needs_weights
def test_merged_graph_gives_each_detector_its_own_outputs_with_less_work() -> None:
    from engine.runtime.shared import SharedGroup

    crops = _crops(3)
    alone = {n: load_detector(n).predict(crops, want_maps=True) for n in SHARED}
    group = SharedGroup([load_detector(n) for n in SHARED])
    assert group.n_nodes_merged < group.n_nodes_alone / 2  # the trunk is counted once
    together = group.predict_all(crops, want_maps=True)
    for name in SHARED:
        np.testing.assert_allclose(together[name].p_fake, alone[name].p_fake, atol=1e-6)
        np.testing.assert_allclose(together[name].p_fake_raw, alone[name].p_fake_raw, atol=1e-6)
        np.testing.assert_allclose(together[name].maps, alone[name].maps, atol=1e-5)
    # A member still answers alone (through the merged session: its own one is freed).
    member = group.members[0]
    np.testing.assert_allclose(member.predict(crops).p_fake, alone[member.cfg.name].p_fake,
                               atol=1e-6)
    assert group.predict_all(crops[:0])[member.cfg.name].p_fake.shape == (0,)


@pytest.mark.weights
@needs_weights
def test_graphs_with_different_inputs_are_refused_and_never_grouped() -> None:
    from engine.runtime.merge import merge_graphs
    from engine.runtime.shared import group_detectors

    if "gan_effl0" not in STORE.names():
        pytest.skip("gan_effl0 (256 px input) is not shipped")
    with pytest.raises(ValueError, match="one input"):
        merge_graphs({n: STORE.read_verified(n, "onnx") for n in (SHARED[0], "gan_effl0")})
    loaded = [load_detector(n) for n in (SHARED[0], "gan_effl0")]
    assert group_detectors(loaded) == []
    with pytest.raises(ValueError, match="at least two"):
        merge_graphs({SHARED[0]: STORE.read_verified(SHARED[0], "onnx")})


def test_native_tile_detectors_are_never_grouped_even_with_equal_inputs() -> None:
    # NOTE: gan_effl0 and gen_probe_effl0 read the same 256 px Lite input; each scores its own
    # tiles, so a merged graph would run both networks for each of them.
    from engine.runtime.onnx_rt import OnnxRuntime
    from engine.runtime.shared import group_detectors, input_key

    class _Loaded:
        def __init__(self, name: str, mode: str) -> None:
            self.cfg = DetectorCfg(
                name=name, version="1", variant="cpu", input_size=256, mean=(0.5,) * 3,
                std=(0.5,) * 3, face_margin=0.25, clip_len=1, output="sigmoid1",
                map_kind="gradcam", looks_for="generated", input_mode=mode)  # type: ignore[arg-type]
            self.runtime = OnnxRuntime.__new__(OnnxRuntime)
            self.runtime.device, self.runtime.threads = "cpu", 2

    tiles = [_Loaded("a", "native_tiles"), _Loaded("b", "native_tiles")]
    assert [input_key(d) for d in tiles] == [None, None]
    assert group_detectors(tiles) == []
    crops = [_Loaded("c", "face_crop"), _Loaded("d", "face_crop")]
    assert input_key(crops[0]) == input_key(crops[1]) is not None


@pytest.mark.weights
@needs_weights
def test_the_analyzer_runs_the_shared_detectors_as_one_unit() -> None:
    from engine.api import AnalysisOptions, Analyzer

    with Analyzer(AnalysisOptions(detectors=tuple(SHARED), runtime="onnx"),
                  isolation=None) as analyzer:  # in-process: the pipeline is inspected
        detectors = analyzer._backend._pipeline.detectors
        assert all(d.group is detectors[0].group is not None for d in detectors)
        assert [[d.name for d in u] for u in detector_units(detectors)] == [list(SHARED)]


class _Det:
    def __init__(self, name: str, group: object = None) -> None:
        self.name, self.group = name, group


def test_units_keep_the_run_order_and_gather_each_group() -> None:
    g1, g2 = object(), object()
    dets = [_Det("a"), _Det("b", g1), _Det("c"), _Det("d", g1), _Det("e", g2)]
    units = detector_units(dets)  # type: ignore[arg-type]
    assert [[d.name for d in u] for u in units] == [["a"], ["b", "d"], ["c"], ["e"]]


def test_files_in_flight_come_back_in_input_order_and_overlap() -> None:
    running, most = [0], [0]
    lock = threading.Lock()

    def slow(path: str) -> str:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.02 if int(path) % 2 else 0.05)
        with lock:
            running[0] -= 1
        return path

    paths = [str(i) for i in range(7)]
    assert list(analyze_in_order(slow, paths, workers=2)) == paths  # type: ignore[arg-type]
    assert most[0] == 2
    assert list(analyze_in_order(slow, paths, workers=1)) == paths  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="workers"):
        list(analyze_in_order(slow, paths, workers=0))  # type: ignore[arg-type]


def test_a_failing_file_raises_in_its_turn_and_stops_new_starts() -> None:
    started: list[str] = []

    def one(path: str) -> str:
        started.append(path)
        if path == "2":
            raise RuntimeError("bad file")
        return path

    results = analyze_in_order(one, [str(i) for i in range(10)], workers=2)  # type: ignore[arg-type]
    assert [next(results), next(results)] == ["0", "1"]
    with pytest.raises(RuntimeError, match="bad file"):
        next(results)
    assert len(started) <= 5  # at most `workers` started past the failing one
