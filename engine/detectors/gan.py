"""GAN-image detector (Wang et al., "CNN-generated images are surprisingly easy to spot... for
now", CVPR 2020).

A plain binary classifier trained on ONE family of generated images generalises to other CNN
generators when it is trained with blur and JPEG augmentation (``engine.synthesis.blur_jpeg``:
Gaussian blur sigma ~ U[0, 3] and JPEG quality ~ U{30..100}, each with p = 0.5), random crops
for training and no resizing at test time.

How we differ from the paper (docs/METHODS.md section 5, docs/MODELS_VIDEO_GAN.md):

- ``gan_effl0`` (shipped): EfficientNet-Lite0 with ImageNet weights instead of ResNet-50, trained
  on the 1,500 StyleGAN-style portraits of ``faces_gan`` against real face crops (UTKFace,
  CelebA, video frames) instead of 720k ProGAN LSUN images. Inputs are policy face crops
  (``engine.faces.crop``, 256 px) so ``input_size = 256`` means the crop reaches the network
  unresized; training uses random 224 px crops of them (the network is fully convolutional
  with global pooling, so train and test sizes may differ, as in the paper). The application
  scores whole pictures in native 256 px tiles (the card's ``tile_policy``,
  ``engine.runtime.tiles``): its face crops ranked other people's generated faces no better
  than chance on the dev bench (docs/MODELS_GEN.md).
- ``ganres_r50`` (full): the paper's ResNet-50 (random init: no offline ImageNet weights here);
  no weights are shipped.

Output: one logit ("sigmoid1", as the reference implementation). Explanation map: Grad-CAM of
that logit on the last feature map. The head is global average pooling + linear, so Grad-CAM
equals CAM exactly (the gradient of z = w . mean_xy(A) + b with respect to A_k is w_k / HW at
every pixel), hence Grad-CAM = ReLU(sum_k w_k A_k) up to a positive factor; the network outputs
that sum, so the ONNX graph gives the same map with no gradient.
"""

from __future__ import annotations

import torch
from torch import nn

from engine.detectors.backbones import FeatureEncoder
from engine.detectors.base import DetectorNet
from engine.detectors.lite_family import register_lite, shipped_lite_cfg
from engine.detectors.paper_scale import paper_scale_cfg, register_without_imagenet

__all__ = [
    "GANRES_R50",
    "GAN_EFFL0",
    "GAN_LICENSE",
    "GanNet",
    "ResNet50Encoder",
    "gan_effl0",
    "ganres_r50",
]

PAPER = ("Wang et al., CNN-generated images are surprisingly easy to spot... for now, "
         "CVPR 2020")

GAN_LICENSE = (
    "Weights trained on generated portraits ('Generated Photos' style, redistribution terms not "
    "documented: research use) against UTKFace and CelebA real faces (non-commercial research "
    "only; copyright stays with the photo owners) and real video frames (research demo use): "
    "research use only."
)


class ResNet50Encoder(FeatureEncoder):
    """torchvision ResNet-50 trunk (random init) tapped at strides 4, 8, 16 and 32."""

    def __init__(self) -> None:
        super().__init__()
        from torchvision.models import resnet50

        net = resnet50(weights=None)
        self.stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
        self.layers = nn.ModuleList([net.layer1, net.layer2, net.layer3, net.layer4])
        self.channels = (256, 512, 1024, 2048)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        feats = []
        for layer in self.layers:
            x = layer(x)
            feats.append(x)
        return feats

    def frozen_modules(self, n_stages: int) -> list[nn.Module]:
        if n_stages <= 0:
            return []
        return [self.stem, *self.layers[: min(n_stages, 4)]]


class GanNet(DetectorNet):
    """Encoder -> last feature map A -> global average pool -> dropout -> linear (1 logit)."""

    def __init__(self, encoder: FeatureEncoder, *, dropout: float = 0.2) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(encoder.channels[-1], 1)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The last convolutional feature map A, (N, C, h, w)."""
        return self.encoder(x)[-1]

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """The fake logit, (N, 1)."""
        return self.fc(self.dropout(features.mean(dim=(2, 3))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def class_activation(self, features: torch.Tensor) -> torch.Tensor:
        """CAM of the fake logit, (N, h, w): sum_k w_k A_k (the ReLU is applied downstream)."""
        return (features * self.fc.weight[0].view(1, -1, 1, 1)).sum(dim=1)

    def forward_with_map(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.forward_features(x)
        return self.forward_head(features), self.class_activation(features)


def _build(encoder: FeatureEncoder) -> GanNet:
    return GanNet(encoder)


# NOTE: 256 = CropPolicy().size with the full 0.25 margin: the policy crop is fed unresized.
GAN_EFFL0 = shipped_lite_cfg(
    "gan_effl0", map_kind="gradcam", looks_for="generated", input_size=256, output="sigmoid1",
    paper=PAPER, license=GAN_LICENSE,
)

GANRES_R50 = paper_scale_cfg(GAN_EFFL0, name="ganres_r50", input_size=256)


# GAN-image detector on EfficientNet-Lite0 at 256 px (the shipped CPU configuration).
gan_effl0 = register_lite(GAN_EFFL0, _build, head=True)

ganres_r50 = register_without_imagenet(
    GANRES_R50, lambda: _build(ResNet50Encoder()),
    refusal="no offline ImageNet weights for ResNet-50; pass weights=",
    summary="The paper's ResNet-50 classifier (random init; no shipped weights).")
