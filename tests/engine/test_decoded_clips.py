"""Decoder-drawn fake clips for MRL: the pairs differ only in whether the decoder's texture holds
from frame to frame, the bank is refused for other images, and the sampler draws them only from
a bank."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.detectors.cfg import LITE_MEAN, LITE_STD, DetectorCfg
from engine.training.datasets import RealFaces
from engine.training.datasets_video import (
    ClipSampler,
    ClipSpec,
    VideoTracks,
    clip_pair,
    jitter_walk,
    warp_crop,
)
from engine.training.decoded_clips import (
    DecodedClips,
    build_clip_bank,
    load_clip_bank,
    phase_offsets,
    walk_seed,
)

T = 4


def _redrawn(rgb: np.ndarray, k: int) -> np.ndarray:
    """A stand-in for a decoder: blurred, plus noise that differs with ``k``."""
    noise = np.random.default_rng(k).integers(-6, 7, size=rgb.shape)
    return np.clip(cv2.GaussianBlur(rgb, (3, 3), 0).astype(int) + noise, 0, 255).astype(np.uint8)


def _hand_bank(stills: RealFaces, tracks: VideoTracks | None, seed: int = 3) -> DecodedClips:
    """A bank shaped as ``load_clip_bank`` returns one, with ``_redrawn`` for TAEF2."""
    still = np.asarray(stills.crops[1])
    video = {} if tracks is None else {i: _redrawn(np.asarray(tracks.crops[i]), 100 + i)
                                       for i in range(len(tracks.landmarks))}
    return DecodedClips(video=video,
                        pseudo_frames={1: np.stack([_redrawn(still, t) for t in range(T)])},
                        seed=seed)


def _tracks(stills: RealFaces) -> VideoTracks:
    crops = np.stack([np.asarray(stills.crops[i % len(stills)]) for i in range(6)])
    lms = np.stack([stills.landmarks[i % len(stills)] for i in range(6)])
    return VideoTracks(crops, lms, (np.arange(6),), ("v",))


def test_a_decoded_pseudo_pair_moves_one_reconstruction_against_one_per_frame(
    stills: RealFaces,
) -> None:
    bank = _hand_bank(stills, None)
    spec = ClipSpec("pseudo", (1,), "decoded", seed=5)
    real, fake = clip_pair(spec, None, stills, T, postaug=False, decoded=bank)
    assert real.shape == fake.shape == (T, *stills.crops.shape[1:])
    draws = bank.pseudo_frames[1]
    walk = jitter_walk(draws.shape[1], T, np.random.default_rng(walk_seed(bank.seed, 1)))
    # the same warp per frame on both sides: the first draw, against draw t at frame t
    np.testing.assert_array_equal(real, np.stack([warp_crop(draws[0], m) for m in walk]))
    np.testing.assert_array_equal(fake, np.stack([warp_crop(d, m) for d, m in
                                                  zip(draws, walk, strict=True)]))
    np.testing.assert_array_equal(real[0], fake[0])
    assert not np.array_equal(real[1], fake[1])
    again = clip_pair(spec, None, stills, T, postaug=True, decoded=bank)
    assert all(np.array_equal(a, b) for a, b in
               zip(again, clip_pair(spec, None, stills, T, postaug=True, decoded=bank),
                   strict=True))


def test_a_decoded_video_pair_is_the_frames_against_their_own_reconstructions(
    stills: RealFaces,
) -> None:
    tracks = _tracks(stills)
    bank = _hand_bank(stills, tracks)
    spec = ClipSpec("video", (1, 2, 3, 4), "decoded", seed=5)
    real, fake = clip_pair(spec, tracks, stills, T, postaug=False, decoded=bank)
    np.testing.assert_array_equal(real, tracks.crops[1:5])
    np.testing.assert_array_equal(fake, np.stack([bank.video[i] for i in (1, 2, 3, 4)]))
    partial = dataclasses.replace(bank, video={i: bank.video[i] for i in (1, 2)})
    with pytest.raises(ValueError, match=r"no reconstruction of frames \[3, 4\]"):
        clip_pair(spec, tracks, stills, T, postaug=False, decoded=partial)
    with pytest.raises(ValueError, match="needs a decoded-clip bank"):
        clip_pair(spec, tracks, stills, T, postaug=False)
    with pytest.raises(ValueError, match="no pseudo pair of still 0"):
        clip_pair(ClipSpec("pseudo", (0,), "decoded", 5), None, stills, T, postaug=False,
                  decoded=bank)


def _cfg() -> DetectorCfg:
    return DetectorCfg(name="clip_test", version="0", variant="cpu", input_size=64,
                       mean=LITE_MEAN, std=LITE_STD, face_margin=0.25, clip_len=T,
                       output="softmax2", map_kind="attention", looks_for="temporal")


def test_the_sampler_draws_decoded_pairs_only_from_the_bank(stills: RealFaces) -> None:
    tracks = _tracks(stills)
    bank = _hand_bank(stills, tracks)
    sampler = ClipSampler(tracks, stills, _cfg(), np.random.default_rng(0), p_pseudo=0.5,
                          strides=(1,), mode_probs=(0.0, 0.0, 0.0, 1.0), decoded=bank)
    specs = [sampler.next_spec() for _ in range(40)]
    assert {s.mode for s in specs} == {"decoded"}
    assert {s.kind for s in specs} == {"pseudo", "video"}
    assert {s.items for s in specs if s.kind == "pseudo"} == {(1,)}  # the banked still only
    batch = sampler.sample(2)
    assert batch.images.shape == (4, T, 3, 64, 64)
    no_bank = ClipSampler(None, stills, _cfg(), np.random.default_rng(0), p_pseudo=1.0,
                          mode_probs=(0.0, 0.0, 0.0, 1.0))
    with pytest.raises(ValueError, match="no bank was given"):
        no_bank.next_spec()


def test_three_mode_probabilities_draw_as_before_and_need_no_bank(stills: RealFaces) -> None:
    """Seeded draws of a three-mode sampler must not change with the fourth mode's arrival:
    the same generator calls as ``rng.choice(3, p)``."""
    sampler = ClipSampler(None, stills, _cfg(), np.random.default_rng(4), p_pseudo=1.0)
    rng = np.random.default_rng(4)
    for _ in range(20):
        spec = sampler.next_spec()
        mode = ("drift", "jump", "donor")[int(rng.choice(3, p=np.array([0.35, 0.35, 0.3])))]
        seed = int(rng.integers(2**62))  # no tracks: no draw for the pseudo share
        assert (spec.mode, spec.seed, spec.items) == (mode, seed,
                                                      (int(rng.integers(len(stills))),))


def test_the_config_asks_for_a_bank_when_decoded_pairs_have_a_share() -> None:
    from engine.training.config_video_gan import VideoGanConfig

    three = VideoGanConfig(detector="relation_effl0", method="mrl", mode_probs=(0.35, 0.35, 0.3))
    four = VideoGanConfig(detector="relation_effl0", method="mrl",
                          mode_probs=(0.2, 0.2, 0.1, 0.5), clip_bank="bank")
    assert (three.decoded_share, four.decoded_share) == (0.0, 0.5)
    assert "decoded_share" not in four.to_dict()  # derived, never stored
    with pytest.raises(ValueError, match="need clip_bank"):
        VideoGanConfig(detector="relation_effl0", method="mrl", mode_probs=(0.2, 0.2, 0.1, 0.5))
    with pytest.raises(ValueError, match="three or four"):
        VideoGanConfig(detector="relation_effl0", method="mrl", mode_probs=(0.5, 0.5))


def test_the_bank_is_built_with_taef2_and_refused_for_other_stills(
    stills: RealFaces, shared_data: Path, tmp_path: Path,
) -> None:
    """Built with the real TAEF2 weights (one still, three draws at three grid phases)."""
    taef2 = shared_data.parent / "models" / "taef2"
    one = dataclasses.replace(stills, crops=np.asarray(stills.crops)[:1],
                              landmarks=stills.landmarks[:1], groups=stills.groups[:1])
    assert build_clip_bank(None, one, tmp_path, clip_len=3, n_stills=1, seed=0,
                           taef2_dir=taef2) == 1
    bank = load_clip_bank(tmp_path, None, one, clip_len=3, seed=0)
    assert bank.stills() == [0]
    draws = bank.pseudo_frames[0].astype(np.float64)
    assert draws.shape == (3, *one.crops.shape[1:])
    crop = np.asarray(one.crops[0]).astype(np.float64)
    inner = np.s_[16:-16, 16:-16]
    for draw in draws:  # each draw aligned with the still, but redrawn
        assert 0.5 < np.abs(draw - crop)[inner].mean() < 20.0
    # the draws differ from each other (another phase) by less than from the still
    assert 0.2 < np.abs(draws[1] - draws[0])[inner].mean() < np.abs(draws[0] - crop)[inner].mean()
    assert len({tuple(o) for o in phase_offsets(0, 0, 8)}) == 8
    flipped = dataclasses.replace(one, crops=np.ascontiguousarray(np.asarray(one.crops)[:, ::-1]))
    with pytest.raises(ValueError, match="other faces"):
        load_clip_bank(tmp_path, None, flipped, clip_len=3, seed=0)
    with pytest.raises(ValueError, match="other faces or settings"):
        load_clip_bank(tmp_path, None, one, clip_len=3, seed=1)
    with pytest.raises(FileNotFoundError, match="no decoded-clip bank"):
        load_clip_bank(tmp_path / "nothing", None, one, clip_len=3, seed=0)


def test_the_training_loop_reads_the_bank_named_by_the_config(stills: RealFaces, tmp_path: Path,
                                                              monkeypatch) -> None:
    """``clip_bank`` is found beside the run folder and handed to the sampler."""
    from types import SimpleNamespace

    from engine.training import loop_video_gan
    from engine.training.config_video_gan import VideoGanConfig

    tracks = _tracks(stills)
    bank = _hand_bank(stills, tracks)
    seen: dict[str, object] = {}

    def fake_load(folder: Path, *args: object, **kwargs: object) -> DecodedClips:
        seen["folder"] = folder
        return bank

    monkeypatch.setattr(loop_video_gan, "mrl_split_data", lambda *a: (tracks, stills))
    monkeypatch.setattr(loop_video_gan, "load_clip_bank", fake_load)
    cfg = VideoGanConfig(detector="relation_effl0", method="mrl",
                         mode_probs=(0.0, 0.0, 0.0, 1.0), clip_bank="bank")
    detector = SimpleNamespace(cfg=_cfg())
    sampler = loop_video_gan._sampler(cfg, detector, tmp_path, tmp_path / "bank")
    assert seen["folder"] == tmp_path / "bank"
    assert sampler.decoded is bank
    assert sampler.describe()["decoded_stills"] == 1  # the card says what the run saw
    assert sampler.next_spec().mode == "decoded"
    with pytest.raises(ValueError, match="run folder"):
        loop_video_gan._sampler(cfg, detector, tmp_path, None)
