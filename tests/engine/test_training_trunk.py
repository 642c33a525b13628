"""The frozen trunk in ONNX Runtime feeds the encoder the same features torch computes."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from engine.detectors import registry  # noqa: E402
from engine.training.trunk import OnnxTrunk  # noqa: E402


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sbi_effl0", "xray_effl0", "mat_effl0"])
def test_onnx_trunk_then_torch_tail_equals_the_torch_network(name: str) -> None:
    torch.manual_seed(0)
    net = registry.create_detector(name).net.eval()
    net.freeze_backbone_stages(3)
    trunk = OnnxTrunk(net.encoder, 3, 64, threads=1)
    x = torch.randn(3, 3, 64, 64)  # batch 3: the trunk was traced with 2
    with torch.inference_mode():
        want = net.forward_with_map(x)
        have = net.forward_with_map(trunk(x.numpy()))
    for a, b in zip(have, want, strict=True):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-3)


def test_the_trunk_covers_one_to_three_stride_groups() -> None:
    encoder = registry.create_detector("sbi_effl0").net.encoder
    with pytest.raises(ValueError, match="1 to 3"):
        encoder.trunk(4)
