"""Attention-guided data augmentation (AGDA) of MAT (Zhao et al., CVPR 2021).

One attention map per image (chosen at random) is min-max normalised, resized to the image, and
used to mix the image with a heavily blurred copy: I * (1 - A) + I_d * A, where I_d is the image
downscaled by 0.3, Gaussian-blurred (sigma 7) and scaled back. The network must then find
evidence outside the region it relied on most, which spreads the attention over the face.
Works on the normalised network input; randomness from an injected ``torch.Generator``.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

__all__ = ["agda", "gaussian_blur"]

_EPS = 1e-6


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (N, C, H, W) with reflect padding (radius 3 sigma)."""
    radius = max(1, round(3.0 * sigma))
    radius = min(radius, min(x.shape[-2:]) - 1)
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    kernel = torch.exp(-0.5 * (t / sigma) ** 2)
    kernel = kernel / kernel.sum()
    c = x.shape[1]
    kx = kernel.view(1, 1, 1, -1).repeat(c, 1, 1, 1)
    ky = kernel.view(1, 1, -1, 1).repeat(c, 1, 1, 1)
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="reflect"), kx, groups=c)
    return F.conv2d(F.pad(x, (0, 0, radius, radius), mode="reflect"), ky, groups=c)


def agda(
    images: torch.Tensor,
    attention: torch.Tensor,
    generator: torch.Generator,
    *,
    down_scale: float = 0.3,
    sigma: float = 7.0,
) -> torch.Tensor:
    """AGDA of a batch.

    Args:
        images: (N, C, H, W) network inputs.
        attention: (N, M, h, w) attention maps (detached).
        generator: chooses the map per image.
        down_scale: downscale factor of the blurred copy.
        sigma: Gaussian sigma (pixels of the downscaled copy).

    Returns:
        (N, C, H, W) augmented images.
    """
    n, m = attention.shape[:2]
    pick = torch.randint(0, m, (n,), generator=generator)
    chosen = attention.detach()[torch.arange(n), pick].unsqueeze(1)  # (N, 1, h, w)
    lo = chosen.amin(dim=(2, 3), keepdim=True)
    hi = chosen.amax(dim=(2, 3), keepdim=True)
    weight = (chosen - lo) / (hi - lo + _EPS)
    weight = F.interpolate(weight, size=images.shape[-2:], mode="bilinear", align_corners=False)
    small = F.interpolate(images, scale_factor=down_scale, mode="bilinear", align_corners=False,
                          antialias=True)
    blurred = F.interpolate(gaussian_blur(small, sigma), size=images.shape[-2:],
                            mode="bilinear", align_corners=False)
    return images * (1.0 - weight) + blurred * weight
