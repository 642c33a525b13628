"""Platt scaling: a detector's raw ``p_fake`` -> a probability calibrated on held-out data.

Platt (1999) fits p = sigmoid(a * z + b) to labelled validation scores. We take z as the logit
of the raw output (the network's own log-odds), so the identity (a = 1, b = 0) is "no change"
and the fit only rescales confidence and moves the 0.5 point. The slope is required to be
positive: calibration never changes the ranking of faces (monotonic), so AUC is unchanged and
a detector whose scores fall with the label is reported as broken instead of silently flipped.
Targets use Platt's smoothing ((N+ + 1)/(N+ + 2), 1/(N- + 2)) so a separable validation set
gives a finite slope. numpy only: the packaged app applies calibration without torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["CalibrationError", "PlattCalibration", "apply", "fit", "logit", "sigmoid"]

_EPS = 1e-12


class CalibrationError(ValueError):
    """Validation data cannot produce a monotonic calibration (one class, or inverted scores)."""


def logit(p: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """log(p / (1 - p)) with p clipped away from 0 and 1 (float64)."""
    q = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1.0 - _EPS)
    return np.asarray(np.log(q) - np.log1p(-q), dtype=np.float64)


def sigmoid(z: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The logistic function, the inverse of :func:`logit` (tanh form: no overflow)."""
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64))))


@dataclass(frozen=True)
class PlattCalibration:
    """Fitted Platt parameters: p = sigmoid(a * logit(p_raw) + b), with a > 0."""

    a: float
    b: float

    def __post_init__(self) -> None:
        if not (np.isfinite(self.a) and np.isfinite(self.b) and self.a > 0.0):
            raise CalibrationError(f"Platt parameters must be finite with a > 0; got {self}")

    def apply(self, p_fake_raw: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Calibrated probabilities in [0, 1], same shape as ``p_fake_raw`` (float64)."""
        return sigmoid(self.a * logit(p_fake_raw) + self.b)

    def as_tuple(self) -> tuple[float, float]:
        """``(a, b)``, the form stored in ``DetectorCfg.calibration``."""
        return (float(self.a), float(self.b))

    def describe(self) -> str:
        """One line for provenance and reports."""
        return f"Platt: p = sigmoid({self.a:.4g} * logit(p_raw) + {self.b:.4g})"


def _log_loss(x: npt.NDArray[Any], t: npt.NDArray[Any], w: npt.NDArray[Any]) -> float:
    """Cross-entropy of sigmoid(x @ w) against the smoothed targets, overflow-free."""
    f = x @ w
    return float(np.sum(t * np.logaddexp(0.0, -f) + (1.0 - t) * np.logaddexp(0.0, f)))


def _newton_with_line_search(
    x: npt.NDArray[Any], t: npt.NDArray[Any], *, max_iter: int
) -> npt.NDArray[Any]:
    """Minimise the log-loss from the identity (a, b) = (1, 0).

    A pure Newton step diverges once confident, well-separated scores saturate the sigmoid: the
    Hessian vanishes and the step explodes (a slope of 1e12 was seen, which collapsed every
    calibrated score to 0 or 1 and destroyed the ranking through ties). Backtracking until the
    loss decreases (Lin, Lin and Weng, "A note on Platt's probabilistic outputs", 2007) keeps
    every iterate finite and converges to the same minimum where plain Newton works.
    """
    w = np.array([1.0, 0.0])
    loss = _log_loss(x, t, w)
    for _ in range(max_iter):
        p = sigmoid(x @ w)
        grad = x.T @ (p - t)
        if np.max(np.abs(grad)) < 1e-9 * len(t):
            break
        hess = (x * (p * (1.0 - p))[:, None]).T @ x + 1e-12 * len(t) * np.eye(2)
        step = np.linalg.solve(hess, grad)
        scale = 1.0
        while scale > 1e-10:
            w_new = w - scale * step
            loss_new = _log_loss(x, t, w_new)
            if loss_new < loss + 1e-4 * scale * float(grad @ -step):  # Armijo condition
                break
            scale *= 0.5
        else:
            break  # no decrease along the Newton direction: at the minimum to float precision
        w, loss = w_new, loss_new
        if np.max(np.abs(scale * step)) < 1e-10:
            break
    return w


def fit(
    p_fake_raw: npt.NDArray[Any], labels: npt.NDArray[Any], *, max_iter: int = 100
) -> PlattCalibration:
    """Fit Platt scaling by Newton's method on the log-loss.

    Args:
        p_fake_raw: (N,) raw scores in [0, 1].
        labels: (N,) 0 = real, 1 = fake; both classes must occur.
        max_iter: Newton iterations at most.

    Raises:
        CalibrationError: one class only, non-finite scores, or a non-positive slope.
    """
    y = np.asarray(labels).astype(np.int64).ravel()
    z = logit(np.asarray(p_fake_raw).ravel())
    if z.shape != y.shape or not np.all(np.isfinite(z)):
        raise CalibrationError("scores and labels must be finite arrays of the same length")
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    if n_pos == 0 or n_neg == 0 or n_pos + n_neg != y.size:
        raise CalibrationError(f"need both labels 0 and 1 only; got {n_neg} real, {n_pos} fake")
    t = np.where(y == 1, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    w = _newton_with_line_search(np.stack([z, np.ones_like(z)], axis=1), t, max_iter=max_iter)
    if not w[0] > 0.0:
        raise CalibrationError(
            f"fitted slope {w[0]:.4g} <= 0: the detector's scores do not rise with the label"
        )
    return PlattCalibration(float(w[0]), float(w[1]))


def apply(p_fake_raw: npt.NDArray[Any], calibration: PlattCalibration | None) -> npt.NDArray[Any]:
    """Calibrate ``p_fake_raw`` (float64); ``None`` returns the raw scores unchanged."""
    p = np.asarray(p_fake_raw, dtype=np.float64)
    return p.copy() if calibration is None else calibration.apply(p)
