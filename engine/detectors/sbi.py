"""Self-Blended Images detector (Shiohara & Yamasaki, "Detecting Deepfakes with Self-Blended
Images", CVPR 2022).

A binary classifier trained on real faces and their self-blended twins (synthesis in
``engine.synthesis``), so it learns generic blending artefacts rather than one generator.

How we differ from the paper (see docs/METHODS.md section 1):

- ``sbi_effl0`` (shipped): EfficientNet-Lite0 with ImageNet weights at 192 px instead of
  EfficientNet-B4 at 380 px, trained with Adam for minutes on 2 CPU cores instead of SAM for
  100 epochs on a GPU; real faces from UTKFace/CelebA instead of FF++ frames.
- ``sbi_effb4`` (full): the paper's EfficientNet-B4 at 380 px, random init (no offline ImageNet
  weights here); for users with a GPU and their own training run. No weights are shipped.

Explanation map: Grad-CAM of the fake log-odds on the last convolutional block. The head is
global average pooling + linear, so Grad-CAM equals CAM exactly: the gradient of
z = (w_fake - w_real) . mean_xy(A) + b with respect to A_k is (w_fake - w_real)_k / HW at every
pixel, hence Grad-CAM = ReLU(sum_k (w_fake - w_real)_k A_k) up to a positive factor. We compute
that sum inside the network, so the ONNX graph outputs the same map with no gradient at all.
"""

from __future__ import annotations

import torch
from torch import nn

from engine.detectors.backbones import EfficientNetB4, FeatureEncoder
from engine.detectors.base import DetectorNet, NetInput
from engine.detectors.cfg import DATA_LICENSE
from engine.detectors.lite_family import register_with_candidates, shipped_lite_cfg
from engine.detectors.paper_scale import paper_scale_cfg, register_without_imagenet

__all__ = ["SBI_EFFB4", "SBI_EFFL0", "SbiNet", "sbi_effb4", "sbi_effl0"]

PAPER = "Shiohara & Yamasaki, Detecting Deepfakes with Self-Blended Images, CVPR 2022"


class SbiNet(DetectorNet):
    """Encoder -> last feature map A -> global average pool -> dropout -> linear (2 logits)."""

    def __init__(self, encoder: FeatureEncoder, *, dropout: float = 0.2) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(encoder.channels[-1], 2)

    def forward_features(self, x: NetInput) -> torch.Tensor:
        """The last convolutional feature map A, (N, C, h, w)."""
        features: torch.Tensor = self.encoder(x)[-1]
        return features

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """Logits of [real, fake] from A."""
        logits: torch.Tensor = self.fc(self.dropout(features.mean(dim=(2, 3))))
        return logits

    def forward(self, x: NetInput) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def class_activation(self, features: torch.Tensor) -> torch.Tensor:
        """CAM of the fake log-odds, (N, h, w): sum_k (w_fake - w_real)_k A_k (no ReLU yet)."""
        w = (self.fc.weight[1] - self.fc.weight[0]).view(1, -1, 1, 1)
        return (features * w).sum(dim=1)

    def forward_with_map(self, x: NetInput) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.forward_features(x)
        return self.forward_head(features), self.class_activation(features)


def _build(encoder: FeatureEncoder) -> SbiNet:
    return SbiNet(encoder)


SBI_EFFL0 = shipped_lite_cfg(
    "sbi_effl0", map_kind="gradcam", looks_for="face_swap", paper=PAPER, license=DATA_LICENSE,
)

SBI_EFFB4 = paper_scale_cfg(SBI_EFFL0, name="sbi_effb4", input_size=380)


# SBI on EfficientNet-Lite0 at 192 px (the shipped CPU configuration), and issue 19's larger
# candidates (engine.detectors.lite_family).
sbi_effl0 = register_with_candidates(SBI_EFFL0, _build, head=True)

sbi_effb4 = register_without_imagenet(
    SBI_EFFB4, lambda: _build(EfficientNetB4()),
    refusal="no offline ImageNet weights for EfficientNet-B4; pass weights=",
    summary="SBI on EfficientNet-B4 at 380 px, as published (random init; no shipped weights).")
