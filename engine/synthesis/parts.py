"""Blends of face parts: the fakes of a hand-made photo composite.

A composite made in a photo editor replaces one or more parts of a face (an eye, the nose, the
mouth) with another person's, and blends only their edges. The face-swap detectors learnt blends
that end at the face outline (every reference hull shape covers the whole inner face), and on
the dev bench's real faces composited this way they rank the composites barely above the
originals (``engine.evaluation.part_composites``). These helpers draw SBI and donor-blend
parameters whose mask is a part hull (``masks.PART_SHAPES``) and otherwise the method's own
draws, so a part blend differs from a face blend in its mask only.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from engine.synthesis.masks import PART_SHAPES
from engine.synthesis.sbi import SbiParams, sample_sbi_params
from engine.synthesis.xray_blend import BiParams, sample_bi_params

__all__ = ["MAX_PART_ERODE_PX", "sample_part_bi_params", "sample_part_sbi_params"]

# NOTE: a donor blend may erode its face hull by up to 21 px; a part hull (an eye is ~40 px
# high in a 256 px crop) would vanish, so its erosion is capped here.
MAX_PART_ERODE_PX = 7


def _part(rng: np.random.Generator) -> str:
    return PART_SHAPES[int(rng.integers(len(PART_SHAPES)))]


def sample_part_sbi_params(rng: np.random.Generator) -> SbiParams:
    """A self-blend's parameters (``sample_sbi_params``) with a part hull as its mask."""
    return dataclasses.replace(sample_sbi_params(rng), hull_shape=_part(rng))


def sample_part_bi_params(rng: np.random.Generator) -> BiParams:
    """A donor blend's parameters (``sample_bi_params``) with a part hull as its mask."""
    p = sample_bi_params(rng)
    return dataclasses.replace(p, hull_shape=_part(rng),
                               erode_dilate_px=max(p.erode_dilate_px, -MAX_PART_ERODE_PX))
