"""The shipped weights in resources/models: integrity, torch == ONNX, and behaviour on faces.

These run by default whenever cards are present (``-m weights`` selects only them). A card that
lists a weights file which is missing or altered FAILS, it is never skipped.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from engine.runtime import WeightsStore, default_models_dir, load_detector

pytestmark = pytest.mark.weights

STORE = WeightsStore(default_models_dir())
CARDS = STORE.names()
FACE_SWAP = [n for n in ("sbi_effl0", "xray_effl0", "mat_effl0") if n in CARDS]


def _face_crops(paths: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """Policy crops and landmarks of the first face in each image (the app's face pipeline)."""
    import cv2

    from engine.faces.crop import CropPolicy, crop_face
    from engine.faces.mesh import FaceMeshDetector

    crops, landmarks = [], []
    with FaceMeshDetector() as mesh:
        for path in paths:
            rgb = np.ascontiguousarray(cv2.imread(str(path))[..., ::-1])
            faces = mesh.detect(rgb)
            assert faces, f"no face found in {path}"
            crop, lm, _ = crop_face(rgb, faces[0].landmarks_xy, CropPolicy())
            crops.append(crop)
            landmarks.append(lm)
    return np.stack(crops), np.stack(landmarks)


@pytest.fixture(scope="module")
def dfdc_real(shared_data: Path) -> tuple[np.ndarray, np.ndarray]:
    """Real DFDC faces (never trained on: dev_eval is held out)."""
    folder = shared_data / "dev_eval" / "dfdc_face_crops" / "real"
    return _face_crops(sorted(folder.iterdir())[::4][:3])


def test_the_three_face_swap_detectors_are_shipped() -> None:
    assert FACE_SWAP == ["sbi_effl0", "xray_effl0", "mat_effl0"], CARDS


def test_the_face_swap_detectors_share_their_trunk_bit_for_bit() -> None:
    """SBI, X-ray and MAT ship one trunk up to stride 16 (docs/MODELS.md), so the merged graph
    (engine.runtime.merge) computes it once per face; a model retrained on its own trunk would
    silently cost the app about a sixth of its face images per second (docs/PERFORMANCE.md)."""
    torch = pytest.importorskip("torch")
    from engine.detectors import registry

    trunk = registry.create_detector("sbi_effl0").net.trunk_state_keys(3)
    states = {name: torch.load(STORE.root / STORE.cfg(name).weights_file, map_location="cpu",
                               weights_only=True)
              for name in FACE_SWAP}
    first = FACE_SWAP[0]
    for name in FACE_SWAP[1:]:
        for key in trunk:
            assert torch.equal(states[name][key], states[first][key]), f"{name}: {key}"


@pytest.mark.parametrize("name", CARDS)
def test_every_card_lists_weights_that_exist_and_match_their_sha256(name: str) -> None:
    cfg = STORE.cfg(name)
    assert cfg.weights_file, f"{name}: the card lists no torch weights"
    assert cfg.onnx_file, f"{name}: the card lists no ONNX weights"
    assert STORE.read_verified(name, "torch")
    assert STORE.read_verified(name, "onnx")
    markdown = STORE.root / f"{name}.md"
    assert markdown.is_file(), f"{name}: no model card {markdown.name}"
    assert cfg.weights_sha256 in markdown.read_text()


@pytest.mark.parametrize("name", FACE_SWAP)
def test_the_card_matches_the_code_config_it_was_trained_with(name: str) -> None:
    pytest.importorskip("torch")
    from engine.detectors import registry

    code, card = registry.get_cfg(name), STORE.cfg(name)
    fields = ("version", "variant", "input_size", "mean", "std", "face_margin", "clip_len",
              "output", "map_kind", "weights_file", "onnx_file")
    assert {f: getattr(card, f) for f in fields} == {f: getattr(code, f) for f in fields}
    assert card.calibration is not None
    assert card.weights_sha256 is not None


@pytest.mark.slow
@pytest.mark.parametrize("name", FACE_SWAP)
def test_shipped_torch_and_onnx_outputs_agree(
    name: str, dfdc_real: tuple[np.ndarray, np.ndarray]
) -> None:
    pytest.importorskip("torch")
    crops = dfdc_real[0][:2]
    by_onnx = load_detector(name, runtime="onnx", threads=2).predict(crops, want_maps=True)
    by_torch = load_detector(name, runtime="torch", threads=2).predict(crops, want_maps=True)
    np.testing.assert_allclose(by_onnx.p_fake_raw, by_torch.p_fake_raw, atol=1e-4)
    np.testing.assert_allclose(by_onnx.p_fake, by_torch.p_fake, atol=1e-4)
    assert by_onnx.maps is not None
    assert by_torch.maps is not None
    np.testing.assert_allclose(by_onnx.maps, by_torch.maps, atol=1e-4)
    assert np.all((by_onnx.maps >= 0) & (by_onnx.maps <= 1))


@pytest.mark.skipif("sbi_effl0" not in CARDS, reason="SBI weights are not shipped")
def test_sbi_scores_real_faces_below_their_self_blended_twins(
    dfdc_real: tuple[np.ndarray, np.ndarray],
) -> None:
    from engine.synthesis import self_blend

    crops, landmarks = dfdc_real
    fakes = np.stack([
        self_blend(crop, lm, np.random.default_rng(i)).image_rgb_u8
        for i, (crop, lm) in enumerate(zip(crops, landmarks, strict=True))
    ])
    detector = load_detector("sbi_effl0", runtime="onnx", threads=2)
    p_real = detector.predict(crops).p_fake
    p_fake = detector.predict(fakes).p_fake
    assert np.all(p_real < p_fake), (p_real, p_fake)


@pytest.mark.slow
@pytest.mark.skipif("sbi_effl0" not in CARDS, reason="SBI weights are not shipped")
def test_the_evaluation_command_scores_labelled_folders(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from engine.training.evaluate import main

    crops = shared_data / "dev_eval" / "dfdc_face_crops"
    for label in ("real", "fake"):
        (tmp_path / label).mkdir()
        for path in sorted((crops / label).iterdir())[:2]:
            shutil.copy(path, tmp_path / label / path.name)
    assert main(["--detector", "sbi_effl0", "--real", str(tmp_path / "real"),
                 "--fake", str(tmp_path / "fake")]) == 0
    out = capsys.readouterr().out
    assert "4 files scored" in out
    assert "sbi_effl0: AUC" in out



def test_a_face_reading_of_the_shipped_probe_loads_and_shares_its_session(
        tmp_path: Path) -> None:
    # NOTE: gen_probe_face_effl0 (docs/MODELS_GEN.md, run 12; not shipped) is gen_probe_effl0's
    # graph read on face regions. Derived by its command into a models folder, it loads with
    # its own card (name, kind, tile policy) and the probe's session: one session's memory.
    pytest.importorskip("torch")
    from engine.training.face_region_card import main as face_region_card

    for path in STORE.root.glob("g*_effl0.*"):
        shutil.copy(path, tmp_path / path.name)
    assert face_region_card(["--source", str(tmp_path / "gen_probe_effl0.json"),
                             "--name", "gen_probe_face_effl0", "--out", str(tmp_path)]) == 0
    probe_card = WeightsStore(tmp_path).card("gen_probe_effl0")
    face_card = WeightsStore(tmp_path).card("gen_probe_face_effl0")
    for key in ("weights_sha256", "onnx_sha256", "calibration", "onnx_file"):
        assert face_card["cfg"][key] == probe_card["cfg"][key]
    picture = load_detector("gen_probe_effl0", models_dir=tmp_path, threads=1)
    face = load_detector("gen_probe_face_effl0", models_dir=tmp_path, threads=1)
    other = load_detector("gan_effl0", models_dir=tmp_path, threads=1)
    assert face.runtime is picture.runtime
    assert other.runtime is not picture.runtime
    assert load_detector("gen_probe_effl0", models_dir=tmp_path, threads=2).runtime is not (
        picture.runtime)
    assert (picture.cfg.looks_for, face.cfg.looks_for) == ("generated", "face_swap")
    assert picture.tile_policy.score_picture
    assert not face.tile_policy.score_picture
