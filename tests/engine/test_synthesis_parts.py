"""Part blends (engine.synthesis.parts): the method's own draws with a part hull as the mask."""

from __future__ import annotations

import dataclasses

import numpy as np

from engine.synthesis.masks import PART_SHAPES
from engine.synthesis.parts import (
    MAX_PART_ERODE_PX,
    sample_part_bi_params,
    sample_part_sbi_params,
)
from engine.synthesis.sbi import sample_sbi_params
from engine.synthesis.xray_blend import sample_bi_params


def test_part_params_are_the_methods_draws_with_a_part_hull() -> None:
    for seed in range(30):
        sbi = sample_part_sbi_params(np.random.default_rng(seed))
        assert sbi.hull_shape in PART_SHAPES
        same_draws = sample_sbi_params(np.random.default_rng(seed))
        assert dataclasses.replace(sbi, hull_shape=same_draws.hull_shape) == same_draws
        bi = sample_part_bi_params(np.random.default_rng(seed))
        assert bi.hull_shape in PART_SHAPES
        assert bi.erode_dilate_px >= -MAX_PART_ERODE_PX
        plain = sample_bi_params(np.random.default_rng(seed))
        assert bi.deform_seed == plain.deform_seed
        assert bi.blur_sigma_frac == plain.blur_sigma_frac


def test_part_draws_reach_every_part_set_and_replay_with_a_seed() -> None:
    rng = np.random.default_rng(0)
    assert {sample_part_sbi_params(rng).hull_shape for _ in range(400)} == set(PART_SHAPES)
    assert sample_part_bi_params(np.random.default_rng(7)) == sample_part_bi_params(
        np.random.default_rng(7))
