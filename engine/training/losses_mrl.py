"""Training losses of the Masked Relation Learning video detector (Yang et al., TIFS 2023).

Loss = CE + ``od_weight`` * L_od + ``tc_weight`` * L_tc, on the region vectors V^t (N x C per
frame) that ``RelationNet.forward_train`` returns:

- orthogonal diversity L_od = mean_t ||V^t V^t^T - I||_F^2 / N^2 with the rows of V^t
  L2-normalised, so different heads describe different regions;
- temporal consistency L_tc = mean_t sum_n ||v_n^{t+1} - v_n^t||^2 / N (normalised rows), so
  each head keeps following its own region from frame to frame.

Rows are normalised because the paper's terms compare directions (an identity Gram matrix only
makes sense for unit vectors); without it L_od could be lowered by shrinking the features.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

__all__ = ["mrl_loss", "orthogonal_diversity_loss", "temporal_consistency_loss"]


def orthogonal_diversity_loss(regions: torch.Tensor) -> torch.Tensor:
    """L_od of region vectors (B, T, N, C): 0 when the N heads are mutually orthogonal."""
    v = F.normalize(regions, dim=-1)
    gram = v @ v.transpose(-1, -2)
    eye = torch.eye(v.shape[-2], dtype=v.dtype, device=v.device)
    return (gram - eye).pow(2).mean()


def temporal_consistency_loss(regions: torch.Tensor) -> torch.Tensor:
    """L_tc of region vectors (B, T, N, C): 0 when every head's vector is constant in time.

    Raises:
        ValueError: fewer than two frames.
    """
    if regions.shape[1] < 2:
        raise ValueError("temporal consistency needs at least two frames")
    v = F.normalize(regions, dim=-1)
    return (v[:, 1:] - v[:, :-1]).pow(2).sum(dim=-1).mean()


def mrl_loss(
    out: dict[str, torch.Tensor], labels: torch.Tensor, *, od_weight: float, tc_weight: float
) -> tuple[torch.Tensor, dict[str, float]]:
    """CE on ``out["logits"]`` plus the weighted region terms; returns the loss and its parts."""
    ce = F.cross_entropy(out["logits"], labels)
    od = orthogonal_diversity_loss(out["regions"])
    tc = temporal_consistency_loss(out["regions"])
    total = ce + od_weight * od + tc_weight * tc
    return total, {"ce": float(ce.detach()), "od": float(od.detach()), "tc": float(tc.detach())}
