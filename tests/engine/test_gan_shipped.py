"""The shipped GAN-image detector: its card, ONNX == torch on real faces (whole pictures:
test_gen_shipped.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.runtime import WeightsStore, default_models_dir, load_detector
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
