"""Losses (Face X-ray, MAT's regional independence) and MAT's attention-guided augmentation."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from engine.training.augment import agda, gaussian_blur  # noqa: E402
from engine.training.losses import RegionalIndependenceLoss, xray_loss  # noqa: E402


def test_xray_loss_is_100_bce_of_the_map_plus_cross_entropy() -> None:
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 2, generator=gen)
    map_logits = torch.randn(4, 8, 8, generator=gen)
    target = torch.rand(4, 8, 8, generator=gen)
    labels = torch.tensor([0, 1, 0, 1])
    loss, parts = xray_loss(logits, map_logits, labels, target)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(map_logits, target)
    ce = torch.nn.functional.cross_entropy(logits, labels)
    torch.testing.assert_close(loss, 100 * bce + ce)
    assert parts["bce_map"] == pytest.approx(float(bce))


def test_ril_pulls_regions_to_their_centres_within_label_margins() -> None:
    ril = RegionalIndependenceLoss(2, 3, alpha=0.05, margin_real=0.05, margin_fake=0.1,
                                   margin_inter=0.2)
    centres = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    tight = centres.expand(4, 2, 3).clone()
    assert float(ril(tight, torch.tensor([0, 1, 0, 1]))) == pytest.approx(0.0, abs=1e-6)
    torch.testing.assert_close(ril.centres, centres)  # initialised from the first batch
    off = tight.clone()
    off[0, 0] += torch.tensor([0.0, 0.0, 0.5])  # squared distance ~0.25 > 0.05 (real)
    parts = off.requires_grad_(True)
    loss = ril(parts, torch.tensor([0, 1, 0, 1]))
    assert float(loss.detach()) > 0
    loss.backward()
    assert parts.grad is not None
    assert float(parts.grad[0, 0].abs().sum()) > 0
    assert not ril.centres.requires_grad


def test_ril_pushes_centres_that_are_too_close_apart() -> None:
    ril = RegionalIndependenceLoss(2, 2)
    same = torch.zeros(3, 2, 2)
    # Both centres at the origin: the inter term is 2 * margin_inter (i != j, both orders).
    assert float(ril(same, torch.tensor([0, 0, 1]))) == pytest.approx(0.4, abs=1e-6)


def test_agda_keeps_unattended_pixels_and_blurs_the_attended_ones() -> None:
    gen = torch.Generator().manual_seed(0)
    images = torch.rand(2, 3, 32, 32, generator=gen)
    attention = torch.zeros(2, 4, 8, 8)
    attention[:, :, :4, :] = 1.0  # every map attends to the top half
    out = agda(images, attention, torch.Generator().manual_seed(1))
    assert out.shape == images.shape
    torch.testing.assert_close(out[:, :, 20:, :], images[:, :, 20:, :])
    assert float((out[:, :, :10] - images[:, :, :10]).abs().mean()) > 0.05
    smooth = gaussian_blur(images, 2.0)
    assert float(smooth.std()) < float(images.std())
