"""The reliability diagram: does a kind's calibrated ``p_fake`` mean what it says?

For each kind of manipulation, the cross-validated kind ``p_fake`` of the items it is calibrated
on (real items and the fakes of that kind) is binned; each bin's share of fakes is plotted
against its mean ``p_fake``. On the diagonal, "0.8" means four fakes in five at equal priors
(the benchmark's class balance is corrected for: fakes are weighted so both classes count the
same). The count of items per bin is printed, because small bins are noise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

__all__ = ["reliability_diagram"]

_N_BINS = 10


def reliability_diagram(
    per_kind: Mapping[str, tuple[Sequence[float], Sequence[int]]], out_png: Path, *, title: str
) -> Path:
    """Write one panel per kind: ``per_kind[kind] = (p_fake, labels)``; returns ``out_png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = [k for k, (p, _) in per_kind.items() if len(p)]
    fig, axes = plt.subplots(1, max(1, len(kinds)), figsize=(4.2 * max(1, len(kinds)), 4.4))
    axes_list = np.atleast_1d(axes).tolist()
    for ax, kind in zip(axes_list, kinds, strict=False):
        p, y = (np.asarray(v, dtype=np.float64) for v in per_kind[kind])
        _panel(ax, p, y.astype(np.int64), kind)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=72)
    plt.close(fig)
    _to_palette(out_png)
    return out_png


def _to_palette(png: Path) -> None:
    """A 256-colour PNG: a fraction of the size, the same picture (the docs are committed)."""
    from PIL import Image

    with Image.open(png) as img:
        small = img.convert("RGB").quantize(colors=256)
    small.save(png, optimize=True)


def _panel(ax: object, p: np.ndarray, y: np.ndarray, kind: str) -> None:
    n_pos, n_neg = int(y.sum()), int((1 - y).sum())
    w = np.where(y == 1, n_neg / max(n_pos, 1), 1.0)  # equal priors
    edges = np.linspace(0.0, 1.0, _N_BINS + 1)
    idx = np.clip(np.digitize(p, edges) - 1, 0, _N_BINS - 1)
    xs, ys, ns = [], [], []
    for b in range(_N_BINS):
        sel = idx == b
        if not sel.any():
            continue
        xs.append(float(np.average(p[sel], weights=w[sel])))
        ys.append(float(np.sum(w[sel] * y[sel]) / np.sum(w[sel])))
        ns.append(int(sel.sum()))
    ax.plot([0, 1], [0, 1], color="#999999", lw=1, ls="--")  # type: ignore[attr-defined]
    ax.plot(xs, ys, marker="o", color="#1a73e8")  # type: ignore[attr-defined]
    for x, yv, n in zip(xs, ys, ns, strict=True):
        ax.annotate(str(n), (x, yv), textcoords="offset points", xytext=(4, 4), fontsize=7)  # type: ignore[attr-defined]
    ax.set_xlim(0, 1)  # type: ignore[attr-defined]
    ax.set_ylim(0, 1)  # type: ignore[attr-defined]
    ax.set_xlabel("calibrated p_fake (cross-validated)")  # type: ignore[attr-defined]
    ax.set_ylabel("share of fakes (equal priors)")  # type: ignore[attr-defined]
    ax.set_title(f"{kind}: {n_pos} fake / {n_neg} real", fontsize=9)  # type: ignore[attr-defined]
