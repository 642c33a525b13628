"""Platt scaling: recovers known parameters, is monotonic, maps into [0, 1], refuses bad data."""

from __future__ import annotations

import numpy as np
import pytest

from engine.fusion import calibration
from engine.fusion.calibration import CalibrationError, PlattCalibration


def _sample(a: float, b: float, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 2.0, n)
    p_true = 1.0 / (1.0 + np.exp(-(a * z + b)))
    labels = (rng.random(n) < p_true).astype(np.int64)
    return 1.0 / (1.0 + np.exp(-z)), labels  # raw score = sigmoid(z), so logit(raw) = z


def test_fit_recovers_the_generating_parameters() -> None:
    raw, labels = _sample(a=0.5, b=-1.0, n=20000, seed=0)
    platt = calibration.fit(raw, labels)
    assert platt.a == pytest.approx(0.5, abs=0.05)
    assert platt.b == pytest.approx(-1.0, abs=0.08)


def test_calibration_is_monotonic_and_stays_in_unit_range() -> None:
    raw, labels = _sample(a=3.0, b=0.5, n=500, seed=1)
    platt = calibration.fit(raw, labels)
    grid = np.linspace(0.0, 1.0, 1001)
    p = platt.apply(grid)
    assert np.all(np.diff(p) >= 0)
    assert p.min() >= 0.0
    assert p.max() <= 1.0
    assert np.all(np.isfinite(p))


def test_separable_data_gives_a_finite_slope() -> None:
    raw = np.r_[np.full(50, 0.1), np.full(50, 0.9)]
    labels = np.r_[np.zeros(50), np.ones(50)]
    platt = calibration.fit(raw, labels)
    assert np.isfinite(platt.a)
    assert platt.a > 0
    assert platt.apply(np.array([0.9]))[0] < 1.0  # Platt's target smoothing


def test_one_class_or_inverted_scores_are_refused() -> None:
    with pytest.raises(CalibrationError, match="both labels"):
        calibration.fit(np.array([0.2, 0.8]), np.array([1, 1]))
    raw, labels = _sample(a=2.0, b=0.0, n=400, seed=2)
    with pytest.raises(CalibrationError, match="do not rise"):
        calibration.fit(raw, 1 - labels)
    with pytest.raises(CalibrationError):
        PlattCalibration(0.0, 1.0)


def test_apply_without_calibration_returns_the_raw_scores() -> None:
    raw = np.array([0.0, 0.3, 1.0])
    np.testing.assert_array_equal(calibration.apply(raw, None), raw)
    identity = PlattCalibration(1.0, 0.0).apply(np.array([0.25, 0.5]))
    np.testing.assert_allclose(identity, [0.25, 0.5], atol=1e-12)


def _auc(scores: np.ndarray, labels: np.ndarray) -> float:
    pos, neg = scores[labels == 1], scores[labels == 0]
    greater = (pos[:, None] > neg[None, :]).mean()
    ties = (pos[:, None] == neg[None, :]).mean()
    return float(greater + 0.5 * ties)


def _confident_overlapping_scores(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A trained detector's outputs: mostly saturated, a few overlaps, exact 0s and 1s."""
    rng = np.random.default_rng(seed)
    z = np.r_[rng.normal(-12.0, 6.0, 150), rng.normal(12.0, 6.0, 150)]
    raw = (1.0 / (1.0 + np.exp(-z))).astype(np.float32).astype(np.float64)  # float32 saturates
    raw[:3] = 0.0  # underflow in the exported graph
    return raw, np.r_[np.zeros(150), np.ones(150)].astype(np.int64)


def test_confident_scores_give_a_bounded_fit_that_keeps_the_ranking() -> None:
    raw, labels = _confident_overlapping_scores(seed=3)
    assert np.any(raw == 1.0)
    assert np.any(raw == 0.0)
    platt = calibration.fit(raw, labels)
    assert 0.0 < platt.a < 10.0  # plain Newton diverged here to a slope of ~1e12
    p_cal = platt.apply(raw)
    assert _auc(p_cal, labels) == pytest.approx(_auc(raw, labels), abs=1e-12)


def test_the_fit_is_the_minimum_of_the_smoothed_log_loss() -> None:
    raw, labels = _confident_overlapping_scores(seed=4)
    platt = calibration.fit(raw, labels)
    z = calibration.logit(raw)
    n_pos, n_neg = int(labels.sum()), int((1 - labels).sum())
    t = np.where(labels == 1, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))

    def loss(a: float, b: float) -> float:
        f = a * z + b
        return float(np.sum(t * np.logaddexp(0.0, -f) + (1 - t) * np.logaddexp(0.0, f)))

    best = loss(platt.a, platt.b)
    for da, db in [(0.01, 0), (-0.01, 0), (0, 0.05), (0, -0.05), (0.02, 0.02)]:
        assert best <= loss(platt.a + da, platt.b + db) + 1e-9
