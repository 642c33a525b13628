"""The GAN-image detector: builds, scores crops of any size, Grad-CAM map, ONNX (whole pictures:
test_gen_tiles.py and test_gen_shipped.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.detectors import registry  # noqa: E402
from engine.training.datasets_gan import normalise  # noqa: E402


@pytest.fixture(scope="module")
def detector():  # type: ignore[no-untyped-def]
    with torch.random.fork_rng():  # random weights only; no ImageNet checkpoint in tests
        torch.manual_seed(0)
        return registry.create_detector("gan_effl0")


def _crops(n: int, side: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, side, side, 3), dtype=np.uint8)


def test_cfg_feeds_the_policy_crop_unresized_with_one_logit() -> None:
    cfg = registry.get_cfg("gan_effl0")
    assert (cfg.input_size, cfg.face_margin, cfg.clip_len) == (256, 0.25, 1)
    assert cfg.output == "sigmoid1"
    assert cfg.map_kind == "gradcam"
    assert registry.get_cfg("ganres_r50").variant == "full"
    with pytest.raises(ValueError, match="no offline ImageNet weights"):
        registry.create_detector("ganres_r50", pretrained_backbone=True)


def test_policy_crops_reach_the_network_without_resizing(detector) -> None:  # type: ignore[no-untyped-def]
    crops = _crops(2, 256)
    batch = detector.preprocess(crops)
    assert batch.shape == (2, 3, 256, 256)
    mean = np.float32(detector.cfg.mean[0] * 255.0)
    std = np.float32(detector.cfg.std[0] * 255.0)
    np.testing.assert_allclose(batch[0, 0], (crops[0, :, :, 0] - mean) / std, rtol=1e-6)


@pytest.mark.parametrize("side", [160, 256])
def test_scores_crops_of_any_multiple_of_32_in_unit_range_with_a_gradcam_map(
    detector, side: int  # type: ignore[no-untyped-def]
) -> None:
    out = detector.predict(normalise(_crops(3, side), detector.cfg), want_maps=True)
    assert out.p_fake.shape == (3,)
    assert np.all(np.isfinite(out.p_fake))
    assert np.all((out.p_fake >= 0) & (out.p_fake <= 1))
    assert out.maps is not None
    assert out.maps.shape == (3, side // 32, side // 32)
    assert np.all(np.isfinite(out.maps))
    assert out.maps.min() >= 0.0
    assert out.maps.max() <= 1.0


def test_the_map_is_the_gradcam_of_the_fake_logit(detector) -> None:  # type: ignore[no-untyped-def]
    net = detector.net.eval()
    x = torch.from_numpy(normalise(_crops(1, 160, seed=4), detector.cfg))
    features = net.forward_features(x).detach().requires_grad_(True)
    logit = net.forward_head(features)[0, 0]
    (grad,) = torch.autograd.grad(logit, features)
    weights = grad.mean(dim=(2, 3), keepdim=True)  # Grad-CAM channel weights
    gradcam = torch.relu((weights * features).sum(dim=1))
    with torch.no_grad():
        _, cam = net.forward_with_map(x)
    scale = features.shape[-1] * features.shape[-2]  # Grad-CAM = CAM / (h w) for a GAP head
    torch.testing.assert_close(gradcam * scale, torch.relu(cam), rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_onnx_export_matches_torch(detector, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("onnxruntime")
    from engine.runtime.export import export_net
    from engine.runtime.onnx_rt import OnnxRuntime

    path = export_net(detector.net, detector.cfg, tmp_path / "gan.onnx")
    batch = detector.preprocess(_crops(3, 256, seed=5))
    ort_logits, ort_map = OnnxRuntime(path.read_bytes(), threads=1).run(batch)
    with torch.inference_mode():
        logits, cam = detector.net.eval().forward_with_map(torch.from_numpy(batch))
    np.testing.assert_allclose(ort_logits, logits.numpy(), atol=1e-4)
    assert ort_map is not None
    np.testing.assert_allclose(ort_map, cam.numpy(), atol=1e-4)
