"""The shipped generated-image detector: verified weights, ONNX == torch, any picture size."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pytest

from engine.runtime import WeightsStore, default_models_dir, load_detector
from engine.runtime.tiles import score_region

pytestmark = [
    pytest.mark.weights,
    pytest.mark.skipif("gen_nprnet" not in WeightsStore(default_models_dir()).names(),
                       reason="generated-image detector weights are not shipped"),
]


def _picture(h: int, w: int, seed: int = 0) -> np.ndarray:
    import cv2

    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (max(2, h // 16), max(2, w // 16), 3), dtype=np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def test_the_card_matches_the_files_and_records_its_tile_policy_and_validation() -> None:
    store = WeightsStore(default_models_dir())
    cfg = store.cfg("gen_nprnet")
    assert cfg.input_mode == "native_tiles"
    assert cfg.looks_for == "generated"
    files = ((cfg.onnx_file, cfg.onnx_sha256), (cfg.weights_file, cfg.weights_sha256))
    for file_name, sha in files:
        assert file_name is not None
        assert hashlib.sha256((store.root / file_name).read_bytes()).hexdigest() == sha
    card = store.card("gen_nprnet")
    assert card["tile_policy"]["tile_px"] == cfg.input_size
    assert "held_out_generators" in card["metrics"]
    assert 0.0 < cfg.threshold < 1.0


def test_scores_are_probabilities_for_every_picture_shape() -> None:
    detector = load_detector("gen_nprnet", threads=2)
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
def test_shipped_torch_and_onnx_agree_on_a_face_and_an_odd_picture(shared_data: Path) -> None:
    pytest.importorskip("torch")
    from PIL import Image

    face = np.asarray(Image.open(sorted((shared_data / "faces_real" / "utkface").iterdir())[0])
                      .convert("RGB"))
    by_onnx = load_detector("gen_nprnet", runtime="onnx", threads=2)
    by_torch = load_detector("gen_nprnet", runtime="torch", threads=2)
    for rgb in (face, _picture(203, 517, seed=3)):
        a = score_region(by_onnx, rgb, policy=by_onnx.tile_policy, max_tiles=8, want_cams=True)
        b = score_region(by_torch, rgb, policy=by_torch.tile_policy, max_tiles=8, want_cams=True)
        assert a is not None
        assert b is not None
        np.testing.assert_allclose(a.tile_logits, b.tile_logits, atol=1e-3)
        assert a.p_fake == pytest.approx(b.p_fake, abs=1e-4)
        assert a.cams is not None
        assert b.cams is not None
        np.testing.assert_allclose(a.cams, b.cams, atol=1e-3)
