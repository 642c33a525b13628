"""Explanation maps: SBI's in-graph CAM equals Grad-CAM; X-ray and MAT map shapes; BAP."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.detectors import registry  # noqa: E402
from engine.detectors.backbones import EfficientNetLite0, load_imagenet_lite  # noqa: E402
from engine.detectors.mat import bilinear_attention_pool  # noqa: E402


def _grad_cam(net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Textbook Grad-CAM of the fake log-odds on the last feature map, via autograd."""
    features = net.forward_features(x).detach().requires_grad_(True)
    logits = net.forward_head(features)
    (logits[:, 1] - logits[:, 0]).sum().backward()
    alpha = features.grad.mean(dim=(2, 3), keepdim=True)  # type: ignore[union-attr]
    return torch.relu((alpha * features).sum(dim=1))


def test_sbi_cam_in_the_graph_equals_autograd_grad_cam() -> None:
    torch.manual_seed(0)
    net = registry.create_detector("sbi_effl0").net.eval()
    with torch.no_grad():  # a non-trivial head, so the map is not all zero
        net.fc.weight.normal_(0.0, 0.05)
    x = torch.randn(2, 3, 64, 64)
    expected = _grad_cam(net, x)
    with torch.no_grad():
        _, cam = net.forward_with_map(x)
    cam = torch.relu(cam)
    # Grad-CAM = CAM / (h * w) for a global-average-pool + linear head.
    h, w = cam.shape[-2:]
    torch.testing.assert_close(cam / (h * w), expected, atol=1e-6, rtol=1e-4)
    assert float(cam.max()) > 0


def test_xray_map_is_64x64_probability_and_mat_gives_four_attention_maps() -> None:
    x = np.random.default_rng(0).standard_normal((1, 3, 64, 64)).astype(np.float32)
    xray = registry.create_detector("xray_effl0").predict(x, want_maps=True)
    assert xray.maps is not None
    assert xray.maps.shape == (1, 64, 64)
    mat = registry.create_detector("mat_effl0").predict(x, want_maps=True)
    assert mat.part_maps is not None
    assert mat.part_maps.shape[:2] == (1, 4)
    assert mat.maps is not None
    assert mat.maps.shape == (1, *mat.part_maps.shape[2:])


def test_bilinear_attention_pool_is_normalised_average_pooling() -> None:
    gen = torch.Generator().manual_seed(0)
    features = torch.rand(2, 5, 6, 6, generator=gen)
    attention = torch.rand(2, 3, 6, 6, generator=gen)
    pooled = bilinear_attention_pool(features, attention)
    assert pooled.shape == (2, 3, 5)
    raw = (features[0, :, :, :] * attention[0, 1]).sum(dim=(1, 2))
    torch.testing.assert_close(pooled[0, 1], raw / raw.norm(), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(pooled.norm(dim=2), torch.ones(2, 3), atol=1e-4, rtol=0)


def test_imagenet_lite0_weights_load_and_the_input_must_be_a_multiple_of_32() -> None:
    encoder = EfficientNetLite0(head=True)
    load_imagenet_lite(encoder)
    assert float(encoder.stem.conv.weight.detach().abs().sum()) > 0
    encoder.eval()
    with torch.no_grad():
        feats = encoder(torch.zeros(1, 3, 64, 64))
    assert [f.shape[-1] for f in feats] == [16, 8, 4, 2]
    with pytest.raises(ValueError, match="multiple of 32"), torch.no_grad():
        encoder(torch.zeros(1, 3, 70, 70))
