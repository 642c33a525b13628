"""How a probability is written wherever an analyst reads one (tables, panels, the PDF report).

One rule in one place: three decimals. With two, a fused p_fake of 0.499 ("no support") printed
as 0.50, the edge of the "weak support" band, next to a grade that said otherwise.
"""

from __future__ import annotations

__all__ = ["fmt_p"]


def fmt_p(p_fake: float | None) -> str:
    """A probability with three decimals, or "n/a" when not applicable."""
    return "n/a" if p_fake is None else f"{p_fake:.3f}"
