"""How sure a validation figure is: exact intervals for rates, bootstrap intervals for AUCs.

Why: the error rates an analyst reads next to a grade come from small groups (9-61 items of a
few public sources). "0 of 40 real videos" does not mean "never": a true false-alarm rate of
8.8% still gives 0 of 40 one time in forty. Forensic reporting guidelines ask for the
uncertainty of a validation figure, so every rate is printed with its exact two-sided 95%
interval (Clopper-Pearson), computed from the stored ``k`` and ``n`` alone: a pure function,
so analyses made before this module existed show intervals too.

The AUC interval (stratified percentile bootstrap, fixed seed, so a report regenerates to the
same digits) says how far a benchmark AUC can move with the same number of items; it is not a
test of one model against another on the same items (those are paired).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["LEVEL", "auc_interval", "auc_rows", "binomial_interval", "rate_text"]

LEVEL = 0.95


@functools.lru_cache(maxsize=4096)
def binomial_interval(k: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Exact (Clopper-Pearson) two-sided interval for a proportion ``k / n``.

    It never undercovers, which is the safe side for a false-alarm rate stated in a report.
    The bounds are found by bisection on the exact binomial tail (no SciPy: the findings panel
    calls this on the GUI thread, and importing ``scipy.stats`` there stalled it for a second).
    Remembered per ``(k, n, level)``: the findings panel shows the same validation table for
    every item: every table of the shipped rule is 108 intervals of 11 distinct counts, 27 ms of
    the GUI thread each time before, 0.2 ms once remembered (docs/PERFORMANCE.md).

    Raises:
        ValueError: ``n < 1`` or ``k`` outside ``0..n``.
    """
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n >= 1, got k={k}, n={n}")
    tail = (1.0 - level) / 2.0
    # lower bound: the p at which k or more successes have probability `tail`
    lo = 0.0 if k == 0 else _bisect(lambda p: 1.0 - _binom_cdf(k - 1, n, p), tail)
    # upper bound: the p at which k or fewer successes have probability `tail`
    hi = 1.0 if k == n else _bisect(lambda p: -_binom_cdf(k, n, p), -tail)
    return lo, hi


def rate_text(k: int, n: int, *, label: bool = False) -> str:
    """``"1/61 (1.6%; 0.0%–8.8%)"``: count, observed share and its exact 95% interval.

    Args:
        k: items that reached the grade (or crossed the threshold).
        n: items in the group; 0 gives ``"—"`` (nothing was measured).
        label: say ``"95% CI"`` inside the brackets, for a sentence; a table says it once in
            its header or note instead.
    """
    if n < 1:
        return "—"
    lo, hi = binomial_interval(k, n)
    ci = f"{_share(lo)}–{_share(hi)}"
    return f"{k}/{n} ({_share(k / n)}; {'95% CI ' if label else ''}{ci})"


def auc_interval(
    scores: npt.ArrayLike, labels: npt.ArrayLike, *, level: float = LEVEL, n_boot: int = 2000,
    seed: int = 0,
) -> tuple[float, float] | None:
    """Percentile-bootstrap interval of the ROC AUC, resampling fakes and reals separately.

    Ties count one half, as in :func:`engine.training.metrics.roc_auc`. ``None`` when either
    class is empty.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(bool)
    pos, neg = s[y], s[~y]
    if pos.size == 0 or neg.size == 0:
        return None
    rng = np.random.default_rng(seed)
    auc = auc_rows(pos[rng.integers(0, pos.size, size=(n_boot, pos.size))],
                   neg[rng.integers(0, neg.size, size=(n_boot, neg.size))])
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(auc, [tail, 1.0 - tail])
    return float(lo), float(hi)


def auc_rows(pos: npt.NDArray[np.float64], neg: npt.NDArray[np.float64]) -> npt.NDArray[Any]:
    """The ROC AUC of each row: ``pos[i]`` the fakes' scores, ``neg[i]`` the reals', ties 1/2.

    Rows are bootstrap resamples (here and in :mod:`engine.evaluation.compare`). Each row of
    reals is sorted and shifted past the previous row's range, so one ``searchsorted`` over the
    flattened rows counts every row at once without an n_fake x n_real pair matrix.
    """
    n_rows, n_pos = pos.shape
    n_neg = neg.shape[1]
    q = np.sort(neg, axis=1)
    span = 2.0 * max(float(max(pos.max(), q.max()) - min(pos.min(), q.min())), 1.0)
    shift = (np.arange(n_rows, dtype=np.float64) * span)[:, None]
    flat = (q + shift).ravel()
    base = (np.arange(n_rows) * n_neg)[:, None]
    below = np.searchsorted(flat, pos + shift, side="left") - base
    not_above = np.searchsorted(flat, pos + shift, side="right") - base
    return np.asarray((below + not_above).sum(axis=1) / (2.0 * n_pos * n_neg))


def _binom_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed in log space (exact enough for n in the 1000s)."""
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 1.0 if k >= n else 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    terms = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1)
             + i * log_p + (n - i) * log_q for i in range(k + 1)]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def _bisect(increasing: Callable[[float], float], target: float) -> float:
    """The p in [0, 1] where ``increasing(p) == target`` (the function rises with p)."""
    lo, hi = 0.0, 1.0
    for _ in range(60):  # 2**-60: far below any digit printed
        mid = 0.5 * (lo + hi)
        if increasing(mid) < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _share(x: float) -> str:
    """A share in percent: one decimal under 10% (where one item is a large step), else none."""
    pct = 100.0 * x
    if pct == 0.0:
        return "0%"
    return f"{pct:.1f}%" if pct < 10.0 else f"{pct:.0f}%"
