"""A double-compression hint from the periodicity of a JPEG's DCT coefficient histograms.

When a JPEG saved with step q1 is decoded and saved again with step q2, each coefficient is
quantised twice. The histogram of the final quantised values then has a periodic pattern of
empty or overfull bins (Lukas & Fridrich 2003; Popescu & Farid 2004), where a single save
gives a smooth, Laplacian-like histogram. We recompute the luminance DCT of the decoded image
on the JPEG's own 8x8 grid, divide by the file's table, and measure, for the 15 lowest-
frequency AC modes, how far each bin's log count departs from its neighbours' (the second
difference, in units of its Poisson noise). The score is the mean squared departure: about 2
for a single save, tens for a double one.

Calibration (``scripts/calibrate_double_jpeg.py``; 73 video frames and 20 portraits from
../shared/data, none in the repo): single saves at q2 = 75/85/90/95 scored a median of 1.9-2.4
(95th percentile 3.6-11.2); 6 of 372 single saves scored 12 or more, all frames of heavily
compressed video. Saves at q1 = 50-60 then q2 = 75-95, and at q1 = 70-80 then q2 = 90-95,
scored a 5th percentile of 11.3-32.4; a first save less than ~10 below the second, or above
it, scored 2-10 (median) and is not reliably seen. Hence a score is a hint, never proof.

What the hint can say: "this JPEG looks saved at least twice", so the pixels went through an
earlier JPEG: a re-save by an editor, a messenger or a platform. What it cannot say: what
changed, whether anything was edited (re-saving alone does it), or anything about a file that
shows no sign (a second save at a lower quality, a resize or crop between the saves, or a
first save at a quality near the second hides the pattern).
"""

from __future__ import annotations

import numpy as np

from engine.provenance.jpeg_quant import ZIGZAG, JpegHeader

__all__ = ["STRONG_SCORE", "WEAK_SCORE", "double_compression_hint"]

# NOTE: thresholds from the calibration in the module docstring: 12 or more for about 95% of
# the double saves with q1 at least 15 below q2 and for 6 of 372 single saves (1.6%); 6-12 is
# reported as weak (9 more single saves, 2.4%, fell there).
STRONG_SCORE = 12.0
WEAK_SCORE = 6.0
# NOTE: the calibration images held 10k-20k blocks; a larger image is measured on its central
# 1280x1024 region, so the score means the same at every size (and costs ~0.2 s at most).
_MAX_REGION_HW = (1024, 1280)
_N_MODES = 15
_MAX_BIN = 40
# NOTE: fewer than 20 usable histogram bins (a flat or tiny image) say nothing either way.
_MIN_BINS = 20
_MAX_PIXELS = 60_000_000

NOT_ASSESSED = "not assessed"
DETAIL_LIMITS = (
    "Measured on the periodicity of the luminance DCT histograms. A double save shows when the "
    "first save used a clearly lower quality than the last; it does not show when the file was "
    "resized or cropped between saves, or when the first save was at a similar or higher "
    "quality. Re-saving alone (a messenger, a platform, an editor opening and saving) produces "
    "it: it is not a sign of what, if anything, was changed."
)


def _dct_matrix() -> np.ndarray:
    x = np.arange(8)
    basis = np.cos((2 * x[None, :] + 1) * x[:, None] * np.pi / 16.0)
    scale = np.full(8, np.sqrt(2.0 / 8.0))
    scale[0] = np.sqrt(1.0 / 8.0)
    return basis * scale[:, None]


_DCT = _dct_matrix()


def _luma_u8(data: bytes, header: JpegHeader) -> np.ndarray | None:
    """The decoded Y plane, cropped to a grid-aligned central region.

    OpenCV's libjpeg hands over its Y plane as is when asked for grey, and (unlike Pillow)
    parses no EXIF on the way, so broken metadata cannot stop this check.
    """
    import cv2

    if header.width * header.height > _MAX_PIXELS:
        return None
    buffer = np.frombuffer(data, dtype=np.uint8)
    y = cv2.imdecode(buffer, cv2.IMREAD_GRAYSCALE | cv2.IMREAD_IGNORE_ORIENTATION)
    if y is None:
        return None
    max_h, max_w = _MAX_REGION_HW
    top = max(0, (y.shape[0] - max_h) // 2) // 8 * 8
    left = max(0, (y.shape[1] - max_w) // 2) // 8 * 8
    crop: np.ndarray = y[top : top + max_h, left : left + max_w]
    return crop


def _block_dct(y: np.ndarray) -> np.ndarray:
    """(n_blocks, 8, 8) DCT of the unsaturated 8x8 blocks (clipped blocks bend histograms)."""
    h, w = (y.shape[0] // 8) * 8, (y.shape[1] // 8) * 8
    blocks = y[:h, :w].astype(np.float64).reshape(h // 8, 8, w // 8, 8).transpose(0, 2, 1, 3)
    blocks = blocks.reshape(-1, 8, 8) - 128.0
    unsaturated = (blocks.min(axis=(1, 2)) > -128.0) & (blocks.max(axis=(1, 2)) < 127.0)
    chosen = blocks[unsaturated]
    coeffs: np.ndarray = np.einsum("ux,nxy,vy->nuv", _DCT, chosen, _DCT)
    return coeffs


def _mode_departures(values: np.ndarray) -> list[float]:
    """Squared, noise-normalised second differences of the log histogram of ``|values|``."""
    magnitude = np.rint(np.abs(values)).astype(np.int64)
    hist = np.bincount(magnitude[magnitude <= _MAX_BIN], minlength=_MAX_BIN + 1) + 1.0
    out = []
    for i in range(2, _MAX_BIN):
        left, mid, right = hist[i - 1], hist[i], hist[i + 1]
        # NOTE: bins where all three hold a handful of coefficients are Poisson noise.
        if left + mid + right < 33.0 or max(left, mid, right) < 21.0:
            continue
        second = np.log(left) - 2.0 * np.log(mid) + np.log(right)
        variance = 1.0 / left + 4.0 / mid + 1.0 / right
        out.append(float(second * second / variance))
    return out


def periodicity_score(data: bytes, header: JpegHeader) -> float | None:
    """The mean squared histogram departure (module docstring), ``None`` when not measurable."""
    luma = header.table_of(0)
    y = _luma_u8(data, header)
    if luma is None or y is None:
        return None
    steps = np.zeros(64)
    steps[ZIGZAG] = luma
    coeffs = _block_dct(y)
    departures: list[float] = []
    for k in range(1, _N_MODES + 1):
        natural = int(ZIGZAG[k])
        step = steps[natural]
        if step < 2:  # a step of 1 quantises nothing that a second save could reveal
            continue
        departures += _mode_departures(coeffs[:, natural // 8, natural % 8] / step)
    return float(np.mean(departures)) if len(departures) >= _MIN_BINS else None


def double_compression_hint(data: bytes, header: JpegHeader) -> tuple[str, float | None, str]:
    """``(verdict, score, detail)`` for the JPEG ``data``; never raises on a damaged image."""
    try:
        score = periodicity_score(data, header)
    except (ValueError, MemoryError) as exc:  # OpenCV's errors for broken or huge data
        return NOT_ASSESSED, None, f"The image could not be decoded for this check: {exc}"
    if score is None:
        return NOT_ASSESSED, None, ("Too little texture, too small, or quality 100: the "
                                    "histograms hold too few coefficients to say anything.")
    if score >= STRONG_SCORE:
        verdict = "signs of double compression"
    elif score >= WEAK_SCORE:
        verdict = "weak signs of double compression"
    else:
        verdict = "no sign"
    return verdict, round(score, 2), f"Periodicity score {score:.1f}. {DETAIL_LIMITS}"
