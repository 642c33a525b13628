"""The MRL video detector: runs on T-frame clips, masks exactly the fraction it says, exports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.detectors import registry  # noqa: E402
from engine.detectors.backbones import FeatureEncoder  # noqa: E402
from engine.detectors.relation import (  # noqa: E402
    RelationGraph,
    RelationNet,
    graph_conv,
    minimum_mask,
    random_mask,
)

N_HEADS = 4
OFF_DIAG = N_HEADS * (N_HEADS - 1)


@pytest.fixture(scope="module")
def detector():  # type: ignore[no-untyped-def]
    with torch.random.fork_rng():  # random weights only; no ImageNet checkpoint in tests
        torch.manual_seed(0)
        return registry.create_detector("relation_effl0")


def _clips(n: int, t: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, t, 256, 256, 3), dtype=np.uint8)


def test_cfg_declares_a_clip_model() -> None:
    cfg = registry.get_cfg("relation_effl0")
    assert cfg.clip_len == 8
    assert cfg.map_kind == "attention"
    assert registry.get_cfg("relation_effb4").variant == "full"


def test_scores_clips_of_t_frames_with_per_frame_region_maps(detector) -> None:  # type: ignore[no-untyped-def]
    cfg = detector.cfg
    batch = detector.preprocess(_clips(2, cfg.clip_len))
    assert batch.shape == (2, cfg.clip_len, 3, cfg.input_size, cfg.input_size)
    out = detector.predict(batch, want_maps=True)
    assert out.p_fake.shape == (2,)
    assert out.p_fake_raw.shape == (2,)
    assert np.all(np.isfinite(out.p_fake))
    assert np.all((out.p_fake >= 0) & (out.p_fake <= 1))
    side = cfg.input_size // 16
    assert out.maps is not None
    assert out.maps.shape == (2, cfg.clip_len, side, side)
    assert out.part_maps is not None
    assert out.part_maps.shape == (2, cfg.clip_len, N_HEADS, side, side)
    for maps in (out.maps, out.part_maps):
        assert np.all(np.isfinite(maps))
        assert maps.min() >= 0.0
        assert maps.max() <= 1.0


class _TinyEncoder(FeatureEncoder):
    """One strided conv: O(1) features, so frame-level effects are visible (a random-init
    Lite0 shrinks activations to ~1e-7 by stride 16)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 4, stride=4)
        self.channels = (8, 8, 8, 8)

    def forward(self, x):  # type: ignore[no-untyped-def]
        f = self.conv(x)
        return [f, f, f, f]

    def frozen_modules(self, n_stages: int) -> list:  # type: ignore[type-arg]
        return []


def test_the_clip_score_depends_on_every_frame_and_inference_is_deterministic() -> None:
    gen = torch.Generator().manual_seed(6)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = RelationNet(_TinyEncoder(), n_heads=N_HEADS, c_feat=16, d_graph=8).eval()
    x = torch.randn(1, 8, 3, 32, 32, generator=gen)
    with torch.inference_mode():
        reference = net(x)
        assert torch.equal(reference, net(x))  # no random masking without a generator
        for t in range(8):
            changed = x.clone()
            changed[:, t] = torch.randn(3, 32, 32, generator=gen)
            # NOTE: float32 rounding alone moves these ~0.2 logits by < 1e-7; the GRU damps
            # early frames (~0.5 per step at init), so frame 0 moves them by ~1e-5.
            assert (net(changed) - reference).abs().max() > 1e-6, f"frame {t} is ignored"


@pytest.mark.parametrize("fraction", [0.0, 0.25, 0.5, 0.75])
def test_minimum_masking_removes_exactly_the_weakest_fraction(fraction: float) -> None:
    weights = torch.rand(64, N_HEADS, N_HEADS, generator=torch.Generator().manual_seed(1))
    n_drop = round(fraction * OFF_DIAG)
    keep = minimum_mask(weights, n_drop)
    eye = torch.eye(N_HEADS, dtype=torch.bool)
    assert bool(keep[:, eye].all())  # self-loops are never masked
    removed = (~keep).sum(dim=(1, 2))
    assert torch.equal(removed, torch.full((64,), n_drop))
    if 0 < n_drop < OFF_DIAG:
        for w, k in zip(weights, keep, strict=True):
            assert w[~k].max() < w[k & ~eye].min()  # the dropped edges are the weakest


def test_minimum_masking_count_is_exact_even_with_ties() -> None:
    keep = minimum_mask(torch.full((3, N_HEADS, N_HEADS), 0.5), 6)
    assert torch.equal((~keep).sum(dim=(1, 2)), torch.full((3,), 6))


def test_random_masking_removes_the_chosen_fraction_of_edges() -> None:
    gen = torch.Generator().manual_seed(2)
    keep = random_mask(torch.Size((4000, N_HEADS, N_HEADS)), 0.4, gen, torch.device("cpu"))
    eye = torch.eye(N_HEADS, dtype=torch.bool)
    assert bool(keep[:, eye].all())
    removed = float((~keep[:, ~eye]).float().mean())
    assert abs(removed - 0.4) < 0.01  # 48,000 Bernoulli draws: sd 0.0022


def test_training_graphs_lose_half_their_edges_and_inference_only_the_weakest_quarter() -> None:
    graph = RelationGraph(16, 8, N_HEADS, min_mask=0.25, random_mask=1 / 3)
    regions = torch.randn(3000, N_HEADS, 16, generator=torch.Generator().manual_seed(3))
    eye = torch.eye(N_HEADS, dtype=torch.bool)
    with torch.no_grad():
        _, keep_eval = graph(regions)
        adjacency, keep_train = graph(regions, torch.Generator().manual_seed(4))
    assert float((~keep_eval[:, ~eye]).float().mean()) == pytest.approx(3 / 12)
    assert float((~keep_train[:, ~eye]).float().mean()) == pytest.approx(0.5, abs=0.01)
    off = adjacency[:, ~eye]
    assert bool((off[~keep_train[:, ~eye]] == 0).all())  # a masked edge has zero weight
    assert bool((adjacency[:, eye] == 1).all())


def test_a_masked_edge_carries_no_information() -> None:
    gen = torch.Generator().manual_seed(5)
    graph = RelationGraph(16, 8, N_HEADS, min_mask=0.5, random_mask=0.0)
    regions = torch.randn(1, N_HEADS, 16, generator=gen)
    with torch.no_grad():
        adjacency, keep = graph(regions)
    i, j = (int(v) for v in torch.nonzero(~keep[0])[0])
    x = torch.randn(1, N_HEADS, 8, generator=gen)
    x2 = x.clone()
    x2[0, j] += 100.0
    assert torch.allclose(graph_conv(x, adjacency)[0, i], graph_conv(x2, adjacency)[0, i])
    kept = [k for k in range(N_HEADS) if bool(keep[0, k, j]) and k != j]
    assert kept, "with half the edges masked some node still listens to j"
    assert not torch.allclose(graph_conv(x, adjacency)[0, kept[0]],
                              graph_conv(x2, adjacency)[0, kept[0]])


@pytest.mark.slow
def test_onnx_export_matches_torch_on_clips(detector, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("onnxruntime")
    from engine.runtime.export import export_net
    from engine.runtime.onnx_rt import OnnxRuntime

    path = export_net(detector.net, detector.cfg, tmp_path / "relation.onnx")
    batch = detector.preprocess(_clips(3, 8, seed=7))  # another batch size than the export
    ort_logits, ort_map = OnnxRuntime(path.read_bytes(), threads=1).run(batch)
    with torch.inference_mode():
        logits, attention = detector.net.eval().forward_with_map(torch.from_numpy(batch))
    np.testing.assert_allclose(ort_logits, logits.numpy(), atol=1e-4)
    assert ort_map is not None
    np.testing.assert_allclose(ort_map, attention.numpy(), atol=1e-4)
