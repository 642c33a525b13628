"""Masked Relation Learning video detector (Yang et al., "Masked Relation Learning for DeepFake
Detection", IEEE TIFS 2023).

Face manipulation works frame by frame, so the relations between facial regions and how they
evolve over time carry the evidence. Per frame, N attention heads pick N regions of a feature
map and pool one vector per region (V^t, N x C); a relation graph links the regions; part of
its edges is masked to cut redundancy; a temporal graph network (a GCN on every frame's masked
graph feeding a graph GRU across the T frames) summarises the clip, and the last hidden state
is classified. Training adds the orthogonal diversity loss ||V^t V^t^T - I||^2 and the temporal
consistency loss ||V^{t+1} - V^t||^2 (``engine.training.losses_mrl``).

How we differ from the paper (docs/METHODS.md section 4, docs/MODELS_VIDEO_GAN.md):

- ``relation_effl0`` (shipped): EfficientNet-Lite0 (ImageNet weights) cut after its stride-16
  stage, at 160 px, T = 8 frames, N = 4 heads; trained on CPU for minutes on tracked real clips
  and T-frame pseudo-clips of stills, against temporal self-blends and donor blends
  (``engine.synthesis.temporal``), not on FF++.
- ``relation_effb4`` (full): EfficientNet-B4 at 320 px, T = 16, N = 8 (random init; no weights).
- Edge weights are the cosine similarity of learned projections of the region vectors, mapped
  to [0, 1]. Masking: "minimum" masking removes exactly ``round(min_mask * E)`` of the E
  off-diagonal edges, the weakest ones (a rank, not a threshold, so the fraction is exact and
  the ONNX graph has no data-dependent shapes); random masking removes each remaining edge with
  probability ``random_mask`` and is drawn only in ``forward_train`` from an injected
  ``torch.Generator`` (like dropout: off at inference). Defaults 0.25 and 1/3 remove 50% of the
  edges on average in training, the rate the paper found best. Self-loops are never masked;
  rows are normalised after masking.

Explanation map: the per-region attention, (N_clips, T, N_heads, h, w); the app shows each
frame's mean over heads and keeps the heads as part maps.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from engine.detectors.backbones import EfficientNetB4, EfficientNetLite, FeatureEncoder
from engine.detectors.base import DetectorNet
from engine.detectors.cfg import DATA_LICENSE
from engine.detectors.lite_family import register_lite, shipped_lite_cfg
from engine.detectors.paper_scale import paper_scale_cfg, register_without_imagenet

__all__ = [
    "RELATION_EFFB4",
    "RELATION_EFFL0",
    "GraphGruCell",
    "Lite0Stride16",
    "RegionAttention",
    "RelationGraph",
    "RelationNet",
    "graph_conv",
    "minimum_mask",
    "random_mask",
    "relation_effb4",
    "relation_effl0",
]

PAPER = "Yang et al., Masked Relation Learning for DeepFake Detection, IEEE TIFS 2023"
_EPS = 1e-6


class Lite0Stride16(FeatureEncoder):
    """EfficientNet-Lite0 up to its stride-16 stage (the stride-32 blocks are never computed).

    ``forward`` returns ``[f4, f8, f16, f16]`` so ``channels[-1]`` is the map the heads use.
    """

    def __init__(self, full: EfficientNetLite) -> None:
        super().__init__()
        self.stem = full.stem
        self.act = full.act
        self.variant = full.variant
        self.ends = full.taps[:3]  # the last block at strides 4, 8 and 16
        self.blocks = nn.ModuleList(full.blocks[: self.ends[-1] + 1])
        self.channels = (*full.channels[:3], full.channels[2])

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        if not torch.jit.is_tracing() and (x.shape[-1] % 32 or x.shape[-2] % 32):
            raise ValueError(f"EfficientNet-Lite{self.variant} input must be a multiple of 32; "
                             f"got {x.shape}")
        x = self.act(self.stem(x))
        feats = []
        for idx, block in enumerate(self.blocks):
            x = block(x)
            if idx in self.ends:
                feats.append(x)
        return [*feats, feats[-1]]

    def frozen_modules(self, n_stages: int) -> list[nn.Module]:
        if n_stages <= 0:
            return []
        last = self.ends[min(n_stages, 3) - 1]
        return [self.stem, *self.blocks[: last + 1]]


class RegionAttention(nn.Module):
    """Feature map -> N attention maps -> N region vectors (attention-weighted averages).

    Each head's map is a softmax over the h x w positions (it sums to 1: a region, not a
    gate). The pooled features are the signed BN outputs, not post-ReLU ones: averages of
    non-negative vectors all point into the same orthant, so the heads could never become
    orthogonal as the diversity loss asks.
    """

    def __init__(self, c_in: int, c_feat: int, n_heads: int) -> None:
        super().__init__()
        self.proj = nn.Sequential(nn.Conv2d(c_in, c_feat, 1, bias=False), nn.BatchNorm2d(c_feat))
        self.heads = nn.Conv2d(c_feat, n_heads, 1)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, C_in, h, w) -> region vectors (B, N, C_feat) and attention (B, N, h, w)."""
        feat = self.proj(features)
        logits = self.heads(F.relu(feat))
        attention = torch.softmax(logits.flatten(2), dim=-1).reshape(logits.shape)
        return torch.einsum("bnhw,bchw->bnc", attention, feat), attention


def minimum_mask(weights: torch.Tensor, n_drop: int) -> torch.Tensor:
    """Keep-mask (B, N, N) that removes the ``n_drop`` weakest off-diagonal edges per graph.

    Edges are ranked (ties broken by position), so exactly ``n_drop`` edges go, whatever the
    values; the diagonal (self-loops) is always kept.
    """
    b, n, _ = weights.shape
    # NOTE: float eye then compare: ONNX Runtime has no boolean EyeLike kernel.
    eye = torch.eye(n, dtype=weights.dtype, device=weights.device) > 0.5
    flat = weights.masked_fill(eye, float("inf")).reshape(b, n * n)
    idx = torch.arange(n * n, device=weights.device)
    before = (flat.unsqueeze(1) < flat.unsqueeze(2)) | (
        (flat.unsqueeze(1) == flat.unsqueeze(2)) & (idx.view(1, 1, -1) < idx.view(1, -1, 1))
    )
    rank = before.to(weights.dtype).sum(dim=2)
    return (rank >= n_drop).reshape(b, n, n)


def random_mask(shape: torch.Size, p_drop: float, generator: torch.Generator,
                device: torch.device) -> torch.Tensor:
    """Keep-mask that removes each off-diagonal edge with probability ``p_drop`` (Bernoulli)."""
    draw = torch.rand(shape, generator=generator, device=device)
    return (draw >= p_drop) | (torch.eye(shape[-1], device=device) > 0.5)


def graph_conv(x: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
    """Row-normalised propagation: node i receives sum_j A_ij x_j / sum_j A_ij."""
    return adjacency @ x / adjacency.sum(dim=-1, keepdim=True).clamp_min(_EPS)


class RelationGraph(nn.Module):
    """Edge weights between the N regions of one frame, with minimum and random masking."""

    def __init__(self, c_feat: int, d_rel: int, n_heads: int, *, min_mask: float,
                 random_mask: float) -> None:
        super().__init__()
        if not (0.0 <= min_mask < 1.0 and 0.0 <= random_mask < 1.0):
            raise ValueError("mask fractions must lie in [0, 1)")
        self.query = nn.Linear(c_feat, d_rel)
        self.key = nn.Linear(c_feat, d_rel)
        self.n_drop = round(min_mask * n_heads * (n_heads - 1))
        self.p_random = random_mask

    def forward(
        self, regions: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, N, C) -> adjacency (B, N, N) with self-loops and the keep-mask (B, N, N)."""
        q = F.normalize(self.query(regions), dim=-1)
        k = F.normalize(self.key(regions), dim=-1)
        weights = 0.5 * (1.0 + q @ k.transpose(1, 2))
        keep = minimum_mask(weights, self.n_drop)
        if generator is not None and self.p_random > 0.0:
            keep = keep & random_mask(weights.shape, self.p_random, generator, weights.device)
        eye = torch.eye(weights.shape[-1], dtype=weights.dtype, device=weights.device)
        adjacency = weights * keep.to(weights.dtype) * (1.0 - eye) + eye
        return adjacency, keep


class GraphGruCell(nn.Module):
    """T-GCN cell: GRU gates computed by graph convolutions over [x, h] (Zhao et al. 2019)."""

    def __init__(self, d_in: int, d_hidden: int) -> None:
        super().__init__()
        self.gates = nn.Linear(d_in + d_hidden, 2 * d_hidden)
        self.candidate = nn.Linear(d_in + d_hidden, d_hidden)

    def forward(self, x: torch.Tensor, h: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        """x (B, N, d_in), h (B, N, d_hidden) -> new h."""
        u, r = torch.sigmoid(graph_conv(self.gates(torch.cat([x, h], -1)), adjacency)).chunk(2, -1)
        c = torch.tanh(graph_conv(self.candidate(torch.cat([x, r * h], -1)), adjacency))
        return u * h + (1.0 - u) * c


class RelationNet(DetectorNet):
    """Clip (B, T, 3, S, S) -> regions per frame -> masked graphs -> GCN + graph GRU -> logits."""

    def __init__(self, encoder: FeatureEncoder, *, n_heads: int, c_feat: int = 128,
                 d_graph: int = 64, min_mask: float = 0.25, random_mask: float = 1 / 3) -> None:
        super().__init__()
        self.encoder = encoder
        self.regions = RegionAttention(encoder.channels[-1], c_feat, n_heads)
        self.relation = RelationGraph(c_feat, d_graph, n_heads, min_mask=min_mask,
                                      random_mask=random_mask)
        self.gcn = nn.Linear(c_feat, d_graph)
        self.cell = GraphGruCell(d_graph, d_graph)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(n_heads * d_graph, 2))
        self.n_heads = n_heads
        self.d_graph = d_graph

    def forward_train(
        self, x: torch.Tensor, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """``logits`` (B, 2), ``regions`` (B, T, N, C), ``attention`` (B, T, N, h, w) and
        ``keep`` (B, T, N, N); random masking only when ``generator`` is given."""
        if x.ndim != 5:
            raise ValueError(f"RelationNet expects (B, T, 3, S, S) clips; got {tuple(x.shape)}")
        b, t = x.shape[0], x.shape[1]
        features = self.encoder(x.flatten(0, 1))[-1]
        regions, attention = self.regions(features)
        regions = regions.reshape(b, t, self.n_heads, -1)
        attention = attention.reshape(b, t, self.n_heads, *attention.shape[-2:])
        h = regions.new_zeros(b, self.n_heads, self.d_graph)
        keeps = []
        for step in range(t):
            adjacency, keep = self.relation(regions[:, step], generator)
            node = F.relu(graph_conv(self.gcn(regions[:, step]), adjacency))
            h = self.cell(node, h, adjacency)
            keeps.append(keep)
        logits = self.classifier(h.flatten(1))
        return {"logits": logits, "regions": regions, "attention": attention,
                "keep": torch.stack(keeps, dim=1)}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_train(x)["logits"]

    def forward_with_map(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.forward_train(x)
        return out["logits"], out["attention"]


def _build(encoder: FeatureEncoder, n_heads: int) -> RelationNet:
    return RelationNet(encoder, n_heads=n_heads)


RELATION_EFFL0 = shipped_lite_cfg(
    "relation_effl0", map_kind="attention", looks_for="temporal", input_size=160, clip_len=8,
    paper=PAPER, license=DATA_LICENSE,
)

RELATION_EFFB4 = paper_scale_cfg(RELATION_EFFL0, name="relation_effb4", input_size=320,
                                 clip_len=16)


def _build_lite(full: EfficientNetLite) -> DetectorNet:
    return _build(Lite0Stride16(full), n_heads=4)


# MRL on EfficientNet-Lite0 (to stride 16) at 160 px, T = 8, N = 4 (shipped CPU config).
relation_effl0 = register_lite(RELATION_EFFL0, _build_lite)

relation_effb4 = register_without_imagenet(
    RELATION_EFFB4, lambda: _build(EfficientNetB4(), n_heads=8),
    refusal="no offline ImageNet weights for EfficientNet-B4; pass weights=",
    summary="MRL on EfficientNet-B4 at 320 px, T = 16, N = 8 (random init; no shipped "
            "weights).")
