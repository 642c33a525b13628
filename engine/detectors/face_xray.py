"""Face X-ray detector (Li et al., "Face X-ray for More General Face Forgery Detection",
CVPR 2020).

A forged face is a blend of two sources; the network predicts the blending boundary
B = 4 M (1 - M) as a 64x64 map (all zeros for a real face) and classifies the face from the
features that produce the map. Trained on self-blended (SBI) and donor-blended (BI) faces with
loss 100 * BCE(map) + CE (see ``engine.training.losses``).

How we differ from the paper (docs/METHODS.md section 2):

- ``xray_effl0`` (shipped): EfficientNet-Lite0 encoder (ImageNet weights) at 192 px with a light
  multi-scale decoder: the stride 4/8/16/32 features are projected to 32 channels, upsampled to
  stride 4 and summed, fused by a depthwise-separable 3x3 block and projected to one channel,
  then resized to 64x64. The paper's HRNet-W48 at 256 px gives the map at 1/4 resolution directly.
- ``xray_hrnet18`` (full): an HRNet-W18-style encoder (four parallel resolutions exchanging
  information, random init) at 256 px, so stride 4 is exactly 64x64, with the same head.
  No weights are shipped.

Classification: global average pooling of the fused decoder features and of the deepest
features, then a linear layer (the paper classifies from the map via pooling + linear).
Explanation map: the predicted boundary map itself (a per-pixel probability).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from engine.detectors.backbones import FeatureEncoder, HRNetStyle
from engine.detectors.base import DetectorNet, NetInput
from engine.detectors.cfg import DATA_LICENSE
from engine.detectors.lite_family import register_with_candidates, shipped_lite_cfg
from engine.detectors.paper_scale import paper_scale_cfg, register_without_imagenet

__all__ = ["MAP_SIZE", "XRAY_EFFL0", "XRAY_HRNET18", "XrayNet", "xray_effl0", "xray_hrnet18"]

PAPER = "Li et al., Face X-ray for More General Face Forgery Detection, CVPR 2020"
MAP_SIZE = 64


def _conv_bn_relu(c_in: int, c_out: int, k: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, 1, k // 2, bias=False), nn.BatchNorm2d(c_out),
                         nn.ReLU(inplace=True))


class BoundaryDecoder(nn.Module):
    """Multi-scale features -> fused stride-4 features and a one-channel boundary logit map.

    Each scale is projected to ``width`` channels (1x1), upsampled to stride 4 and summed
    (FPN-style), then fused by a depthwise-separable 3x3 block. NOTE: a concatenation + dense
    3x3 fusion at stride 4 would cost more than the whole Lite0 encoder on a CPU.
    """

    def __init__(self, channels: tuple[int, ...], *, width: int = 32) -> None:
        super().__init__()
        self.lateral = nn.ModuleList(_conv_bn_relu(c, width, 1) for c in channels)
        self.fuse = nn.Sequential(
            nn.Conv2d(width, width, 3, 1, 1, groups=width, bias=False), nn.BatchNorm2d(width),
            nn.ReLU(inplace=True), _conv_bn_relu(width, width, 1),
        )
        self.to_map = nn.Conv2d(width, 1, 1)
        self.fused_channels = width

    def forward(self, feats: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        size = feats[0].shape[-2:]
        acc = self.lateral[0](feats[0])
        for lateral, f in zip(self.lateral[1:], feats[1:], strict=True):
            acc = acc + F.interpolate(lateral(f), size=size, mode="bilinear", align_corners=False)
        fused = self.fuse(acc)
        return fused, self.to_map(fused)


class XrayNet(DetectorNet):
    """Encoder + boundary decoder (64x64 map) + classifier on pooled features."""

    def __init__(self, encoder: FeatureEncoder, *, map_size: int = MAP_SIZE) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = BoundaryDecoder(encoder.channels)
        self.fc = nn.Linear(self.decoder.fused_channels + encoder.channels[-1], 2)
        self.map_size = map_size

    def forward_train(self, x: NetInput) -> dict[str, torch.Tensor]:
        """``logits`` (N, 2) and ``map_logits`` (N, 64, 64), the boundary before the sigmoid."""
        feats = self.encoder(x)
        fused, map_logits = self.decoder(feats)
        pooled = torch.cat([fused.mean(dim=(2, 3)), feats[-1].mean(dim=(2, 3))], dim=1)
        map_logits = F.interpolate(map_logits, size=(self.map_size, self.map_size),
                                   mode="bilinear", align_corners=False)
        return {"logits": self.fc(pooled), "map_logits": map_logits[:, 0]}

    def forward(self, x: NetInput) -> torch.Tensor:
        return self.forward_train(x)["logits"]

    def forward_with_map(self, x: NetInput) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.forward_train(x)
        return out["logits"], torch.sigmoid(out["map_logits"])


def _build(encoder: FeatureEncoder) -> XrayNet:
    return XrayNet(encoder)


XRAY_EFFL0 = shipped_lite_cfg(
    "xray_effl0", map_kind="xray", looks_for="face_swap", paper=PAPER, license=DATA_LICENSE,
)

XRAY_HRNET18 = paper_scale_cfg(XRAY_EFFL0, name="xray_hrnet18", input_size=256)


# Face X-ray on EfficientNet-Lite0 at 192 px (the shipped CPU configuration), and issue 19's
# larger candidates (engine.detectors.lite_family).
xray_effl0 = register_with_candidates(XRAY_EFFL0, _build)

xray_hrnet18 = register_without_imagenet(
    XRAY_HRNET18, lambda: _build(HRNetStyle(width=18)),
    refusal="no offline ImageNet weights for HRNet; pass weights=",
    summary="Face X-ray on an HRNet-W18-style encoder at 256 px (random init; no shipped "
            "weights).")
