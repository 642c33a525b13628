"""The shipped GAN-image detector: ONNX == torch on real faces, whole images score."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.runtime import WeightsStore, default_models_dir, load_detector
from engine.runtime.whole_image import score_whole_image
from tests.engine.test_synthesis_masks import real_faces

pytestmark = [
    pytest.mark.weights,
    pytest.mark.skipif("gan_effl0" not in WeightsStore(default_models_dir()).names(),
                       reason="GAN detector weights are not shipped"),
]


def test_card_records_the_background_free_measurements() -> None:
    card = WeightsStore(default_models_dir()).card("gan_effl0")
    assert card["scope"] == "image"
    for view in ("val_policy", "val_oval", "val_margin0"):
        assert 0.5 < card["metrics"][view]["ap"] <= 1.0


@pytest.mark.slow
def test_shipped_torch_and_onnx_agree_on_real_faces(shared_data: Path) -> None:
    pytest.importorskip("torch")
    crops = np.stack([f.rgb_u8 for f in real_faces(shared_data)[:2]])
    by_onnx = load_detector("gan_effl0", runtime="onnx", threads=2).predict(crops, want_maps=True)
    by_torch = load_detector("gan_effl0", runtime="torch", threads=2).predict(crops,
                                                                            want_maps=True)
    np.testing.assert_allclose(by_onnx.p_fake_raw, by_torch.p_fake_raw, atol=1e-4)
    np.testing.assert_allclose(by_onnx.p_fake, by_torch.p_fake, atol=1e-4)
    assert by_onnx.maps is not None
    assert by_torch.maps is not None
    np.testing.assert_allclose(by_onnx.maps, by_torch.maps, atol=1e-4)


def test_a_whole_generated_portrait_is_scored_tile_by_tile(shared_data: Path) -> None:
    import cv2

    folder = shared_data / "faces_gan" / "generated_photos"
    rgb = np.ascontiguousarray(cv2.imread(str(sorted(folder.iterdir())[0]))[..., ::-1])
    result = score_whole_image(load_detector("gan_effl0", threads=2), rgb, want_map=True)
    assert result.tiles_xyxy.shape == (4, 4)  # 512 x 512 -> 2 x 2 tiles, no resizing
    assert result.scale == 1.0
    assert 0.0 <= result.p_fake <= 1.0
    assert result.map is not None
    assert result.map.shape == rgb.shape[:2]
