"""Multi-attentional deepfake detector (Zhao et al., "Multi-attentional Deepfake Detection",
CVPR 2021).

Deepfake detection as fine-grained classification: M attention maps look at different local
regions; shallow textural features are pooled under each map (bilinear attention pooling) and
classified together with a deep global feature. Training adds the regional independence loss
and attention-guided data augmentation (``engine.training.losses`` / ``loop``).

Network, as in docs/METHODS.md section 3:

- attention module on a middle feature map (stride 16): 1x1 conv + BN + ReLU -> M maps A_k;
- textural feature enhancement on the shallow layer SL (stride 4): T = SL - D with D the local
  average (2x2 average pool, nearest upsample), then a densely connected block of three 3x3
  convs -> F;
- bilinear attention pooling with normalised average pooling: v_k = sum(F * A_k) / ||.||_2,
  P = (M, C); deep global feature G = BAP of the summed attention over the last feature map;
- classifier on [P, G].

How we differ: ``mat_effl0`` (shipped) uses EfficientNet-Lite0 (ImageNet weights) at 192 px,
M = 4 and a 16-channel dense block, and is trained on SBI/BI synthetic fakes (no FF++ fakes
here). ``mat_effb4`` (full) uses EfficientNet-B4 at 380 px and M = 8 (random init; no shipped
weights). Explanation map: the attention maps (the app shows their mean; ``part_maps`` keeps
all M).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from engine.detectors.backbones import EfficientNetB4, FeatureEncoder
from engine.detectors.base import DetectorNet, NetInput
from engine.detectors.cfg import DATA_LICENSE
from engine.detectors.lite_family import register_with_candidates, shipped_lite_cfg
from engine.detectors.paper_scale import paper_scale_cfg, register_without_imagenet

__all__ = ["MAT_EFFB4", "MAT_EFFL0", "MatNet", "bilinear_attention_pool", "mat_effb4", "mat_effl0"]

PAPER = "Zhao et al., Multi-attentional Deepfake Detection, CVPR 2021"
_EPS = 1e-6


def bilinear_attention_pool(features: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
    """BAP with normalised average pooling: (N, C, h, w) x (N, M, h', w') -> (N, M, C).

    Attention maps are resized to the feature size; v_k = sum_xy(F * A_k), L2-normalised.
    """
    # NOTE: resized unconditionally (a no-op at equal size) so the traced graph has no branch.
    attention = F.interpolate(attention, size=features.shape[-2:], mode="bilinear",
                              align_corners=False)
    pooled = torch.einsum("nmhw,nchw->nmc", attention, features)
    normalised: torch.Tensor = pooled / (pooled.norm(dim=2, keepdim=True) + _EPS)
    return normalised


class TextureEnhance(nn.Module):
    """T = SL - local average(SL), then a dense block of three 3x3 convs -> F."""

    def __init__(self, c_in: int, growth: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList()
        for i in range(3):
            self.layers.append(nn.Sequential(
                nn.Conv2d(c_in + i * growth, growth, 3, 1, 1, bias=False),
                nn.BatchNorm2d(growth), nn.ReLU(inplace=True),
            ))
        self.out_channels = c_in + 3 * growth

    def forward(self, shallow: torch.Tensor) -> torch.Tensor:
        local_avg = F.interpolate(F.avg_pool2d(shallow, 2), size=shallow.shape[-2:],
                                  mode="nearest")
        x = shallow - local_avg
        for layer in self.layers:
            x = torch.cat([x, layer(x)], dim=1)
        return x


class MatNet(DetectorNet):
    """Attention maps on stride-16 features, texture BAP on stride 4, global BAP on stride 32."""

    def __init__(self, encoder: FeatureEncoder, *, n_maps: int, growth: int) -> None:
        super().__init__()
        c4, _, c16, c32 = encoder.channels
        self.encoder = encoder
        self.attention = nn.Sequential(nn.Conv2d(c16, n_maps, 1, bias=False),
                                       nn.BatchNorm2d(n_maps), nn.ReLU())
        self.texture = TextureEnhance(c4, growth)
        c_tex = self.texture.out_channels
        self.local_proj = nn.Sequential(nn.Linear(n_maps * c_tex, 256), nn.Hardswish())
        self.classifier = nn.Sequential(nn.Linear(256 + c32, 256), nn.Hardswish(),
                                        nn.Dropout(0.2), nn.Linear(256, 2))
        self.n_maps = n_maps

    def forward_train(self, x: NetInput) -> dict[str, torch.Tensor]:
        """``logits``, ``attention`` (N, M, h, w) and ``parts`` (N, M, C): BAP textural features
        (the vectors the regional independence loss keeps apart)."""
        f4, _, f16, f32 = self.encoder(x)
        attention = self.attention(f16)
        parts = bilinear_attention_pool(self.texture(f4), attention)
        global_feat = bilinear_attention_pool(f32, attention.sum(dim=1, keepdim=True))[:, 0]
        local = self.local_proj(parts.flatten(1))
        logits = self.classifier(torch.cat([local, global_feat], dim=1))
        return {"logits": logits, "attention": attention, "parts": parts}

    def forward(self, x: NetInput) -> torch.Tensor:
        return self.forward_train(x)["logits"]

    def forward_with_map(self, x: NetInput) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.forward_train(x)
        return out["logits"], out["attention"]


MAT_EFFL0 = shipped_lite_cfg(
    "mat_effl0", map_kind="attention", looks_for="face_swap", paper=PAPER, license=DATA_LICENSE,
)

MAT_EFFB4 = paper_scale_cfg(MAT_EFFL0, name="mat_effb4", input_size=380)


def _build(encoder: FeatureEncoder, n_maps: int, growth: int) -> MatNet:
    return MatNet(encoder, n_maps=n_maps, growth=growth)


def _build_lite(encoder: FeatureEncoder) -> MatNet:
    return _build(encoder, n_maps=4, growth=16)


# MAT on EfficientNet-Lite0 at 192 px with M = 4 (the shipped CPU configuration), and issue 19's
# larger candidates (engine.detectors.lite_family).
mat_effl0 = register_with_candidates(MAT_EFFL0, _build_lite)

mat_effb4 = register_without_imagenet(
    MAT_EFFB4, lambda: _build(EfficientNetB4(), n_maps=8, growth=32),
    refusal="no offline ImageNet weights for EfficientNet-B4; pass weights=",
    summary="MAT on EfficientNet-B4 at 380 px with M = 8 (random init; no shipped weights).")
