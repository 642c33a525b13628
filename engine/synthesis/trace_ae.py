"""Small generator-shaped autoencoders whose outputs carry CNN-generator upsampling traces.

AutoGAN (Zhang, Karaman & Chang, "Detecting and Simulating Artifacts in GAN Fake Images",
WIFS 2019) trains a CycleGAN-style generator to reproduce real images (L1 to the input plus an
adversarial PatchGAN loss); the reproduction carries the artefacts of the generator's
upsampling path, and serves as a fake to train a detector on. We train several of them that
differ only in the upsampler, so that the detector learns upsampling traces in general and not
one decoder's fingerprint (METHODS.md section 5b):

- ``tconv``: transposed convolution (kernel 4, stride 2): the checkerboard-prone DCGAN/ProGAN
  style;
- ``nearest``: nearest-neighbour x2 + 3x3 conv (StyleGAN2's and the latent decoders' style);
- ``bilinear``: bilinear x2 + 3x3 conv;
- ``pixelshuffle``: 3x3 conv to 4x channels + pixel shuffle (sub-pixel convolution).

The network is the CycleGAN ResNet generator made CPU-sized: 7x7 conv, two stride-2 convs,
residual blocks at 1/4 resolution, two upsampling stages, 7x7 conv, tanh, plus a skip at half
resolution (see :class:`TraceAutoencoder`). No normalisation layers: CycleGAN's instance norm
removes each image's channel means, which a translation network may drop but a reconstruction
must keep (L1 stalled at about 25 grey levels), and batch norm over 12 crops plateaued at
25 dB where the same network without it reached 28.5 dB after 300 steps (held-out UTKFace
crops, one CPU core). ``width`` 16 gives about 30 kMAC per output pixel, so
a 64 px crop trains in a few milliseconds per image on one CPU core. Images are RGB in
[-1, 1] (N, 3, H, W) with H and W multiples of 4; :func:`reconstruct_u8` handles any size.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import torch
from torch import nn

__all__ = ["UPSAMPLERS", "PatchDiscriminator", "TraceAutoencoder", "Upsampler", "reconstruct_u8"]

Upsampler = Literal["tconv", "nearest", "bilinear", "pixelshuffle"]
UPSAMPLERS: tuple[str, ...] = get_args(Upsampler)


def _act() -> nn.Module:
    return nn.ReLU(inplace=True)


def _upsample(kind: str, n_in: int, n_out: int) -> nn.Module:
    """One x2 upsampling stage from ``n_in`` to ``n_out`` channels (a ReLU follows)."""
    if kind == "tconv":
        return nn.ConvTranspose2d(n_in, n_out, 4, stride=2, padding=1)
    if kind in ("nearest", "bilinear"):
        up = (nn.Upsample(scale_factor=2, mode="nearest") if kind == "nearest"
              else nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False))
        return nn.Sequential(up, nn.Conv2d(n_in, n_out, 3, padding=1))
    if kind == "pixelshuffle":
        return nn.Sequential(nn.Conv2d(n_in, 4 * n_out, 3, padding=1), nn.PixelShuffle(2))
    raise ValueError(f"unknown upsampler {kind!r}; use one of {UPSAMPLERS}")


class _ResBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _act(),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class TraceAutoencoder(nn.Module):
    """CycleGAN-shaped autoencoder (downsampling x4, residual blocks, upsampling x4) with one
    skip connection at half resolution.

    The half-resolution encoder features join the decoder after its first upsampling, so the
    network only has to invent what a 2x super-resolution invents: every full-resolution pixel
    still comes out of the last upsampler (its trace is everywhere), but the reconstruction is
    sharp enough that "blurry" cannot stand in for "generated". Without the skip, 450 steps
    gave about 23 dB on a wrinkled face, with the wrinkles gone.

    Args:
        upsampler: how the decoder doubles the resolution (see the module docstring).
        width: channels at full resolution (x2 per downsampling).
        n_blocks: residual blocks at the bottleneck.
    """

    def __init__(self, upsampler: Upsampler, *, width: int = 16, n_blocks: int = 3) -> None:
        super().__init__()
        self.upsampler = upsampler
        w1, w2, w4 = width, 2 * width, 4 * width
        self.encoder = nn.Sequential(
            nn.ReflectionPad2d(3), nn.Conv2d(3, w1, 7), _act(),
            nn.Conv2d(w1, w2, 3, stride=2, padding=1), _act(),
        )
        self.bottleneck = nn.Sequential(
            nn.Conv2d(w2, w4, 3, stride=2, padding=1), _act(),
            *[_ResBlock(w4) for _ in range(n_blocks)],
            _upsample(upsampler, w4, w2), _act(),
        )
        self.decoder = nn.Sequential(
            nn.Conv2d(2 * w2, w2, 3, padding=1), _act(),
            _upsample(upsampler, w2, w1), _act(),
            nn.ReflectionPad2d(3), nn.Conv2d(w1, 3, 7), nn.Tanh(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) in [-1, 1] -> its reconstruction, same shape."""
        half = self.encoder(x)
        return self.decoder(torch.cat([half, self.bottleneck(half)], dim=1))


class PatchDiscriminator(nn.Module):
    """A small PatchGAN (pix2pix): one real/fake logit per overlapping patch of about 34 px."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),
            nn.InstanceNorm2d(2 * width, affine=True), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(2 * width, 2 * width, 4, stride=1, padding=1),
            nn.InstanceNorm2d(2 * width, affine=True), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(2 * width, 1, 4, stride=1, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@torch.inference_mode()
def reconstruct_u8(net: TraceAutoencoder, rgb_u8: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> its (H, W, 3) uint8 reconstruction by ``net`` (eval mode).

    The image is reflect-padded to multiples of 4 (the two stride-2 stages) and the padding
    cut off again, so the output is aligned pixel for pixel with the input.
    """
    h, w = rgb_u8.shape[:2]
    padded = np.pad(rgb_u8, ((0, -h % 4), (0, -w % 4), (0, 0)), mode="reflect")
    x = torch.from_numpy(np.ascontiguousarray(padded.transpose(2, 0, 1))).float()[None]
    y = net.eval()(x / 127.5 - 1.0)[0, :, :h, :w]
    return ((y + 1.0) * 127.5).round().clamp(0, 255).byte().permute(1, 2, 0).numpy()
