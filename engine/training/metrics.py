"""Ranking and decision metrics for binary detectors (numpy only): AUC, AP, accuracy."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["accuracy_at", "average_precision", "roc_auc", "summarize"]


def _check(
    scores: npt.NDArray[Any], labels: npt.NDArray[Any]
) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels).astype(np.int64).ravel()
    if s.shape != y.shape or s.size == 0:
        raise ValueError("scores and labels must be non-empty arrays of the same length")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores contain NaN or infinite values")
    if not set(np.unique(y)) <= {0, 1}:
        raise ValueError("labels must be 0 (real) or 1 (fake)")
    return s, y


def roc_auc(scores: npt.NDArray[Any], labels: npt.NDArray[Any]) -> float:
    """Area under the ROC curve (Mann-Whitney U, ties count one half).

    Raises:
        ValueError: one class only.
    """
    s, y = _check(scores, labels)
    n_pos, n_neg = int(y.sum()), int((1 - y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUC needs both real and fake samples")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(s.size, dtype=np.float64)
    sorted_s = s[order]
    i = 0
    while i < s.size:  # average ranks over ties
        j = i
        while j + 1 < s.size and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = 0.5 * (i + j) + 1.0
        i = j + 1
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def average_precision(scores: npt.NDArray[Any], labels: npt.NDArray[Any]) -> float:
    """Average precision (area under the step precision-recall curve, fake = positive)."""
    s, y = _check(scores, labels)
    n_pos = int(y.sum())
    if n_pos == 0:
        raise ValueError("AP needs at least one fake sample")
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    tp = np.cumsum(y_sorted)
    fp = np.cumsum(1 - y_sorted)
    last_of_tie = np.r_[s_sorted[1:] != s_sorted[:-1], True]
    tp, fp = tp[last_of_tie], fp[last_of_tie]
    precision = tp / (tp + fp)
    recall = tp / n_pos
    recall_prev = np.r_[0.0, recall[:-1]]
    return float(np.sum((recall - recall_prev) * precision))


def accuracy_at(scores: npt.NDArray[Any], labels: npt.NDArray[Any], threshold: float) -> float:
    """Share of samples on the right side of ``threshold`` (fake when score >= threshold)."""
    s, y = _check(scores, labels)
    return float(np.mean((s >= threshold).astype(np.int64) == y))


def summarize(
    p_fake: npt.NDArray[Any], labels: npt.NDArray[Any], threshold: float
) -> dict[str, float]:
    """AUC, AP, accuracy at ``threshold`` and the class counts."""
    return {
        "auc": roc_auc(p_fake, labels),
        "ap": average_precision(p_fake, labels),
        "accuracy": accuracy_at(p_fake, labels, threshold),
        "threshold": float(threshold),
        "n_real": int((np.asarray(labels) == 0).sum()),
        "n_fake": int((np.asarray(labels) == 1).sum()),
    }
