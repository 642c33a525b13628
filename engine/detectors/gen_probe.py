"""Generated-image detector, third version: a linear probe on frozen ImageNet features of
native-resolution tiles (``gen_probe_effl0``).

What it builds on:

- Ojha et al., "Towards Universal Fake Image Detectors that Generalize Across Generative
  Models" (UnivFD), CVPR 2023: a network trained end to end on one generator's images learns
  that generator's trace and calls every other generator's pictures real; a *linear* probe on
  the frozen features of a network pretrained for something else keeps the decision in a
  space the fakes did not shape, and transfers to unseen generators far better.
- Wang et al., CVPR 2020, and Corvi et al., ICASSP 2023: score native-resolution tiles, never
  resized pictures.
- The training fakes are latent-decoder reconstructions of real pictures (TAEF2, aligned
  reconstructions as in DRCT, ICML 2024, and Rajan et al., ICLR 2025;
  ``engine.synthesis.traces``): no generated image made by anyone else is trained on.

Why: ``gen_nprnet``, trained end to end on the same reconstructions, separated them perfectly
and transferred to no other generator (docs/MODELS_GEN.md). Frozen EfficientNet-Lite0 ImageNet
features with a linear probe on the same pairs rank the dev bench's diffusion faces far better
than either trained detector, and their errors differ from ``gan_effl0``'s, whose mean with it
is the ``generated`` kind's evidence (docs/MODELS_GEN.md, "The linear probe"; Lite0 rather
than Lite2: the same figures there at a third of the cost a tile).

Network (``ProbeNet``): the frozen encoder's four taps (strides 4, 8, 16 and 32; the last is
the ImageNet 1x1 head, 1280 channels); for each, the mean and the standard deviation of every
channel over the tile (first- and second-order texture statistics: a decoder's trace shows in
both); a BatchNorm without affine parameters standardises the pooled vector (its running
statistics are the training set's, so the probe's weights are comparable across features);
one linear logit. Only the BatchNorm statistics and the linear layer are trained; the encoder's
parameters and BatchNorm statistics stay as ImageNet left them.

Explanation map: the part of the logit that is a spatial mean, the last tap's mean-pooled
terms, as a class activation map at stride 32 (the standard-deviation terms and the earlier
taps are not spatially decomposable and are not shown); at picture level the app shows the
probability of each tile (``engine.runtime.tiles``), which is the explanation to read.
"""

from __future__ import annotations

import torch
from torch import nn

from engine.detectors.backbones import EfficientNetLite
from engine.detectors.base import DetectorNet
from engine.detectors.gan import GAN_EFFL0
from engine.detectors.gen import gen_license
from engine.detectors.lite_family import register_lite

__all__ = [
    "GEN_PROBE_EFFL0",
    "GEN_PROBE_FACE_EFFL0",
    "ProbeNet",
    "gen_probe_effl0",
    "gen_probe_face_effl0",
    "pooled_stats",
]

PAPER = ("Ojha et al., CVPR 2023 (UnivFD: linear probe on frozen pretrained features); Wang "
         "et al., CVPR 2020; Corvi et al., ICASSP 2023 (native resolution); training fakes "
         "after aligned latent-decoder reconstructions (Rajan et al., ICLR 2025)")


def pooled_stats(feats: list[torch.Tensor]) -> torch.Tensor:
    """(N, 2 * sum C): per tap, the channel means then the channel standard deviations."""
    parts = []
    for a in feats:
        mean = a.mean(dim=(2, 3))
        var = (a - mean[:, :, None, None]).pow(2).mean(dim=(2, 3))
        parts += [mean, var.clamp_min(1e-12).sqrt()]
    return torch.cat(parts, dim=1)


class ProbeNet(DetectorNet):
    """Frozen encoder -> pooled channel statistics of every tap -> BatchNorm (no affine) ->
    linear (1 logit)."""

    def __init__(self, encoder: EfficientNetLite) -> None:
        super().__init__()
        self.encoder = encoder
        for p in encoder.parameters():
            p.requires_grad_(False)
        n_feat = 2 * sum(encoder.channels)
        self.norm = nn.BatchNorm1d(n_feat, affine=False)
        self.fc = nn.Linear(n_feat, 1)

    def train(self, mode: bool = True) -> ProbeNet:
        """Like ``nn.Module.train``, but the encoder (frozen, ImageNet statistics) stays in eval
        mode."""
        super().train(mode)
        self.encoder.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.norm(pooled_stats(self.encoder(x))))

    def forward_with_map(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats = self.encoder(x)
        logits = self.fc(self.norm(pooled_stats(feats)))
        last = feats[-1]
        c = last.shape[1]
        start = 2 * sum(f.shape[1] for f in feats[:-1])
        # NOTE: the BatchNorm divides the mean-pooled feature k by sqrt(var_k + eps); the CAM of
        # those terms is sum_k w_k / sqrt(var_k + eps) * A_k (their spatial mean is the terms'
        # share of the logit, up to the running means, which are constants).
        scale = torch.rsqrt(self.norm.running_var[start:start + c] + self.norm.eps)  # type: ignore[index,operator]
        weights = self.fc.weight[0, start:start + c] * scale
        return logits, (last * weights.view(1, -1, 1, 1)).sum(dim=1)


# NOTE: gan_effl0's input (256 px Lite tiles, the same normalisation), so both generated-image
# detectors see the same tiles of a picture.
GEN_PROBE_EFFL0 = GAN_EFFL0.replace(
    name="gen_probe_effl0",
    version="1",
    input_mode="native_tiles",
    weights_file="gen_probe_effl0.pt",
    onnx_file="gen_probe_effl0.onnx",
    paper=PAPER,
    license=gen_license("TAEF2 (MIT)"),
)


# Linear probe on frozen EfficientNet-Lite0 ImageNet features (with the 1280-channel head).
gen_probe_effl0 = register_lite(GEN_PROBE_EFFL0, ProbeNet, variant=0, head=True)


# NOTE: the same weights read on face regions only, as evidence of a FACE SWAP: a face made by a
# neural decoder inside a picture that is not. Its own name, kind and tile policy (the card's:
# face regions only), so the face-swap finding counts it and the generated one does not.
# Measured, not shipped (docs/MODELS_GEN.md, run 12); its card is made from the probe's by
# python -m engine.training.face_region_card.
GEN_PROBE_FACE_EFFL0 = GEN_PROBE_EFFL0.replace(
    name="gen_probe_face_effl0",
    looks_for="face_swap",
    paper=PAPER + "; read on face regions as face-swap evidence",
)
gen_probe_face_effl0 = register_lite(GEN_PROBE_FACE_EFFL0, ProbeNet, variant=0, head=True)
