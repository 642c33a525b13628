"""The generated-image detector network: registry, NPR residual, any tile size, CAM, ONNX."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.detectors import registry  # noqa: E402
from engine.detectors.gen import GEN_NPRNET, npr_residual  # noqa: E402
from engine.runtime.cfg import DetectorCfg  # noqa: E402


def test_it_is_registered_as_a_native_tile_detector() -> None:
    assert "gen_nprnet" in registry.list_detectors("cpu")
    cfg = registry.get_cfg("gen_nprnet")
    assert cfg.input_mode == "native_tiles"
    assert DetectorCfg.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="from scratch"):
        registry.create_detector("gen_nprnet", pretrained_backbone=True)


def test_old_cards_without_input_mode_read_as_face_crops() -> None:
    data = registry.get_cfg("gan_effl0").to_dict()
    data.pop("input_mode")
    assert DetectorCfg.from_dict(data).input_mode == "face_crop"
    with pytest.raises(ValueError, match="input_mode"):
        DetectorCfg.from_dict({**data, "input_mode": "pixels"})


def test_npr_residual_is_each_pixel_minus_its_cells_top_left() -> None:
    x = torch.arange(2 * 3 * 5 * 7, dtype=torch.float32).reshape(2, 3, 5, 7) ** 1.5
    r = npr_residual(x)
    expected = x.clone()
    for i in range(5):
        for j in range(7):
            expected[:, :, i, j] -= x[:, :, i - i % 2, j - j % 2]
    torch.testing.assert_close(r, expected)
    flat = torch.ones(1, 3, 4, 4)
    assert float(npr_residual(flat).abs().max()) == 0.0


@pytest.mark.parametrize("hw", [(128, 128), (96, 96), (37, 300), (33, 33)])
def test_any_tile_size_gives_one_logit_and_a_cam_whose_mean_is_the_logit(
        hw: tuple[int, int]) -> None:
    torch.manual_seed(0)
    net = registry.create_detector("gen_nprnet").net.eval()
    x = torch.randn(2, 3, *hw)
    logits, cam = net.forward_with_map(x)
    assert logits.shape == (2, 1)
    assert cam.shape == (2, -(-hw[0] // 16), -(-hw[1] // 16))
    torch.testing.assert_close(cam.mean(dim=(1, 2)) + net.fc.bias, logits[:, 0], rtol=1e-4,
                               atol=1e-4)
    torch.testing.assert_close(net(x), logits)


@pytest.mark.slow
def test_onnx_export_takes_any_tile_size_and_matches_torch(tmp_path: Path) -> None:
    from engine.runtime.export import export_net
    from engine.runtime.onnx_rt import OnnxRuntime

    torch.manual_seed(1)
    detector = registry.create_detector("gen_nprnet")
    path = export_net(detector.net, GEN_NPRNET, tmp_path / "gen.onnx")
    runtime = OnnxRuntime(path.read_bytes(), threads=1)
    rng = np.random.default_rng(0)
    for shape in ((3, 3, 128, 128), (1, 3, 45, 301), (2, 3, 64, 80)):
        x = rng.normal(size=shape).astype(np.float32)
        logits, cam = runtime.run(x)
        with torch.inference_mode():
            ref_logits, ref_cam = detector.net.eval().forward_with_map(torch.from_numpy(x))
        np.testing.assert_allclose(logits, ref_logits.numpy(), atol=1e-4, rtol=1e-3)
        assert cam is not None
        np.testing.assert_allclose(cam, ref_cam.numpy(), atol=1e-4, rtol=1e-3)
