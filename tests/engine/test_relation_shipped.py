"""The shipped MRL video detector: ONNX == torch on a real clip, clip-shaped maps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.runtime import WeightsStore, default_models_dir, load_detector
from tests.engine.test_synthesis_masks import real_clip

pytestmark = [
    pytest.mark.weights,
    pytest.mark.skipif("relation_effl0" not in WeightsStore(default_models_dir()).names(),
                       reason="MRL weights are not shipped"),
]


@pytest.fixture(scope="module")
def clip(shared_data: Path) -> np.ndarray:
    """One (1, 8, 256, 256, 3) clip of a tracked real face (every 3rd video frame)."""
    return np.stack([f.rgb_u8 for f in real_clip(shared_data, n_frames=8, step=3)])[None]


def test_card_declares_an_eight_frame_clip_model() -> None:
    store = WeightsStore(default_models_dir())
    cfg = store.cfg("relation_effl0")
    assert cfg.clip_len == 8
    assert cfg.calibration is not None
    card = store.card("relation_effl0")
    assert card["scope"] == "clip"
    assert 0.5 < card["metrics"]["val_video_clips"]["auc"] <= 1.0


@pytest.mark.slow
def test_shipped_torch_and_onnx_agree_on_a_real_clip(clip: np.ndarray) -> None:
    pytest.importorskip("torch")
    by_onnx = load_detector("relation_effl0", runtime="onnx", threads=2).predict(
        clip, want_maps=True)
    by_torch = load_detector("relation_effl0", runtime="torch", threads=2).predict(
        clip, want_maps=True)
    np.testing.assert_allclose(by_onnx.p_fake_raw, by_torch.p_fake_raw, atol=1e-4)
    np.testing.assert_allclose(by_onnx.p_fake, by_torch.p_fake, atol=1e-4)
    assert by_onnx.maps is not None
    assert by_torch.maps is not None
    assert by_onnx.maps.shape == (1, 8, 10, 10)
    np.testing.assert_allclose(by_onnx.maps, by_torch.maps, atol=1e-4)
    assert np.all((by_onnx.p_fake >= 0) & (by_onnx.p_fake <= 1))
