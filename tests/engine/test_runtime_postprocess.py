"""The ONE pre/post-processing both runtimes share (numpy only, no torch needed)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from engine.fusion.calibration import PlattCalibration
from engine.runtime.cfg import DetectorCfg, preprocess
from engine.runtime.loaded import DetectorOutput, LoadedDetector, postprocess

GOLDEN = Path(__file__).parent / "golden" / "preprocess_lite192.json"


def _cfg(**changes: object) -> DetectorCfg:
    base = DetectorCfg(
        name="t", version="1", variant="cpu", input_size=64, mean=(0.5, 0.5, 0.5),
        std=(0.5, 0.5, 0.5), face_margin=0.25, clip_len=1, output="softmax2", map_kind="gradcam",
        looks_for="face_swap",
    )
    return base.replace(**changes)


def test_softmax2_and_sigmoid1_give_the_same_probability_of_fake() -> None:
    logits2 = np.array([[0.0, 2.0], [1.0, -1.0]], dtype=np.float32)
    out2 = postprocess(logits2, None, _cfg(), None, want_maps=False)
    expected = 1.0 / (1.0 + np.exp(-np.array([2.0, -2.0])))
    np.testing.assert_allclose(out2.p_fake_raw, expected, rtol=1e-12)
    out1 = postprocess(np.array([[2.0], [-2.0]]), None, _cfg(output="sigmoid1"), None,
                       want_maps=False)
    np.testing.assert_allclose(out1.p_fake_raw, expected, rtol=1e-12)
    np.testing.assert_array_equal(out2.p_fake, out2.p_fake_raw)  # no calibration


def test_calibration_is_applied_and_keeps_the_order() -> None:
    platt = PlattCalibration(2.0, -1.0)
    logits = np.array([[0.0, x] for x in (-3.0, -0.5, 0.0, 4.0)])
    out = postprocess(logits, None, _cfg(), platt, want_maps=False)
    np.testing.assert_allclose(out.p_fake, platt.apply(out.p_fake_raw))
    assert np.all(np.diff(out.p_fake) > 0)


def test_maps_are_scaled_into_unit_range_per_kind() -> None:
    raw = np.array([[[-1.0, 2.0], [4.0, 0.0]], [[-3.0, -1.0], [-2.0, -5.0]]], np.float32)
    cam = postprocess(np.zeros((2, 2)), raw, _cfg(), None, want_maps=True).maps
    assert cam is not None
    np.testing.assert_allclose(cam[0], [[0.0, 0.5], [1.0, 0.0]])
    np.testing.assert_array_equal(cam[1], np.zeros((2, 2)))  # no evidence for "fake"
    xray = postprocess(np.zeros((2, 2)), np.clip(raw, 0, 1) * 0.3, _cfg(map_kind="xray"), None,
                       want_maps=True).maps
    assert xray is not None
    assert xray.max() <= 0.3 + 1e-6
    att = np.random.default_rng(0).random((2, 4, 3, 3)).astype(np.float32)
    out = postprocess(np.zeros((2, 2)), att, _cfg(map_kind="attention"), None, want_maps=True)
    assert out.part_maps is not None
    assert out.part_maps.shape == (2, 4, 3, 3)
    np.testing.assert_allclose(out.part_maps.max(axis=(2, 3)), 1.0, rtol=1e-6)
    assert out.maps is not None
    assert out.maps.shape == (2, 3, 3)
    np.testing.assert_allclose(out.maps.max(axis=(1, 2)), 1.0, rtol=1e-6)


class _FixedRuntime:
    def __init__(self) -> None:
        self.calls: list[tuple[int, ...]] = []

    def run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        self.calls.append(batch.shape)
        n = batch.shape[0]
        return np.tile([[0.0, 1.0]], (n, 1)), np.ones((n, 2, 2), np.float32)


def test_loaded_detector_preprocesses_calibrates_and_handles_an_empty_batch() -> None:
    runtime = _FixedRuntime()
    det = LoadedDetector(_cfg(calibration=(1.0, 0.5)), runtime, runtime_name="fake", device="cpu")
    out = det.predict(np.zeros((3, 256, 256, 3), np.uint8), want_maps=True)
    assert runtime.calls == [(3, 3, 64, 64)]
    assert isinstance(out, DetectorOutput)
    assert out.maps is not None
    assert det.calibration is not None
    assert "Platt" in det.calibration.describe()
    np.testing.assert_allclose(out.p_fake, det.calibration.apply(out.p_fake_raw))
    empty = det.predict(np.zeros((0, 256, 256, 3), np.uint8))
    assert empty.p_fake.shape == (0,)
    assert runtime.calls == [(3, 3, 64, 64)]


@pytest.mark.parametrize(
    "bad",
    [np.zeros((2, 256, 256, 3), np.float32), np.zeros((2, 256, 200, 3), np.uint8),
     np.zeros((256, 256, 3), np.uint8)],
)
def test_preprocess_rejects_what_is_not_a_batch_of_square_uint8_crops(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="crops must be"):
        preprocess(bad, _cfg())


def test_preprocess_normalises_handles_clips_and_a_smaller_margin() -> None:
    crops = np.full((1, 256, 256, 3), 255, np.uint8)
    crops[:, 128 - 20 : 128 + 20, 128 - 20 : 128 + 20] = 0  # dark centre
    x = preprocess(crops, _cfg())
    assert x.shape == (1, 3, 64, 64)
    assert x.max() == pytest.approx(1.0)
    tight = preprocess(crops, _cfg(face_margin=0.0))  # keeps the centre 2/3 of the crop
    assert (tight < 0).mean() > (x < 0).mean()
    clips = preprocess(np.stack([crops[0]] * 3)[None], _cfg())
    assert clips.shape == (1, 3, 3, 64, 64)
    np.testing.assert_array_equal(clips[0, 1], x[0])


def test_preprocess_matches_its_golden_output() -> None:
    """Golden check of the shipped preprocessing (Lite normalisation, 256 -> 192, INTER_AREA).

    Refresh only on purpose: ``ACCEPT=1 pytest tests/engine/test_runtime_postprocess.py``.
    """
    cfg = _cfg(input_size=192, mean=(127 / 255,) * 3, std=(128 / 255,) * 3)
    crops = np.random.default_rng(0).integers(0, 256, (2, 256, 256, 3), dtype=np.uint8)
    x = preprocess(crops, cfg)
    digest = hashlib.sha256(np.round(x, 4).astype(np.float32).tobytes()).hexdigest()
    summary = {"shape": list(x.shape), "sha256_round4": digest, "mean": round(float(x.mean()), 6)}
    if os.environ.get("ACCEPT") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(summary, indent=1) + "\n")
    assert summary == json.loads(GOLDEN.read_text())
