"""Benign edits of real faces that push the detectors over their thresholds.

An analyst must know which harmless operations a detector reads as manipulation. Beauty
filters and skin retouching smooth the face region and leave the rest of the picture alone:
that is a blend of a processed face into its own picture, the very operation Self-Blended
Images trains the face-swap detectors to find (its source transforms include a down- and
up-scaled face, METHODS.md section 1). This module measures it instead of assuming it: it
applies each edit of :data:`EDITS` to every face crop of the **real** items of a labelled
benchmark (the crops ``engine.training.bench_crops extract`` stored, cut by the app's own face
stage) and reports, per detector, how many real faces and real items reach the detector's own
threshold before and after the edit.

    python -m engine.evaluation.benign_edits --crops /work/cache/devbench_crops \
        --markdown docs/benign_edits.md --record-cards

The edits act on the face crop (256 px, the landmark box grown by the crop policy's margin),
so a face-region edit is applied where a filter app would apply it: inside a soft ellipse over
the landmark box. Evaluation only: nothing here trains on the benchmark.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from engine.evaluation.card_text import BENIGN_EDITS_KEY as CARD_KEY
from engine.evaluation.face_measure_cli import PredictFn, predict_all
from engine.evaluation.intervals import rate_text
from engine.training.bench_crops import BenchCrops, aggregate, load_crops

logger = logging.getLogger(__name__)

@functools.lru_cache(maxsize=4)
def face_mask(side: int, margin: float = 0.25) -> npt.NDArray[np.float32]:
    """(side, side, 1) soft mask over the face of a policy crop, 1 inside, 0 outside; made once
    per crop size (read-only) and shared by every crop of that size.

    The crop is the landmark box grown by ``margin`` of its longer side on each side
    (``engine.faces.crop.CropPolicy``), so the box's side is ``side / (1 + 2 * margin)``; the
    ellipse spans 80% of its width and all of its height, feathered over about 3% of the crop
    as a retouching brush or a filter app's face mask is.
    """
    box = side / (1.0 + 2.0 * margin)
    mask = np.zeros((side, side), np.float32)
    centre = (side // 2, side // 2)
    cv2.ellipse(mask, centre, (round(0.4 * box), round(0.5 * box)), 0, 0, 360, 1.0, -1)
    soft = cv2.GaussianBlur(mask, (0, 0), 0.03 * side)[..., None]
    soft.setflags(write=False)
    return soft


def _in_face(edit: Callable[[npt.NDArray[np.uint8]], npt.NDArray[np.uint8]],
             ) -> Callable[[npt.NDArray[np.uint8]], npt.NDArray[np.uint8]]:
    def masked(crop_rgb_u8: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        mask = face_mask(crop_rgb_u8.shape[0])
        mixed = edit(crop_rgb_u8).astype(np.float32) * mask + crop_rgb_u8 * (1.0 - mask)
        return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
    return masked


def _bilateral(sigma_colour: float) -> Callable[[npt.NDArray[np.uint8]], npt.NDArray[np.uint8]]:
    def edit(crop_rgb_u8: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        return cv2.bilateralFilter(crop_rgb_u8, 9, sigma_colour, 7)
    return edit


def _gaussian(crop_rgb_u8: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    return cv2.GaussianBlur(crop_rgb_u8, (0, 0), 1.2)


def _sharpen(crop_rgb_u8: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    soft = cv2.GaussianBlur(crop_rgb_u8, (0, 0), 1.5)
    return cv2.addWeighted(crop_rgb_u8, 1.6, soft, -0.6, 0)


def _jpeg(quality: int) -> Callable[[npt.NDArray[np.uint8]], npt.NDArray[np.uint8]]:
    def edit(crop_rgb_u8: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        ok, buf = cv2.imencode(".jpg", crop_rgb_u8[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise RuntimeError("OpenCV could not encode a JPEG")
        return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()
    return edit


def _half_resolution(crop_rgb_u8: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    side = crop_rgb_u8.shape[0]
    small = cv2.resize(crop_rgb_u8, (side // 2, side // 2), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (side, side), interpolation=cv2.INTER_LINEAR)


@dataclass(frozen=True)
class Edit:
    """One benign edit: what an analyst would call it, and the function on one RGB crop."""

    name: str
    words: str
    apply: Callable[[npt.NDArray[np.uint8]], npt.NDArray[np.uint8]]


EDITS: tuple[Edit, ...] = (
    Edit("beauty_face_mild", "a mild beauty filter on the face only (edge-preserving "
         "bilateral smoothing, colour sigma 40)", _in_face(_bilateral(40.0))),
    Edit("beauty_face_strong", "a strong beauty filter on the face only (colour sigma 75)",
         _in_face(_bilateral(75.0))),
    Edit("blur_face", "a slight blur of the face only (Gaussian sigma 1.2 px)",
         _in_face(_gaussian)),
    Edit("beauty_whole", "the strong smoothing over the whole picture, not only the face",
         _bilateral(75.0)),
    Edit("sharpen_whole", "unsharp masking of the whole picture (amount 0.6)", _sharpen),
    Edit("jpeg_60", "a JPEG round trip at quality 60", _jpeg(60)),
    Edit("half_resolution", "halving the resolution and scaling back", _half_resolution),
)


_WORDS = {e.name: e.words for e in EDITS} | {"none": "no edit"}


def edit_batch(edit: Edit, crops: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """``edit`` applied to each (H, W, 3) uint8 crop of ``crops``."""
    return np.stack([edit.apply(np.ascontiguousarray(c)) for c in crops]) if len(crops) else crops


@dataclass(frozen=True)
class EditRow:
    """One detector under one edit (``edit`` = ``"none"`` for the unedited crops)."""

    detector: str
    edit: str
    threshold: float
    n_crops: int
    crops_above: int
    n_items: int
    items_above: int
    mean_p_fake: float

    def to_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "n_crops": self.n_crops,
                "crops_above": self.crops_above, "n_items": self.n_items,
                "items_above": self.items_above, "mean_p_fake": round(self.mean_p_fake, 4)}


def measure(bench: BenchCrops, detectors: Mapping[str, tuple[PredictFn, float]],
            edits: Sequence[Edit] = EDITS) -> list[EditRow]:
    """Per detector and edit, real faces and real items at or above the detector's threshold.

    Args:
        bench: the face crops of real items only; an item's score is the app's (frame = max
            over its faces, item = mean over its frames: ``bench_crops.aggregate``).
        detectors: name -> (calibrated ``p_fake`` of a batch of crops, its threshold).
        edits: the edits to measure; the unedited crops are always measured first.
    """
    crops = bench.crops
    rows: list[EditRow] = []
    views: list[tuple[str, Edit | None]] = [("none", None)] + [(e.name, e) for e in edits]
    for view, edit in views:
        edited = crops if edit is None else edit_batch(edit, crops)
        for name, (predict, threshold) in detectors.items():
            p_fake = predict_all(predict, edited)
            item_scores = np.array([v for v in aggregate(bench, p_fake) if v is not None])
            rows.append(EditRow(name, view, threshold, len(p_fake),
                                int(np.sum(p_fake >= threshold)), len(item_scores),
                                int(np.sum(item_scores >= threshold)), float(np.mean(p_fake))))
        logger.info("measured %s", view)
    return rows


def markdown(rows: Sequence[EditRow], command: str, source: str) -> str:
    """The table of :func:`measure` with the command and what each edit is."""
    detectors = list(dict.fromkeys(r.detector for r in rows))
    by = {(r.detector, r.edit): r for r in rows}
    views = list(dict.fromkeys(r.edit for r in rows))
    lines = [f"Command: `{command}`; real faces of `{source}` (evaluation only).", "",
             "Real items at or above each detector's own threshold after the edit (k/n, share; "
             "exact 95% interval), then the share of single face crops at or above it. An "
             "item's score is the app's: the mean over its frames of the highest face.", "",
             "| edit | " + " | ".join(f"{d} (≥ {by[(d, 'none')].threshold:g})"
                                      for d in detectors) + " |",
             "|---|" + "---|" * len(detectors)]
    for view in views:
        cells = [f"{rate_text(r.items_above, r.n_items)} "
                 f"({100.0 * r.crops_above / max(r.n_crops, 1):.0f}% of faces)"
                 for r in (by[(d, view)] for d in detectors)]
        lines.append(f"| {_WORDS.get(view, view)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def card_entry(rows: Sequence[EditRow], detector: str, command: str, source: str,
               ) -> dict[str, Any]:
    """What a detector's model card stores under :data:`CARD_KEY`."""
    mine = {r.edit: r.to_dict() for r in rows if r.detector == detector}
    return {"command": command, "source": source,
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "edits": {name: {**m, "words": _WORDS.get(name, name)} for name, m in mine.items()}}


_PROG = "python -m engine.evaluation.benign_edits"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    from engine.evaluation import face_measure_cli as cli

    args, reals = cli.start(_PROG, __doc__, CARD_KEY, "detector to measure (repeatable; "
                            "default: every face detector)", argv)
    bench = load_crops(reals, args.crops)
    detectors = cli.load_face_detectors(
        args, lambda cfg: cfg.input_mode != "native_tiles" and cfg.clip_len <= 1)
    rows = measure(bench, detectors)
    cli.publish(args, argv, _PROG, CARD_KEY, rows, markdown, card_entry, list(detectors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
