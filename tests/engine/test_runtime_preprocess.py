"""``engine.runtime.cfg.preprocess``: the stacked resize gives exactly the per-crop resize."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.runtime.cfg import DetectorCfg, center_fraction, preprocess


def _cfg(input_size: int, face_margin: float) -> DetectorCfg:
    return DetectorCfg(name="t", version="1", variant="cpu", input_size=input_size,
                       mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
                       face_margin=face_margin, clip_len=1, output="softmax2", map_kind="none",
                       looks_for="face_swap")


def _reference(crops: np.ndarray, cfg: DetectorCfg) -> np.ndarray:
    """The original one-``cv2.resize``-per-crop implementation, written out."""
    side = crops.shape[1]
    keep = round(side * center_fraction(cfg.face_margin))
    off = (side - keep) // 2
    size = cfg.input_size
    interp = cv2.INTER_AREA if keep > size else cv2.INTER_LINEAR
    out = np.empty((len(crops), size, size, 3), dtype=np.float32)
    for i, crop in enumerate(crops):
        sub = crop[off : off + keep, off : off + keep]
        out[i] = cv2.resize(sub, (size, size), interpolation=interp) if keep != size else sub
    out -= np.asarray(cfg.mean, dtype=np.float32) * 255.0
    out *= 1.0 / (np.asarray(cfg.std, dtype=np.float32) * 255.0)
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


@pytest.mark.parametrize(("side", "input_size", "margin", "n"), [
    (256, 192, 0.25, 16),   # the shipped SBI / X-ray / MAT input: 256 -> 192, area
    (256, 192, 0.15, 5),    # a tighter margin: 222 -> 192, area, non-integer scale
    (256, 192, 0.25, 70),   # more crops than one stacked resize takes
    (256, 256, 0.25, 3),    # the GAN detector: no resize
    (128, 192, 0.25, 4),    # small crops are enlarged, bilinear, one call per crop
])
def test_preprocess_equals_one_resize_per_crop(side: int, input_size: int, margin: float,
                                               n: int) -> None:
    crops = np.random.default_rng(side + n).integers(0, 256, (n, side, side, 3), dtype=np.uint8)
    cfg = _cfg(input_size, margin)
    got = preprocess(crops, cfg)
    assert got.dtype == np.float32
    assert got.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(got, _reference(crops, cfg))
