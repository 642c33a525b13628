"""Temporal fake clips from a real tracked face: drift vs jump, donor clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.errors import SynthesisInputError
from engine.synthesis.result import BlendResult
from engine.synthesis.sbi import SbiParams, params_to_unit
from engine.synthesis.temporal import temporal_donor_blend, temporal_self_blend
from engine.synthesis.xray_blend import BiParams
from tests.engine.test_synthesis_masks import RealFace, real_clip, real_faces


@pytest.fixture(scope="module")
def clip(shared_data: Path) -> tuple[RealFace, ...]:
    return real_clip(shared_data)


def _run(clip: tuple[RealFace, ...], mode: str, seed: int) -> list[BlendResult]:
    return temporal_self_blend(
        [f.rgb_u8 for f in clip],
        [f.landmarks_xy for f in clip],
        np.random.default_rng(seed),
        mode=mode,
    )


def _mean_step(results: list[BlendResult]) -> float:
    """Mean absolute frame-to-frame change of the parameters, in units of their ranges."""
    units = np.stack([params_to_unit(r.params) for r in results])
    return float(np.abs(np.diff(units, axis=0)).mean())


@pytest.mark.parametrize("mode", ["drift", "jump"])
def test_every_frame_is_blended_and_equals_the_real_frame_outside_the_mask(
    clip: tuple[RealFace, ...], mode: str
) -> None:
    results = _run(clip, mode, seed=1)
    assert len(results) == len(clip)
    for frame, res in zip(clip, results, strict=True):
        assert isinstance(res.params, SbiParams)
        assert res.params.transform_source  # the real frame is the target: the real twin
        assert res.image_rgb_u8.shape == frame.rgb_u8.shape
        assert np.array_equal(res.target_rgb_u8, frame.rgb_u8)
        zero = res.mask_f32 == 0
        assert np.array_equal(res.image_rgb_u8[zero], frame.rgb_u8[zero])
        assert np.any(res.image_rgb_u8 != frame.rgb_u8)


def test_drift_moves_parameters_a_little_every_frame(clip: tuple[RealFace, ...]) -> None:
    results = _run(clip, "drift", seed=2)
    units = np.stack([params_to_unit(r.params) for r in results])
    steps = np.abs(np.diff(units, axis=0))
    assert np.all(steps.max(axis=1) > 0)  # something changes every frame
    assert steps.max() < 0.15  # but never abruptly
    first = results[0].params
    assert all(r.params.hull_shape == first.hull_shape for r in results)
    assert all(r.params.elastic_seed == first.elastic_seed for r in results)


def test_jump_changes_parameters_more_than_drift(clip: tuple[RealFace, ...]) -> None:
    for seed in range(3):
        drift, jump = _mean_step(_run(clip, "drift", seed)), _mean_step(_run(clip, "jump", seed))
        assert jump > 2 * drift, (seed, drift, jump)


def test_same_seed_same_clip(clip: tuple[RealFace, ...]) -> None:
    a, b = _run(clip, "jump", seed=5), _run(clip, "jump", seed=5)
    c = _run(clip, "jump", seed=6)
    assert [x.image_rgb_u8.tobytes() for x in a] == [y.image_rgb_u8.tobytes() for y in b]
    assert [x.image_rgb_u8.tobytes() for x in a] != [z.image_rgb_u8.tobytes() for z in c]


def test_donor_clip_blends_one_donor_with_one_mask_deformation(
    clip: tuple[RealFace, ...], shared_data: Path
) -> None:
    donor = real_faces(shared_data)[0]
    results = temporal_donor_blend(
        [f.rgb_u8 for f in clip],
        [f.landmarks_xy for f in clip],
        donor.rgb_u8,
        donor.landmarks_xy,
        np.random.default_rng(0),
    )
    assert len(results) == len(clip)
    assert isinstance(results[0].params, BiParams)
    assert all(r.params == results[0].params for r in results)
    for frame, res in zip(clip, results, strict=True):
        assert np.array_equal(res.target_rgb_u8, frame.rgb_u8)
        assert res.xray_f32.max() > 0.9
        assert np.any(res.image_rgb_u8 != frame.rgb_u8)


def test_bad_clips_raise_typed_errors(clip: tuple[RealFace, ...]) -> None:
    frames = [f.rgb_u8 for f in clip]
    lms = [f.landmarks_xy for f in clip]
    rng = np.random.default_rng(0)
    with pytest.raises(SynthesisInputError, match="unknown temporal mode"):
        temporal_self_blend(frames, lms, rng, mode="wobble")
    with pytest.raises(SynthesisInputError, match="one landmark array per frame"):
        temporal_self_blend(frames, lms[:-1], rng)
    with pytest.raises(SynthesisInputError, match="at least one frame"):
        temporal_self_blend([], [], rng)
