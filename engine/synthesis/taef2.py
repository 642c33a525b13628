"""TAEF2: the tiny autoencoder that approximates the FLUX.2 image VAE, in our own code.

Training fakes for the generated-image detector (``engine.synthesis.traces``): encode a real
photo to the 32-channel latent (8x smaller) and decode it again. The result differs from the
photo only by what a latent-diffusion decoder makes up (its nearest-neighbour + conv upsampling
and its texture prior), the idea behind "aligned" fakes (DRCT, ICML 2024; Rajan et al.,
ICLR 2025).

Architecture, as described in ``taesd.py`` of madebyollin/taesd (commit ``5cccb12``, MIT, the
commit the weights in ``../shared/models/taef2`` come from): 3x3 convolutions and residual
blocks of three 3x3 convolutions (ReLU between, 1x1 skip when the width changes, ReLU after the
sum); the encoder halves the size three times with stride-2 convolutions, the decoder doubles it
three times with nearest upsampling followed by a 3x3 convolution. The FLUX.2 variant adds, in
the three blocks nearest the latent, a global branch (1x1 conv to 4x width, GroupNorm with 4
groups, ReLU, 1x1 conv back) added to the block input. The decoder squashes its latent input
with ``3 * tanh(z / 3)``. Images are RGB in [0, 1]. The layers are kept in ``nn.Sequential``
order so that the published state dicts load with their own keys, strictly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from engine.runtime.weights import sha256_file

__all__ = [
    "TAEF2_DECODER_SHA256",
    "TAEF2_ENCODER_SHA256",
    "Taef2",
    "Taef2Block",
    "load_taef2",
    "taef2_decoder",
    "taef2_encoder",
]

# NOTE: the hashes listed in ../shared/models/README.md; a different file is refused.
TAEF2_ENCODER_SHA256 = "10a4e1021e89d7551eaf161352da8dbd0b1aa83872ae28b150c1df1ce2f147b6"
TAEF2_DECODER_SHA256 = "0a44a31e1ae59eb9dbf9359d24942fd3ef5928162c1800d97a28c61d51be0ab5"
LATENT_CHANNELS = 32
WIDTH = 64


def _conv(n_in: int, n_out: int, *, stride: int = 1, bias: bool = True) -> nn.Conv2d:
    return nn.Conv2d(n_in, n_out, 3, stride=stride, padding=1, bias=bias)


class _SoftClamp(nn.Module):
    """``3 * tanh(z / 3)``: keeps latents in (-3, 3) without a hard cut."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(z / 3.0) * 3.0


class Taef2Block(nn.Module):
    """Residual block of three 3x3 convs; ``global_branch`` adds FLUX.2's GroupNorm branch."""

    def __init__(self, width: int, *, global_branch: bool = False) -> None:
        super().__init__()
        self.conv = nn.Sequential(_conv(width, width), nn.ReLU(), _conv(width, width), nn.ReLU(),
                                  _conv(width, width))
        self.skip = nn.Identity()
        self.fuse = nn.ReLU()
        self.pool: nn.Module | None = None
        if global_branch:
            wide = 4 * width
            self.pool = nn.Sequential(nn.Conv2d(width, wide, 1, bias=False), nn.GroupNorm(4, wide),
                                      nn.ReLU(inplace=True), nn.Conv2d(wide, width, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pool is not None:
            x = x + self.pool(x)
        return self.fuse(self.conv(x) + self.skip(x))


def _blocks(n: int, *, global_branch: bool = False) -> list[nn.Module]:
    return [Taef2Block(WIDTH, global_branch=global_branch) for _ in range(n)]


def taef2_encoder() -> nn.Sequential:
    """RGB [0, 1] (N, 3, H, W) -> latent (N, 32, H/8, W/8)."""
    layers: list[nn.Module] = [_conv(3, WIDTH), *_blocks(1)]
    for level in range(3):
        layers.append(_conv(WIDTH, WIDTH, stride=2, bias=False))
        layers += _blocks(3, global_branch=level == 2)
    layers.append(_conv(WIDTH, LATENT_CHANNELS))
    return nn.Sequential(*layers)


def taef2_decoder() -> nn.Sequential:
    """Latent (N, 32, h, w) -> RGB (N, 3, 8h, 8w), unclamped."""
    layers: list[nn.Module] = [_SoftClamp(), _conv(LATENT_CHANNELS, WIDTH), nn.ReLU()]
    for level in range(3):
        layers += _blocks(3, global_branch=level == 0)
        layers += [nn.Upsample(scale_factor=2, mode="nearest"), _conv(WIDTH, WIDTH, bias=False)]
    layers += [*_blocks(1), _conv(WIDTH, 3)]
    return nn.Sequential(*layers)


class Taef2(nn.Module):
    """Encoder + decoder; :meth:`reconstruct` is what the fake-making uses."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = taef2_encoder()
        self.decoder = taef2_decoder()

    def forward(self, rgb01: torch.Tensor) -> torch.Tensor:
        """Encode and decode (N, 3, H, W) in [0, 1]; H and W must be multiples of 8."""
        return self.decoder(self.encoder(rgb01)).clamp(0.0, 1.0)

    @torch.inference_mode()
    def reconstruct(self, rgb_u8: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 -> its (H, W, 3) uint8 reconstruction.

        The image is edge-padded to multiples of 8 and the padding cut off again, so any size
        works and the output is aligned pixel for pixel with the input.
        """
        h, w = rgb_u8.shape[:2]
        pad_h, pad_w = -h % 8, -w % 8
        padded = np.pad(rgb_u8, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
        x = torch.from_numpy(np.ascontiguousarray(padded.transpose(2, 0, 1))).float()[None] / 255.0
        y = self.forward(x)[0, :, :h, :w]
        return (y * 255.0).round().byte().permute(1, 2, 0).numpy()


def _load_checked(module: nn.Module, path: Path, sha256: str) -> None:
    actual = sha256_file(path)
    if actual != sha256:
        raise ValueError(f"{path}: SHA-256 {actual} is not the TAEF2 weight file {sha256}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    module.load_state_dict(state, strict=True)


def load_taef2(folder: Path) -> Taef2:
    """TAEF2 with the published weights from ``folder`` (``taef2_{encoder,decoder}.pth``).

    Raises:
        FileNotFoundError: a weight file is missing.
        ValueError: a file is not the published one (SHA-256), or does not fit the network.
    """
    net = Taef2()
    _load_checked(net.encoder, Path(folder) / "taef2_encoder.pth", TAEF2_ENCODER_SHA256)
    _load_checked(net.decoder, Path(folder) / "taef2_decoder.pth", TAEF2_DECODER_SHA256)
    return net.eval()
