"""Fake clips for the video detector (MRL, METHODS.md section 4), made from real tracked clips.

Per-frame face manipulation leaves temporal traces: the blend drifts or flickers from frame to
frame. We self-blend every frame of a real clip with SBI parameters that

- ``"drift"``: follow a small random walk (each continuous parameter moves by N(0, 2% of its
  range) per frame, reflected at the range ends; the hull shape, degradation type and elastic
  field stay fixed), or
- ``"jump"``: do the same walk but are re-drawn completely at random frames (each frame after
  the first with p=0.25, at least one per clip): the flicker of independent per-frame fakes,

or blend one donor face into every frame with one fixed mask deformation (a face swap).

In clips the source is always the transformed copy and the target the untouched frame, so
outside the face every fake frame equals the real frame: the real clip is the fake's real twin
and no clip-wide colour change can become a shortcut (the still-image SBI swaps them at p=0.5).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from engine.errors import SynthesisInputError
from engine.synthesis.result import BlendResult
from engine.synthesis.sbi import (
    SbiParams,
    params_from_unit,
    params_to_unit,
    sample_sbi_params,
    self_blend,
)
from engine.synthesis.xray_blend import blend_with_donor, sample_bi_params

__all__ = ["TEMPORAL_MODES", "temporal_donor_blend", "temporal_self_blend"]

TEMPORAL_MODES = ("drift", "jump")
DRIFT_STEP = 0.02  # NOTE: per-frame sigma as a fraction of each parameter's range.
JUMP_PROB = 0.25  # NOTE: chance that a frame (after the first) re-draws all parameters.


def temporal_self_blend(
    frames_rgb_u8: Sequence[np.ndarray],
    landmarks: Sequence[np.ndarray],
    rng: np.random.Generator,
    mode: str = "drift",
) -> list[BlendResult]:
    """Self-blend every frame of one tracked face clip.

    Args:
        frames_rgb_u8: T face crops (S, S, 3) of one track, in time order.
        landmarks: T (478, 2) landmark arrays, each in its crop's pixels.
        rng: source of every random draw.
        mode: ``"drift"`` (smooth random walk) or ``"jump"`` (walk plus abrupt re-draws).

    Returns:
        T results; ``result.params`` holds each frame's ``SbiParams``.
    """
    _check_clip(frames_rgb_u8, landmarks)
    if mode not in TEMPORAL_MODES:
        raise SynthesisInputError(f"unknown temporal mode {mode!r}; use one of {TEMPORAL_MODES}")
    n_frames = len(frames_rgb_u8)
    jumps = _jump_frames(n_frames, rng) if mode == "jump" else np.zeros(n_frames, bool)
    params = _clip_start(rng)
    unit = params_to_unit(params)
    results = []
    for t, (frame, lm) in enumerate(zip(frames_rgb_u8, landmarks, strict=True)):
        if jumps[t]:
            params = _clip_start(rng)
            unit = params_to_unit(params)
        elif t > 0:
            unit = _reflect(unit + rng.normal(0.0, DRIFT_STEP, size=unit.shape))
            params = params_from_unit(params, unit)
        results.append(self_blend(frame, lm, rng, params=params))
    return results


def temporal_donor_blend(
    frames_rgb_u8: Sequence[np.ndarray],
    landmarks: Sequence[np.ndarray],
    donor_rgb_u8: np.ndarray,
    donor_lm: np.ndarray,
    rng: np.random.Generator,
) -> list[BlendResult]:
    """Blend one donor face into every frame of a clip, with one mask deformation for the clip.

    The donor is re-aligned and colour-corrected to each frame, so it follows the head but not
    the expression (mouth and eyes stay the donor's), as a crude per-frame face swap would.
    """
    _check_clip(frames_rgb_u8, landmarks)
    params = sample_bi_params(rng)
    return [
        blend_with_donor(frame, lm, donor_rgb_u8, donor_lm, rng, params=params)
        for frame, lm in zip(frames_rgb_u8, landmarks, strict=True)
    ]


def _clip_start(rng: np.random.Generator) -> SbiParams:
    """A fresh SBI parameter set whose source is the transformed copy (see module doc)."""
    return dataclasses.replace(sample_sbi_params(rng), transform_source=True)


def _jump_frames(n_frames: int, rng: np.random.Generator) -> np.ndarray:
    """Boolean (T,): frames (never the first) where every parameter is re-drawn."""
    jumps = rng.random(n_frames) < JUMP_PROB
    jumps[0] = False
    if n_frames > 1 and not jumps.any():
        jumps[int(rng.integers(1, n_frames))] = True
    return jumps


def _reflect(unit: np.ndarray) -> np.ndarray:
    """Fold values back into [0, 1] (a random walk that bounces off the range ends)."""
    folded = np.mod(unit, 2.0)
    return np.where(folded > 1.0, 2.0 - folded, folded)


def _check_clip(frames: Sequence[np.ndarray], landmarks: Sequence[np.ndarray]) -> None:
    if len(frames) == 0:
        raise SynthesisInputError("a clip needs at least one frame")
    if len(frames) != len(landmarks):
        raise SynthesisInputError(
            f"a clip needs one landmark array per frame; got {len(frames)} frames and "
            f"{len(landmarks)} landmark arrays"
        )
