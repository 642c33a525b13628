"""WiSE-FT weight interpolation (engine.training.wise)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from engine.training.wise import interpolate_state  # noqa: E402


def _state(seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {"conv.weight": torch.randn(4, 3, generator=g),
            "bn.running_var": torch.rand(4, generator=g) + 0.5,
            "bn.num_batches_tracked": torch.tensor(100 + seed)}


def test_floating_tensors_are_interpolated_and_counters_come_from_the_finished_run() -> None:
    finished, start = _state(1), _state(2)
    mixed = interpolate_state(finished, start, 0.25)
    torch.testing.assert_close(mixed["conv.weight"],
                               0.25 * finished["conv.weight"] + 0.75 * start["conv.weight"])
    torch.testing.assert_close(mixed["bn.running_var"],
                               0.25 * finished["bn.running_var"] + 0.75 * start["bn.running_var"])
    assert int(mixed["bn.num_batches_tracked"]) == 101
    for key in finished:
        torch.testing.assert_close(interpolate_state(finished, start, 1.0)[key], finished[key])
    torch.testing.assert_close(interpolate_state(finished, start, 0.0)["conv.weight"],
                               start["conv.weight"])


def test_a_shared_trunk_stays_shared_bit_for_bit() -> None:
    """Two detectors whose endpoints share a tensor get the same interpolated tensor, so the
    merged graph can still run their trunk once."""
    finished_a, start_a = _state(1), _state(2)
    finished_b, start_b = _state(3), _state(4)
    finished_b["conv.weight"] = finished_a["conv.weight"].clone()
    start_b["conv.weight"] = start_a["conv.weight"].clone()
    a = interpolate_state(finished_a, start_a, 0.5)["conv.weight"]
    b = interpolate_state(finished_b, start_b, 0.5)["conv.weight"]
    assert torch.equal(a, b)


def test_mismatched_networks_and_bad_alphas_are_refused() -> None:
    finished, start = _state(1), _state(2)
    with pytest.raises(ValueError, match="alpha"):
        interpolate_state(finished, start, 1.5)
    with pytest.raises(ValueError, match="differ in tensors"):
        interpolate_state(finished, {k: v for k, v in start.items() if k != "conv.weight"}, 0.5)
    with pytest.raises(ValueError, match="shape"):
        interpolate_state(finished, {**start, "conv.weight": torch.zeros(2, 3)}, 0.5)
