"""The linear-probe generated-image detector (``gen_probe_effl0``): a frozen encoder, pooled
statistics, an exact map, ONNX parity at any tile size, and the training switches it needs
(one generator's pairs, ImageNet init, the card's tile policy)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.detectors import registry  # noqa: E402
from engine.detectors.gen_probe import GEN_PROBE_EFFL0, ProbeNet, pooled_stats  # noqa: E402
from engine.training.config_gen import GenTrainConfig  # noqa: E402
from engine.training.gen_pack import GenPack  # noqa: E402


def _net(seed: int = 0) -> ProbeNet:
    torch.manual_seed(seed)
    det = registry.create_detector("gen_probe_effl0", pretrained_backbone=False)
    net = det.net
    assert isinstance(net, ProbeNet)
    # NOTE: running statistics and weights that are not the defaults, so the map test means
    # something.
    with torch.no_grad():
        net.norm.running_mean.uniform_(-1.0, 1.0)  # type: ignore[operator]
        net.norm.running_var.uniform_(0.5, 2.0)  # type: ignore[operator]
        net.fc.weight.normal_()
    return net.eval()


def test_it_is_registered_as_a_native_tile_generated_image_detector() -> None:
    cfg = registry.get_cfg("gen_probe_effl0")
    assert cfg == GEN_PROBE_EFFL0
    assert cfg.input_mode == "native_tiles"
    assert cfg.looks_for == "generated"


def test_only_the_probe_learns_and_the_encoder_keeps_its_imagenet_statistics() -> None:
    net = _net()
    trainable = {n for n, p in net.named_parameters() if p.requires_grad}
    assert trainable == {"fc.weight", "fc.bias"}
    before = {k: v.clone() for k, v in net.encoder.state_dict().items()}
    net.train()
    assert not net.encoder.training
    assert net.norm.training
    net(torch.randn(4, 3, 64, 64)).sum().backward()
    for k, v in net.encoder.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)


def test_pooled_stats_are_each_taps_channel_means_then_standard_deviations() -> None:
    a = torch.randn(2, 3, 4, 5)
    b = torch.randn(2, 2, 2, 2)
    out = pooled_stats([a, b])
    expected = torch.cat([a.mean((2, 3)), a.std((2, 3), unbiased=False),
                          b.mean((2, 3)), b.std((2, 3), unbiased=False)], dim=1)
    torch.testing.assert_close(out, expected)


def test_the_map_is_the_last_taps_share_of_the_logit() -> None:
    net = _net(1)
    x = torch.randn(2, 3, 96, 128)
    with torch.no_grad():
        logits, cam = net.forward_with_map(x)
        feats = net.encoder(x)
        stats = pooled_stats(feats)
        c = feats[-1].shape[1]
        start = 2 * sum(f.shape[1] for f in feats[:-1])
        idx = slice(start, start + c)
        inv_sd = torch.rsqrt(net.norm.running_var[idx] + net.norm.eps)  # type: ignore[index]
        w = net.fc.weight[0, idx]
        share = ((stats[:, idx] - net.norm.running_mean[idx]) * inv_sd * w).sum(1)  # type: ignore[index]
        offset = (net.norm.running_mean[idx] * inv_sd * w).sum()  # type: ignore[index]
    assert cam.shape == (2, 3, 4)
    torch.testing.assert_close(cam.mean((1, 2)) - offset, share, rtol=1e-4, atol=1e-4)
    assert torch.isfinite(logits).all()


def test_onnx_export_matches_torch_at_other_tile_sizes(tmp_path: Path) -> None:
    from engine.runtime.export import export_net
    from engine.runtime.onnx_rt import OnnxRuntime

    net = _net(2)
    path = export_net(net, GEN_PROBE_EFFL0, tmp_path / "probe.onnx")
    runtime = OnnxRuntime(path.read_bytes(), threads=1)
    x = torch.randn(1, 3, 224, 320)
    logits, cam = runtime.run(x.numpy())
    with torch.no_grad():
        ref_logits, ref_cam = net.forward_with_map(x)
    np.testing.assert_allclose(logits, ref_logits.numpy(), atol=1e-4, rtol=1e-3)
    np.testing.assert_allclose(cam, ref_cam.numpy(), atol=1e-4, rtol=1e-3)


def _pack(root: Path, generators: list[str]) -> Path:
    rng = np.random.default_rng(0)
    chunk = root / "chunk_0000"
    chunk.mkdir(parents=True)
    n = len(generators)
    np.save(chunk / "real.npy", rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8))
    np.save(chunk / "fake.npy", rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8))
    records = [{"generator": g, "source": "utkface", "file": f"{k}.jpg"}
               for k, g in enumerate(generators)]
    (chunk / "pairs.json").write_text(json.dumps(records))
    (root / "plan.json").write_text(json.dumps({"config": {}}))
    (root / "DONE").write_text("")
    return root


def test_a_pack_can_be_read_as_one_generators_pairs(tmp_path: Path) -> None:
    root = _pack(tmp_path / "pack", ["a", "taef2", "b", "taef2"])
    whole, only = GenPack(root), GenPack(root, ("taef2",))
    assert len(whole) == 4
    assert len(only) == 2
    assert only.generators.tolist() == ["taef2", "taef2"]
    for i, j in ((0, 1), (1, 3)):
        for mine, theirs in zip(only.pair(i), whole.pair(j), strict=True):
            np.testing.assert_array_equal(mine, theirs)
    with pytest.raises(ValueError, match="no pairs of"):
        GenPack(root, ("stylegan",))


def test_the_tile_policy_of_a_config_is_checked() -> None:
    cfg = GenTrainConfig(detector="gen_probe_effl0", tile_policy={"tile_px": 256,
                                                                  "fixed_size": True})
    assert cfg.tile_policy["tile_px"] == 256
    with pytest.raises(ValueError, match="tile_policy"):
        GenTrainConfig(detector="gen_probe_effl0", tile_policy={"tile_side": 256})
    with pytest.raises(ValueError, match="top_fraction"):
        GenTrainConfig(detector="gen_probe_effl0", tile_policy={"top_fraction": 0.0})


def _net_like(base: ProbeNet, seed: int) -> ProbeNet:
    """Another probe on ``base``'s encoder: its own BatchNorm statistics and linear layer."""
    torch.manual_seed(seed)
    other = registry.create_detector("gen_probe_effl0", pretrained_backbone=False).net
    assert isinstance(other, ProbeNet)
    other.encoder.load_state_dict(base.encoder.state_dict())
    with torch.no_grad():
        other.norm.running_mean.uniform_(-2.0, 2.0)  # type: ignore[operator]
        other.norm.running_var.uniform_(0.2, 3.0)  # type: ignore[operator]
        other.fc.weight.normal_()
        other.fc.bias.fill_(0.7)
    return other.eval()


def test_two_probes_fold_exactly_into_one_with_the_mixed_logit() -> None:
    from engine.training.probe_merge import fold_probes

    a = _net(2)
    b = _net_like(a, 3)
    x = torch.randn(3, 3, 64, 96)
    with torch.no_grad():
        expected = 0.8 * a(x) + 1.7 * b(x) - 0.25
        merged = _net_like(a, 4)  # any probe: the folded state replaces all of it
        merged.load_state_dict(fold_probes(a, b, 0.8, 1.7, -0.25))
        got = merged(x)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)
    # a's normalisation is kept: only the linear layer differs
    torch.testing.assert_close(merged.norm.running_var, a.norm.running_var)
    assert not torch.allclose(merged.fc.weight, a.fc.weight)


def test_probes_on_different_encoders_are_refused() -> None:
    from engine.training.probe_merge import fold_probes

    a, b = _net(5), _net(6)
    with pytest.raises(ValueError, match="encoders differ"):
        fold_probes(a, b, 0.5, 0.5, 0.0)


def test_the_face_reading_is_the_same_network_counted_as_face_swap_evidence() -> None:
    face = registry.get_cfg("gen_probe_face_effl0")
    assert face.looks_for == "face_swap"
    assert GEN_PROBE_EFFL0.looks_for == "generated"
    same = ("input_size", "mean", "std", "input_mode", "output", "version", "weights_file",
            "onnx_file")
    assert all(getattr(face, k) == getattr(GEN_PROBE_EFFL0, k) for k in same)


def test_the_face_card_takes_the_source_weights_and_reads_faces_only() -> None:
    from engine.training.face_region_card import derive_face_card

    source = {"schema": 1, "cfg": {**json.loads(json.dumps(GEN_PROBE_EFFL0.to_dict())),
                                   "weights_sha256": "ab" * 32, "onnx_sha256": "cd" * 32,
                                   "calibration": [1.5, 0.2], "threshold": 0.9},
              "tile_policy": {"tile_px": 256, "score_faces": False}, "training": {"steps": 1}}
    card = derive_face_card(source, "gen_probe_face_effl0", "cmd")
    assert card["cfg"]["name"] == "gen_probe_face_effl0"
    assert card["cfg"]["looks_for"] == "face_swap"
    assert card["cfg"]["onnx_sha256"] == "cd" * 32
    assert card["cfg"]["calibration"] == [1.5, 0.2]
    assert card["tile_policy"] == {"tile_px": 256, "score_faces": True, "score_picture": False}
    assert card["derived_from"]["detector"] == "gen_probe_effl0"
    with pytest.raises(ValueError, match="not a native-tile detector"):
        derive_face_card({**source, "cfg": {**source["cfg"], "input_mode": "face_crop"}},
                         "gen_probe_face_effl0", "cmd")
    with pytest.raises(ValueError, match="not registered as"):
        derive_face_card({**source, "cfg": {**source["cfg"], "input_size": 192}},
                         "gen_probe_face_effl0", "cmd")

