"""Hand-made photo composites of real faces: do the face-swap detectors see a replaced part?

A composite made in a photo editor replaces one part of a face (an eye, the nose, the mouth) or
the whole face with another person's and blends the edges: with the clone/healing tool
(Poisson blending) or a feathered layer mask. Our detectors learnt blends that end at the face
outline. This module measures what they do with a blend that ends around an eye: it takes one
face crop of every **real** item of a labelled benchmark (the crops
``engine.training.bench_crops extract`` stored, cut by the app's own face stage), pastes the
named parts of another real item's face onto it, aligned by their landmarks, and reports each
detector's AUC of composites against the untouched crops and how many composites reach the
detector's own threshold.

    python -m engine.evaluation.part_composites --crops /work/cache/devbench_crops \\
        --markdown docs/part_composites.md --record-cards

The composites are ours, made of media made by others: no training recipe of this project uses
Poisson blending or these donors, but a gain here is still a gain on our own fakes; read it
beside the dev bench. Evaluation only: nothing here trains on the benchmark.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from engine.evaluation.card_text import PART_COMPOSITES_KEY as CARD_KEY
from engine.evaluation.card_text import PART_VARIANTS, composite_row_key
from engine.evaluation.face_measure_cli import PredictFn, predict_all
from engine.evaluation.intervals import auc_rows, rate_text
from engine.synthesis.masks import PARTS, hull_mask, landmarks_68

logger = logging.getLogger(__name__)

DONOR_OFFSET = 7  # NOTE: item i takes its part from item i + 7 (of those with landmarks)
_GROW_PX = 5  # the cut-out reaches this far past each part's landmark hull (256 px crop)
_FEATHER_SIGMA_PX = 3.0  # a soft layer-mask brush
_CLONE_GROW_PX = 3  # how far past the cut a clone's result is kept
_CLONE_FEATHER_PX = 2.0

# What is replaced, in the words of the table; ``None`` = the whole face (face-oval hull).
VARIANTS: dict[str, tuple[str, ...] | None] = {
    "one_eye": ("left_eye",),
    "nose": ("nose",),
    "mouth": ("mouth",),
    "both_eyes": ("left_eye", "right_eye"),
    "eyes_nose_mouth": ("left_eye", "right_eye", "nose", "mouth"),
    "whole_face": None,
}
BLENDS = ("poisson", "feather")
_WORDS = {"one_eye": "one eye with its brow", "nose": "the nose", "mouth": "the mouth",
          "both_eyes": "both eyes", "eyes_nose_mouth": "eyes, nose and mouth",
          "whole_face": "the whole face (face-oval hull)",
          "poisson": "Poisson (clone tool)", "feather": "feathered layer mask"}


def cut_mask(landmarks_xy: npt.NDArray[Any], side: int, parts: tuple[str, ...] | None,
             ) -> npt.NDArray[np.uint8]:
    """(side, side) uint8 mask, 255 where the composite replaces the face."""
    if parts is None:
        whole = hull_mask(landmarks_xy, (side, side), "facehull", reduced=True)
        return cv2.erode((whole * 255).astype(np.uint8), np.ones((9, 9), np.uint8))
    lm68 = landmarks_68(landmarks_xy).astype(np.int32)
    mask = np.zeros((side, side), np.uint8)
    for part in parts:
        cv2.fillConvexPoly(mask, cv2.convexHull(lm68[list(PARTS[part])]), 255)
    return cv2.dilate(mask, np.ones((2 * _GROW_PX + 1, 2 * _GROW_PX + 1), np.uint8))


def composite(target_rgb_u8: npt.NDArray[np.uint8], target_lm: npt.NDArray[Any],
              donor_rgb_u8: npt.NDArray[np.uint8], donor_lm: npt.NDArray[Any],
              parts: tuple[str, ...] | None, blend: str) -> npt.NDArray[np.uint8]:
    """The target crop with the donor's ``parts`` pasted in, aligned on the 68 points.

    Raises:
        ValueError: unknown ``blend``, or landmarks that give no alignment or an empty cut.
    """
    if blend not in BLENDS:
        raise ValueError(f"blend must be one of {BLENDS}; got {blend!r}")
    side = target_rgb_u8.shape[0]
    matrix, _ = cv2.estimateAffinePartial2D(landmarks_68(donor_lm).astype(np.float32),
                                            landmarks_68(target_lm).astype(np.float32))
    if matrix is None:
        raise ValueError("the donor's landmarks give no alignment to the target's")
    donor = cv2.warpAffine(donor_rgb_u8, matrix, (side, side), borderMode=cv2.BORDER_REFLECT)
    mask = cut_mask(target_lm, side, parts)
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        raise ValueError("the cut is empty")
    if blend == "poisson":
        # NOTE: seamlessClone needs the cut off the border: keep a 2 px frame clear.
        mask[:2], mask[-2:], mask[:, :2], mask[:, -2:] = 0, 0, 0, 0
        ys, xs = np.nonzero(mask)
        if len(xs) == 0:
            raise ValueError("the cut lies on the crop's border")
        centre = (int(xs.min() + xs.max() + 1) // 2, int(ys.min() + ys.max() + 1) // 2)
        # NOTE: seamlessClone writes into the mask it is given; it gets a copy.
        cloned = cv2.seamlessClone(donor[..., ::-1].copy(), target_rgb_u8[..., ::-1].copy(),
                                   mask.copy(), centre, cv2.NORMAL_CLONE)[..., ::-1]
        # NOTE: OpenCV's solver also shifts pixels well outside the mask (up to 14 levels 16 px
        # away for a whole face); a clone tool changes its selection only, so the result is kept
        # within the cut grown by a few pixels, with a 2 px feather.
        grown = cv2.dilate(mask, np.ones((2 * _CLONE_GROW_PX + 1,) * 2, np.uint8))
        return _mix(cloned, target_rgb_u8, grown, _CLONE_FEATHER_PX)
    return _mix(donor, target_rgb_u8, mask, _FEATHER_SIGMA_PX)


def _mix(inside: npt.NDArray[np.uint8], outside: npt.NDArray[np.uint8],
         mask_u8: npt.NDArray[np.uint8], sigma_px: float) -> npt.NDArray[np.uint8]:
    alpha = cv2.GaussianBlur(mask_u8.astype(np.float32) / 255.0, (0, 0), sigma_px)[..., None]
    mixed = inside.astype(np.float32) * alpha + outside.astype(np.float32) * (1.0 - alpha)
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Faces:
    """One face crop per real item, with its landmarks (items without either are left out)."""

    paths: tuple[str, ...]
    crops: npt.NDArray[np.uint8]  # (N, S, S, 3)
    landmarks: npt.NDArray[np.float32]  # (N, 478, 2)


def composites_of(faces: Faces, parts: tuple[str, ...] | None, blend: str,
                  ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_]]:
    """Every face with the parts of the face ``DONOR_OFFSET`` further on (never itself); and
    which worked.

    Raises:
        ValueError: fewer than two faces (no donor).
    """
    n = len(faces.crops)
    if n < 2:
        raise ValueError(f"composites need at least two faces; got {n}")
    out = faces.crops.copy()
    made = np.zeros(n, dtype=bool)
    for i in range(n):
        d = (i + DONOR_OFFSET) % n
        d = (i + 1) % n if d == i else d
        try:
            out[i] = composite(faces.crops[i], faces.landmarks[i], faces.crops[d],
                               faces.landmarks[d], parts, blend)
            made[i] = True
        except (ValueError, cv2.error) as exc:
            logger.warning("%s: no composite (%s)", faces.paths[i], exc)
    return out, made


@dataclass(frozen=True)
class Row:
    """One detector (or the mean of the detectors, ``"mean"``) on one kind of composite."""

    detector: str
    variant: str
    blend: str
    threshold: float | None
    n: int
    auc: float
    above_original: int  # composites scored higher than their own original
    composites_above: int  # composites at or above the threshold
    originals_above: int

    def to_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "n": self.n, "auc": round(self.auc, 4),
                "above_original": self.above_original,
                "composites_above": self.composites_above,
                "originals_above": self.originals_above}


def _auc(pos: npt.NDArray[np.float64], neg: npt.NDArray[np.float64]) -> float:
    return float(auc_rows(pos[None, :], neg[None, :])[0])


def measure(faces: Faces, detectors: Mapping[str, tuple[PredictFn, float]]) -> list[Row]:
    """Per detector, variant and blend: AUC of composites vs the untouched faces, and counts.

    The ``"mean"`` rows score each crop by the mean ``p_fake`` of the detectors given, which is
    how fusion combines the face-swap kind (``engine.fusion.per_kind``).
    """
    originals = {name: predict_all(p, faces.crops) for name, (p, _) in detectors.items()}
    rows: list[Row] = []
    for variant, parts in VARIANTS.items():
        for blend in BLENDS:
            crops, made = composites_of(faces, parts, blend)
            scores = {name: predict_all(p, crops[made]) for name, (p, _) in detectors.items()}
            views: dict[str, tuple[Any, Any, float | None]] = {
                name: (scores[name], originals[name][made], t)
                for name, (_, t) in detectors.items()}
            if len(detectors) > 1:
                views["mean"] = (np.mean(list(scores.values()), axis=0),
                                 np.mean([originals[n][made] for n in detectors], axis=0), None)
            for name, (fake, real, threshold) in views.items():
                rows.append(Row(
                    name, variant, blend, threshold, int(made.sum()), _auc(fake, real),
                    int(np.sum(fake > real)),
                    int(np.sum(fake >= threshold)) if threshold is not None else 0,
                    int(np.sum(real >= threshold)) if threshold is not None else 0))
            logger.info("measured %s / %s (%d composites)", variant, blend, int(made.sum()))
    return rows


def part_auc(rows: Sequence[Row], detector: str, blend: str = "poisson") -> float:
    """The mean AUC of ``detector`` over the part variants (not the whole face)."""
    mine = [r.auc for r in rows if r.detector == detector and r.blend == blend
            and r.variant in PART_VARIANTS]
    return float(np.mean(mine)) if mine else float("nan")


def markdown(rows: Sequence[Row], command: str, source: str) -> str:
    """The table of :func:`measure`, with the command and what each column means."""
    detectors = list(dict.fromkeys(r.detector for r in rows))
    by = {(r.detector, r.variant, r.blend): r for r in rows}
    n = max((r.n for r in rows), default=0)
    lines = [f"Command: `{command}`; one face of each real item of `{source}` (evaluation only), "
             f"{n} composites a row: each face gets the named parts of another real item's face, "
             "aligned on their landmarks.", "",
             "Per detector: the AUC of the composites against the untouched faces, then how many "
             "composites reach the detector's own threshold (k/n; exact 95% interval). `mean` is "
             "the mean of the detectors' p_fake, as the face-swap kind combines them.", "",
             "| replaced | blend | " + " | ".join(detectors) + " |",
             "|---|---|" + "---|" * len(detectors)]
    for variant in VARIANTS:
        for blend in BLENDS:
            cells = []
            for d in detectors:
                r = by.get((d, variant, blend))
                if r is None:
                    cells.append("-")
                elif r.threshold is None:
                    cells.append(f"{r.auc:.3f}")
                else:
                    cells.append(f"{r.auc:.3f}; {rate_text(r.composites_above, r.n)}")
            lines.append(f"| {_WORDS[variant]} | {_WORDS[blend]} | " + " | ".join(cells) + " |")
    originals = [f"{d} {rate_text(by[(d, 'one_eye', 'poisson')].originals_above, n)}"
                 for d in detectors if by[(d, "one_eye", "poisson")].threshold is not None]
    lines += ["", "Untouched faces at or above the threshold: " + ", ".join(originals) + "."]
    return "\n".join(lines) + "\n"


def card_entry(rows: Sequence[Row], detector: str, command: str, source: str) -> dict[str, Any]:
    """What a detector's model card stores under :data:`CARD_KEY`."""
    mine = {composite_row_key(r.variant, r.blend):
            {**r.to_dict(), "words": f"{_WORDS[r.variant]}; {_WORDS[r.blend]}"}
            for r in rows if r.detector == detector}
    return {"command": command, "source": source,
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "part_auc_poisson": round(part_auc(rows, detector), 4),
            "rows": mine}


def load_faces(items: Sequence[Any], crops_dir: Path) -> Faces:
    """The first usable face crop of each item and its Face Mesh landmarks (found again on the
    crop: the stored crops keep no landmarks)."""
    from engine.faces.mesh import FaceMeshDetector
    from engine.training.bench_crops import load_crops

    bench = load_crops(items, crops_dir)
    first: dict[int, int] = {}
    for k, i in enumerate(bench.item_of):
        first.setdefault(int(i), k)
    paths, crops, marks = [], [], []
    with FaceMeshDetector(max_faces=1) as mesh:
        for i, k in first.items():
            crop = np.ascontiguousarray(bench.crops[k])
            found = mesh.detect(crop)
            if not found:
                logger.warning("%s: no landmarks on its crop; left out", items[i].path)
                continue
            paths.append(str(items[i].path))
            crops.append(crop)
            marks.append(np.asarray(found[0].landmarks_xy, np.float32))
    if not crops:
        raise ValueError(f"no real face with landmarks in {crops_dir}")
    return Faces(tuple(paths), np.stack(crops), np.stack(marks))


_PROG = "python -m engine.evaluation.part_composites"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    from engine.evaluation import face_measure_cli as cli

    args, reals = cli.start(_PROG, __doc__, CARD_KEY, "detector to measure (repeatable; "
                            "default: every detector of the face_swap kind)", argv)
    faces = load_faces(reals, args.crops)
    detectors = cli.load_face_detectors(args, lambda cfg: cfg.looks_for == "face_swap")
    rows = measure(faces, detectors)
    cli.publish(args, argv, _PROG, CARD_KEY, rows, markdown, card_entry, list(detectors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
