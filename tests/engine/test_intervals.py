"""The intervals printed next to every validation rate and benchmark AUC."""

from __future__ import annotations

import numpy as np
import pytest

from engine.evaluation.intervals import auc_interval, binomial_interval, rate_text
from engine.training.metrics import roc_auc


def test_zero_of_n_has_the_closed_form_upper_bound() -> None:
    # k = 0: the upper bound solves (1 - p)^n = 0.025
    lo, hi = binomial_interval(0, 40)
    assert lo == 0.0
    assert hi == pytest.approx(1.0 - 0.025 ** (1 / 40), abs=1e-9)
    lo, hi = binomial_interval(40, 40)
    assert hi == 1.0
    assert lo == pytest.approx(0.025 ** (1 / 40), abs=1e-9)


def test_the_interval_covers_the_observed_share_and_is_symmetric_in_k() -> None:
    for k, n in [(1, 61), (3, 9), (20, 40), (13, 47)]:
        lo, hi = binomial_interval(k, n)
        assert lo < k / n < hi
        lo2, hi2 = binomial_interval(n - k, n)
        assert (lo2, hi2) == pytest.approx((1 - hi, 1 - lo), abs=1e-9)
    # a known value: 1 of 61 (scipy-independent check by the binomial tail at the bound)
    lo, hi = binomial_interval(1, 61)
    assert (1 - hi) ** 61 + 61 * hi * (1 - hi) ** 60 == pytest.approx(0.025, abs=1e-6)


@pytest.mark.parametrize(("k", "n"), [(0, 0), (-1, 5), (6, 5)])
def test_impossible_counts_are_refused(k: int, n: int) -> None:
    with pytest.raises(ValueError, match="0 <= k <= n"):
        binomial_interval(k, n)


def test_rate_text_reads_as_a_report_prints_it() -> None:
    assert rate_text(1, 61) == "1/61 (1.6%; 0.0%–8.8%)"
    assert rate_text(0, 40, label=True) == "0/40 (0%; 95% CI 0%–8.8%)"
    assert rate_text(20, 40) == "20/40 (50%; 34%–66%)"
    assert rate_text(0, 0) == "—"


def test_auc_interval_matches_a_resample_computed_the_slow_way() -> None:
    rng = np.random.default_rng(3)
    scores = np.round(np.r_[rng.normal(1, 1, 12), rng.normal(0, 1, 20)], 1)  # with ties
    labels = np.r_[np.ones(12), np.zeros(20)]
    n_boot = 40
    got = auc_interval(scores, labels, n_boot=n_boot, seed=7)
    draw = np.random.default_rng(7)
    pos, neg = scores[labels == 1], scores[labels == 0]
    p = pos[draw.integers(0, pos.size, size=(n_boot, pos.size))]
    q = neg[draw.integers(0, neg.size, size=(n_boot, neg.size))]
    slow = [roc_auc(np.r_[p[b], q[b]], np.r_[np.ones(pos.size), np.zeros(neg.size)])
            for b in range(n_boot)]
    assert got == pytest.approx(tuple(np.quantile(slow, [0.025, 0.975])), abs=1e-12)
    assert got[0] <= roc_auc(scores, labels) <= got[1]


def test_auc_interval_edge_cases() -> None:
    assert auc_interval([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0]) == (1.0, 1.0)
    assert auc_interval([0.5] * 6, [1, 1, 1, 0, 0, 0]) == (0.5, 0.5)
    assert auc_interval([0.1, 0.2], [0, 0]) is None
    # missing scores enter the benchmark as -1; the shift must keep them in their own row
    assert auc_interval([-1.0, 0.9, 0.2, -1.0], [1, 1, 0, 0], n_boot=200) is not None


def test_the_bisection_agrees_with_scipys_beta_quantiles() -> None:
    from scipy.stats import beta  # the textbook form of the Clopper-Pearson bounds

    for n in (1, 2, 9, 25, 61, 101, 400):
        for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
            lo, hi = binomial_interval(k, n)
            want_lo = 0.0 if k == 0 else beta.ppf(0.025, k, n - k + 1)
            want_hi = 1.0 if k == n else beta.ppf(0.975, k + 1, n - k)
            assert (lo, hi) == pytest.approx((want_lo, want_hi), abs=1e-9), (k, n)
