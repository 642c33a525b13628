"""Training losses of the three face-swap detectors (kept out of the networks).

- SBI: cross-entropy over [real, fake].
- Face X-ray: 100 * BCE(predicted boundary map, B = 4 M (1 - M)) + CE (Li et al. 2020).
- MAT: CE + regional independence loss (Zhao et al. 2021): each attention region's textural
  feature V_ij is pulled to a per-region centre c_j within a label-dependent margin, and the
  centres are pushed apart by at least ``margin_inter`` (squared Euclidean distances).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["RegionalIndependenceLoss", "classification_loss", "xray_loss"]


def classification_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of (N, 2) logits against labels 0 = real, 1 = fake."""
    return F.cross_entropy(logits, labels)


def xray_loss(
    logits: torch.Tensor,
    map_logits: torch.Tensor,
    labels: torch.Tensor,
    xray_target: torch.Tensor,
    *,
    map_weight: float = 100.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Face X-ray loss: ``map_weight`` * BCE(map) + CE.

    Args:
        logits: (N, 2) class logits.
        map_logits: (N, h, w) boundary map before the sigmoid.
        labels: (N,) 0 = real, 1 = fake.
        xray_target: (N, h, w) target boundary in [0, 1] (zeros for real faces).
        map_weight: weight of the map term (the paper's 100).

    Returns:
        The loss and its parts (floats, for logging).
    """
    bce = F.binary_cross_entropy_with_logits(map_logits, xray_target)
    ce = F.cross_entropy(logits, labels)
    return map_weight * bce + ce, {"bce_map": float(bce.detach()), "ce": float(ce.detach())}


class RegionalIndependenceLoss(nn.Module):
    """RIL over BAP features ``parts`` (N, M, C); holds the region centres (M, C).

    Args:
        n_maps: M, attention regions.
        channels: C, feature width per region.
        alpha: centre update rate: c <- c + alpha (mean_batch V - c).
        margin_real: intra-class margin m_in for real faces (squared distance).
        margin_fake: m_in for fake faces.
        margin_inter: m_out between centres (squared distance).
    """

    centres: torch.Tensor
    initialised: torch.Tensor

    def __init__(
        self,
        n_maps: int,
        channels: int,
        *,
        alpha: float = 0.05,
        margin_real: float = 0.05,
        margin_fake: float = 0.1,
        margin_inter: float = 0.2,
    ) -> None:
        super().__init__()
        self.register_buffer("centres", torch.zeros(n_maps, channels))
        self.register_buffer("initialised", torch.zeros((), dtype=torch.bool))
        self.alpha = alpha
        self.margins = (margin_real, margin_fake)
        self.margin_inter = margin_inter

    def forward(self, parts: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The loss on this batch; updates the centres (no gradient flows into them)."""
        batch_mean = parts.mean(dim=0)
        if not bool(self.initialised):
            self.centres.copy_(batch_mean.detach())
            self.initialised.fill_(True)
        # The updated centres carry the batch mean's gradient for this step (as in the
        # authors' code); only their detached value is stored.
        centres = self.centres + self.alpha * (batch_mean - self.centres)
        margin = torch.where(labels == 1, self.margins[1], self.margins[0]).to(parts.dtype)
        dist_in = (parts - centres.unsqueeze(0)).pow(2).sum(dim=2)  # (N, M)
        intra = F.relu(dist_in - margin.unsqueeze(1)).sum(dim=1).mean()
        dist_c = (centres.unsqueeze(0) - centres.unsqueeze(1)).pow(2).sum(dim=2)  # (M, M)
        off_diag = ~torch.eye(centres.shape[0], dtype=torch.bool, device=parts.device)
        inter = F.relu(self.margin_inter - dist_c[off_diag]).sum()
        self.centres.copy_(centres.detach())
        return intra + inter

    def decay_alpha(self, factor: float) -> None:
        """Multiply the centre update rate by ``factor`` (once per epoch in the paper)."""
        self.alpha *= factor
