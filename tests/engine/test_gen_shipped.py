"""The shipped whole-picture (native-tile) detectors: verified weights, ONNX == torch, any
picture size."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pytest

from engine.runtime import WeightsStore, default_models_dir, load_detector
from engine.runtime.tiles import score_region


def _native_tile_names() -> list[str]:
    store = WeightsStore(default_models_dir())
    return [n for n in store.names() if store.cfg(n).input_mode == "native_tiles"]


NATIVE = _native_tile_names()

pytestmark = pytest.mark.weights


def test_a_shipped_detector_scores_whole_pictures() -> None:
    # NOTE: issue 16: every picture gets a generated-image score, with or without a face.
    store = WeightsStore(default_models_dir())
    assert any(store.cfg(n).looks_for == "generated" for n in NATIVE)


def _picture(h: int, w: int, seed: int = 0) -> np.ndarray:
    import cv2

    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (max(2, h // 16), max(2, w // 16), 3), dtype=np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


@pytest.mark.parametrize("name", NATIVE)
def test_the_card_matches_the_files_and_records_its_tile_policy(name: str) -> None:
    store = WeightsStore(default_models_dir())
    cfg = store.cfg(name)
    assert cfg.input_mode == "native_tiles"
    assert cfg.looks_for == "generated"
    files = ((cfg.onnx_file, cfg.onnx_sha256), (cfg.weights_file, cfg.weights_sha256))
    for file_name, sha in files:
        assert file_name is not None
        assert hashlib.sha256((store.root / file_name).read_bytes()).hexdigest() == sha
    card = store.card(name)
    assert card["tile_policy"]["tile_px"] == cfg.input_size
    assert 0.0 < cfg.threshold < 1.0


@pytest.mark.parametrize("name", NATIVE)
def test_scores_are_probabilities_for_every_picture_shape(name: str) -> None:
    detector = load_detector(name, threads=2)
    policy = detector.tile_policy
    assert policy is not None
    for h, w in ((300, 8000), (37, 300), (257, 401), (1, 1), (31, 5000)):
        score = score_region(detector, _picture(h, w), policy=policy,
                             max_tiles=policy.max_tiles_image)
        if min(h, w) < policy.min_side_px:
            assert score is None
            continue
        assert score is not None
        assert 0.0 <= score.p_fake <= 1.0
        assert math.isfinite(score.p_fake)
        assert np.all(np.isfinite(score.tile_p_fake))


@pytest.mark.slow
@pytest.mark.parametrize("name", NATIVE)
def test_shipped_torch_and_onnx_agree_on_a_face_and_an_odd_picture(
    shared_data: Path, name: str
) -> None:
    pytest.importorskip("torch")
    from PIL import Image

    face = np.asarray(Image.open(sorted((shared_data / "faces_real" / "utkface").iterdir())[0])
                      .convert("RGB"))
    by_onnx = load_detector(name, runtime="onnx", threads=2)
    by_torch = load_detector(name, runtime="torch", threads=2)
    for rgb in (face, _picture(203, 517, seed=3)):
        a = score_region(by_onnx, rgb, policy=by_onnx.tile_policy, max_tiles=8, want_cams=True)
        b = score_region(by_torch, rgb, policy=by_torch.tile_policy, max_tiles=8, want_cams=True)
        assert a is not None
        assert b is not None
        np.testing.assert_allclose(a.tile_logits, b.tile_logits, atol=1e-3)
        assert a.p_fake == pytest.approx(b.p_fake, abs=1e-4)
        assert (a.cams is None) == (b.cams is None)
        if a.cams is not None and b.cams is not None:
            np.testing.assert_allclose(a.cams, b.cams, atol=1e-3)
