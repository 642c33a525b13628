"""MRL training data and losses: track runs, pseudo-clips, clip pairs, diversity/consistency."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.data.manifest import CropRow, write_rows
from engine.training.datasets import RealFaces
from engine.training.datasets_video import (
    SYNTH_MODES,
    ClipSampler,
    ClipSpec,
    VideoTracks,
    clip_pair,
    pseudo_clip,
    tracks_from_cache,
    val_clip_specs,
)

torch = pytest.importorskip("torch")

from engine.training.losses_mrl import (  # noqa: E402
    mrl_loss,
    orthogonal_diversity_loss,
    temporal_consistency_loss,
)

T = 8


def _write_cache(root: Path, frames: list[int], step: int = 2) -> None:
    """A face cache with one tracked video whose face was found at ``frames``."""
    part = root / "parts" / "videos_real" / "clip_a"
    part.mkdir(parents=True)
    n = len(frames)
    np.save(part / "crops.npy", np.zeros((n, 32, 32, 3), np.uint8))
    np.save(part / "landmarks.npy", np.zeros((n, 478, 2), np.float32))
    np.save(part / "crop_to_frame.npy", np.zeros((n, 2, 3), np.float64))
    rows = [CropRow("videos_real", "clip_a", i, "videos_real/clip_a.mp4", "clip_a", "clip_a/t0",
                    0, f, "real", "train", 0.9, 100.0, 0, 1) for i, f in enumerate(frames)]
    write_rows(root / "manifest.csv", rows, CropRow)
    (root / "cache.json").write_text(json.dumps({"config": {"size": 32, "video_step": step}}))


def test_tracks_are_cut_into_runs_where_the_face_was_missed(tmp_path: Path) -> None:
    frames = [0, 2, 4, 6, 8, 10, 12, 14, 16, 20, 22, 24, 30, 32]  # misses at 18, 26, 28
    _write_cache(tmp_path, frames)
    tracks = tracks_from_cache(tmp_path, split="train", min_len=3)
    assert [r.tolist() for r in tracks.runs] == [list(range(9)), [9, 10, 11]]
    assert tracks.groups == ("videos_real:clip_a", "videos_real:clip_a")
    with pytest.raises(ValueError, match="no videos_real track"):
        tracks_from_cache(tmp_path, split="train", min_len=10)


def test_pseudo_clip_moves_the_landmarks_with_the_pixels() -> None:
    crop = np.zeros((128, 128, 3), np.uint8)
    crop[40, 90] = 255
    lm = np.zeros((478, 2), np.float32)
    lm[0] = (90.0, 40.0)
    frames, lms = pseudo_clip(crop, lm, T, np.random.default_rng(0), shift_px=2.0)
    assert len(frames) == T
    assert np.array_equal(frames[0], crop)  # the walk starts at the still itself
    for frame, points in zip(frames, lms, strict=True):
        y, x = np.unravel_index(np.argmax(frame[..., 0]), frame.shape[:2])
        assert np.hypot(x - points[0, 0], y - points[0, 1]) <= 1.0
    assert not np.allclose(lms[0], lms[-1])


def test_val_specs_are_deterministic_non_overlapping_windows_with_cycling_modes() -> None:
    tracks = VideoTracks(crops=None, landmarks=np.zeros((30, 478, 2), np.float32),
                         runs=(np.arange(20), np.arange(20, 30)), groups=("a", "b"))
    specs = val_clip_specs(tracks, None, T, n_pseudo=0, seed=1)
    assert [s.items for s in specs] == [tuple(range(8)), tuple(range(8, 16)),
                                        tuple(range(20, 28))]
    assert [s.mode for s in specs] == list(SYNTH_MODES)
    assert specs == val_clip_specs(tracks, None, T, n_pseudo=0, seed=1)
    strided = val_clip_specs(tracks, None, T, n_pseudo=0, seed=1, stride=2)
    assert [s.items for s in strided] == [tuple(range(0, 16, 2))]


@pytest.mark.parametrize("mode", SYNTH_MODES)
def test_a_clip_pair_is_a_real_clip_and_its_reproducible_fake(stills: RealFaces,
                                                              mode: str) -> None:
    spec = ClipSpec("pseudo", (0,), mode, seed=11)
    real, fake = clip_pair(spec, None, stills, 4, postaug=False)
    assert real.shape == fake.shape == (4, *stills.crops.shape[1:])
    assert real.dtype == np.uint8
    assert np.array_equal(real[0], stills.crops[0])
    for t in range(4):
        changed = np.abs(real[t].astype(int) - fake[t].astype(int)).max(axis=2) > 0
        assert 0.02 < changed.mean() < 0.9  # the face changed, not the whole crop
    again_real, again_fake = clip_pair(spec, None, stills, 4, postaug=False)
    assert np.array_equal(again_fake, fake)
    assert np.array_equal(again_real, real)


def test_sampler_gives_pairs_of_preprocessed_clips(stills: RealFaces) -> None:
    from engine.detectors.cfg import LITE_MEAN, LITE_STD, DetectorCfg

    cfg = DetectorCfg(name="clip_test", version="0", variant="cpu", input_size=64,
                      mean=LITE_MEAN, std=LITE_STD, face_margin=0.25, clip_len=3,
                      output="softmax2", map_kind="attention", looks_for="temporal")
    sampler = ClipSampler(None, stills, cfg, np.random.default_rng(2), p_pseudo=1.0)
    batch = sampler.sample(2)
    assert batch.images.shape == (4, 3, 3, 64, 64)
    assert batch.labels.tolist() == [0, 0, 1, 1]
    assert np.all(np.isfinite(batch.images))


def test_diversity_loss_is_zero_for_orthogonal_heads_and_positive_for_equal_ones() -> None:
    orthogonal = torch.eye(4, 16).expand(2, 3, 4, 16) * 5.0  # scale does not matter
    assert float(orthogonal_diversity_loss(orthogonal)) == pytest.approx(0.0, abs=1e-7)
    same = torch.ones(2, 3, 4, 16)
    assert float(orthogonal_diversity_loss(same)) == pytest.approx(12 / 16)


def test_consistency_loss_is_zero_for_constant_regions_and_needs_two_frames() -> None:
    regions = torch.randn(2, 1, 4, 16, generator=torch.Generator().manual_seed(0))
    assert float(temporal_consistency_loss(regions.expand(2, 5, 4, 16))) == pytest.approx(0.0)
    moving = torch.randn(2, 5, 4, 16, generator=torch.Generator().manual_seed(1))
    assert float(temporal_consistency_loss(moving)) > 0.1
    with pytest.raises(ValueError, match="two frames"):
        temporal_consistency_loss(regions)


def test_mrl_loss_adds_the_weighted_terms() -> None:
    gen = torch.Generator().manual_seed(2)
    out = {"logits": torch.randn(4, 2, generator=gen),
           "regions": torch.randn(4, 3, 4, 8, generator=gen)}
    labels = torch.tensor([0, 1, 0, 1])
    total, parts = mrl_loss(out, labels, od_weight=0.5, tc_weight=0.25)
    assert float(total) == pytest.approx(parts["ce"] + 0.5 * parts["od"] + 0.25 * parts["tc"],
                                         rel=1e-5)
