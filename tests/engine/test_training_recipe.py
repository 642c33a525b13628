"""How training pairs are made beyond the blend: the capture chain, the X-ray target, the share
of clip frames, part blends and decoder-drawn sources (engine.training.datasets.PairRecipe)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.errors import SynthesisInputError
from engine.synthesis.result import xray_from_mask
from engine.synthesis.sbi import self_blend
from engine.training.config import TrainConfig
from engine.training.datasets import PairRecipe, RealFaces, draw_weights, synthesize_pair
from engine.training.decoded_faces import build, load_decoded, plan_indices
from tests.engine.test_synthesis_masks import real_faces


@pytest.fixture(scope="module")
def faces(shared_data: Path) -> RealFaces:
    found = real_faces(shared_data)
    return RealFaces(np.stack([f.rgb_u8 for f in found]), np.stack([f.landmarks_xy for f in found]),
                     np.array([f"utkface:{i}" for i in range(len(found))]),
                     np.tile(np.array([[20.0, 0.0, 255.0, 230.0]], np.float32), (len(found), 1)))


def test_without_the_chain_pairs_are_drawn_exactly_as_before(faces: RealFaces) -> None:
    """capture_prob 0 draws nothing extra, so configs from before the chain replay."""
    a = synthesize_pair(faces, 1, np.random.default_rng(3), p_bi=0.0, postaug=True)
    b = synthesize_pair(faces, 1, np.random.default_rng(3), p_bi=0.0, postaug=True,
                        capture_prob=0.0)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_the_chain_repads_the_margin_outside_the_source_image(faces: RealFaces) -> None:
    for seed in range(4):
        real, fake, _ = synthesize_pair(faces, 0, np.random.default_rng(seed), p_bi=0.0,
                                        postaug=False, capture_prob=1.0)
        for img in (real, fake):
            assert np.array_equal(img[:, :20], np.repeat(img[:, 20:21], 20, axis=1))
            assert np.array_equal(img[231:], np.repeat(img[230:231], 25, axis=0))


def test_the_boundary_target_is_a_band_even_for_a_partial_blend(faces: RealFaces) -> None:
    """A self-blend with ratio r < 1 mixes its whole face; "mask" marks the face, "boundary"
    only where the blended region ends."""
    found = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        _, _, mask_target = synthesize_pair(faces, 2, rng, p_bi=0.0, postaug=False)
        rng = np.random.default_rng(seed)
        _, _, band = synthesize_pair(faces, 2, rng, p_bi=0.0, postaug=False,
                                     xray_target="boundary")
        if np.allclose(band, mask_target, atol=1e-6):
            continue  # r = 1: the two targets are the same
        found += 1  # r in (0.25, 0.5, 0.75): every pixel of the face is a mix
        assert mask_target[32, 32] > 0.5
        assert band[32, 32] < 0.2  # the middle of the face is not a boundary
        assert band.max() > 0.9
    assert found > 0
    m = np.linspace(0, 0.5, 11, dtype=np.float32)[None]
    np.testing.assert_allclose(xray_from_mask(m / m.max()).max(), 1.0)


def test_a_retouched_real_is_the_real_of_its_pair(faces: RealFaces) -> None:
    """retouch_prob 1: the real is the retouched face (the skin smoothed inside the face, the
    margin untouched) and the fake is blended from it; 0 draws nothing extra."""
    from engine.synthesis.retouch import retouch_face

    plain = synthesize_pair(faces, 1, np.random.default_rng(5), p_bi=0.0, postaug=False)
    again = synthesize_pair(faces, 1, np.random.default_rng(5), p_bi=0.0, postaug=False,
                            retouch_prob=0.0)
    for x, y in zip(plain, again, strict=True):
        np.testing.assert_array_equal(x, y)
    from engine.synthesis import sample_sbi_params

    original = np.asarray(faces.crops[1])
    checked = 0
    for seed in range(12):
        real, fake, _ = synthesize_pair(faces, 1, np.random.default_rng(seed), p_bi=0.0,
                                        postaug=False, retouch_prob=1.0)
        replay = np.random.default_rng(seed)
        replay.random()  # the retouch_prob draw
        retouched = retouch_face(original, faces.landmarks[1], replay)
        assert not np.array_equal(retouched, original)
        assert np.array_equal(retouched[:8, :8], original[:8, :8])  # outside the face
        assert real.dtype == fake.dtype == np.uint8
        if sample_sbi_params(replay).transform_source:  # the target, i.e. the real, untouched
            np.testing.assert_array_equal(real, retouched)
            checked += 1
    assert checked > 0


def test_retouch_is_deterministic_and_smooths_only_the_face(faces: RealFaces) -> None:
    from engine.synthesis.retouch import RetouchParams, retouch_face

    crop, lm = np.asarray(faces.crops[0]), faces.landmarks[0]
    a = retouch_face(crop, lm, np.random.default_rng(1))
    b = retouch_face(crop, lm, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    strong = RetouchParams(diameter=9, sigma_colour=80.0, sigma_space=9.0, strength=1.0,
                           feather=0.01)
    out = retouch_face(crop, lm, np.random.default_rng(0), params=strong)
    centre = (int(lm[:, 1].mean()), int(lm[:, 0].mean()))
    window = (slice(centre[0] - 10, centre[0] + 10), slice(centre[1] - 10, centre[1] + 10))
    detail = lambda img: float(np.abs(np.diff(img[window].astype(np.float32), axis=1)).mean())  # noqa: E731
    assert detail(out) < detail(crop)
    assert np.array_equal(out[:4, :4], crop[:4, :4])


def test_draw_weights_give_clip_frames_their_share() -> None:
    groups = np.array(["utkface:a"] * 90 + ["videos_real:clip.mp4/t0"] * 10)
    assert draw_weights(groups, 0.0) is None
    w = draw_weights(groups, 0.4)
    assert w is not None
    assert w.sum() == pytest.approx(1.0)
    assert w[90:].sum() == pytest.approx(0.4)
    with pytest.raises(ValueError, match="clip frames"):
        draw_weights(groups[:90], 0.4)


def test_config_validates_and_carries_the_recipe() -> None:
    base = {"detector": "sbi_effl0", "method": "sbi"}
    cfg = TrainConfig.from_dict({**base, "capture_prob": 0.8, "video_share": 0.35,
                                 "xray_target": "boundary", "p_bi": 0.5, "retouch_prob": 0.5})
    assert cfg.recipe() == PairRecipe(p_bi=0.5, capture_prob=0.8, xray_target="boundary",
                                      video_share=0.35, retouch_prob=0.5)
    for bad in ({"capture_prob": 1.5}, {"video_share": -0.1}, {"xray_target": "blob"},
                {"retouch_prob": 2.0},
                {"snapshot_every_steps": -1}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            TrainConfig.from_dict({**base, **bad})


def test_a_captured_validation_set_keeps_the_clean_sets_blends(faces: RealFaces) -> None:
    """The capture chain draws from its own stream: the same fakes, then degraded alike."""
    from engine.training.datasets import make_val_set

    clean = make_val_set(faces, p_bi=0.0, seed=1)
    captured = make_val_set(faces, p_bi=0.0, seed=1, capture_prob=1.0)
    assert captured.crops.shape == clean.crops.shape
    np.testing.assert_array_equal(captured.labels, clean.labels)
    n = len(clean.labels) // 2
    for i in range(n):
        assert not np.array_equal(captured.crops[i], clean.crops[i])
        blend_clean = np.abs(clean.crops[n + i].astype(int) - clean.crops[i]).sum(axis=2) > 0
        assert blend_clean.any()
    again = make_val_set(faces, p_bi=0.0, seed=1, capture_prob=1.0)
    np.testing.assert_array_equal(again.crops, captured.crops)


def test_the_release_calibration_set_may_change_after_training() -> None:
    """val_capture_prob only chooses the validation/calibration pairs: a finished run can be
    released on casework-like pairs; any field that changes training still refuses."""
    base = TrainConfig.from_dict({"detector": "sbi_effl0", "method": "sbi"})
    assert base.same_training(dataclasses.replace(base, val_capture_prob=0.5))
    assert not base.same_training(dataclasses.replace(base, capture_prob=0.5))
    assert not base.same_training(dataclasses.replace(base, lr=1e-3))


@pytest.mark.parametrize("key", ["part_prob", "decoder_prob"])
def test_without_part_blends_or_decoded_sources_pairs_are_drawn_exactly_as_before(
    faces: RealFaces, key: str,
) -> None:
    """part_prob and decoder_prob 0 draw nothing extra, so configs from before them replay
    their pairs."""
    for p_bi in (0.0, 1.0):
        a = synthesize_pair(faces, 1, np.random.default_rng(5), p_bi=p_bi, postaug=True)
        b = synthesize_pair(faces, 1, np.random.default_rng(5), p_bi=p_bi, postaug=True,
                            **{key: 0.0})
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("p_bi", [0.0, 1.0])
def test_a_part_blend_changes_a_part_of_the_face_not_the_whole_face(
    faces: RealFaces, p_bi: float,
) -> None:
    """With part_prob 1 every fake differs from its real inside a part region only: far less of
    the face than a whole-face blend of the same draws changes; the pair is seeded."""
    part_area, face_area = [], []
    for seed in range(6):
        real, fake, xray = synthesize_pair(faces, 0, np.random.default_rng(seed), p_bi=p_bi,
                                           postaug=False, part_prob=1.0)
        again = synthesize_pair(faces, 0, np.random.default_rng(seed), p_bi=p_bi,
                                postaug=False, part_prob=1.0)
        np.testing.assert_array_equal(fake, again[1])
        part_area.append(np.mean(np.abs(fake.astype(int) - real.astype(int)).max(-1) > 8))
        real_w, fake_w, _ = synthesize_pair(faces, 0, np.random.default_rng(seed), p_bi=p_bi,
                                            postaug=False)
        face_area.append(np.mean(np.abs(fake_w.astype(int) - real_w.astype(int)).max(-1) > 8))
        assert xray.max() > 0.0
    assert np.mean(part_area) < 0.5 * np.mean(face_area)


def test_part_prob_is_a_probability_in_the_config_and_the_recipe() -> None:
    assert TrainConfig(detector="sbi_effl0", method="sbi", part_prob=0.4).recipe() == PairRecipe(
        part_prob=0.4)
    with pytest.raises(ValueError, match="part_prob"):
        TrainConfig(detector="sbi_effl0", method="sbi", part_prob=1.5)
    with pytest.raises(ValueError, match="part_prob"):
        PairRecipe(part_prob=-0.1)


# Self-blends whose source a decoder drew (decoder_prob) and the bank of decoded twins.


def _blurred(rgb_u8: np.ndarray) -> np.ndarray:
    """A stand-in for a decoded twin: aligned with the face, visibly different from it."""
    return cv2.GaussianBlur(rgb_u8, (0, 0), 4.0)


def test_a_decoded_source_pastes_the_twin_into_the_face_of_a_face_that_has_one(
    faces: RealFaces,
) -> None:
    """The pair is made from the face with a twin (whichever face was asked for); its real is
    that face untouched; inside the face the fake follows the twin, the margin is the real's."""
    twin = _blurred(np.asarray(faces.crops[0]))
    with_twin = dataclasses.replace(faces, decoded={0: twin})
    for seed in range(4):
        real, fake, xray = synthesize_pair(with_twin, 1, np.random.default_rng(seed), p_bi=1.0,
                                           postaug=False, decoder_prob=1.0)
        np.testing.assert_array_equal(real, faces.crops[0])
        again = synthesize_pair(with_twin, 1, np.random.default_rng(seed), p_bi=1.0,
                                postaug=False, decoder_prob=1.0)
        np.testing.assert_array_equal(fake, again[1])
        assert xray.max() > 0.0
        # NOTE: the corners lie outside every face mask: untouched.
        np.testing.assert_array_equal(fake[:12, :12], real[:12, :12])
        centre = (slice(110, 150), slice(100, 156))
        detail = np.abs(cv2.Laplacian(fake[centre].mean(-1), cv2.CV_64F)).mean()
        real_detail = np.abs(cv2.Laplacian(real[centre].mean(-1), cv2.CV_64F)).mean()
        assert detail < 0.7 * real_detail  # the twin's blur is inside the face


def test_decoded_sources_need_twins_and_twins_of_the_face_size(faces: RealFaces) -> None:
    with pytest.raises(ValueError, match="decoded twins"):
        synthesize_pair(faces, 0, np.random.default_rng(0), p_bi=0.0, postaug=False,
                        decoder_prob=1.0)
    crop = np.asarray(faces.crops[0])
    with pytest.raises(SynthesisInputError, match="decoded twin"):
        self_blend(crop, faces.landmarks[0], np.random.default_rng(0),
                   decoded_u8=crop[:128, :128])


def test_decoder_prob_needs_a_bank_and_travels_in_the_recipe() -> None:
    cfg = TrainConfig(detector="sbi_effl0", method="sbi", decoder_prob=0.3,
                      decoder_bank="decoded_faces_sbi")
    assert cfg.recipe() == PairRecipe(decoder_prob=0.3)
    with pytest.raises(ValueError, match="decoder_bank"):
        TrainConfig(detector="sbi_effl0", method="sbi", decoder_prob=0.3)
    with pytest.raises(ValueError, match="decoder_prob"):
        TrainConfig(detector="sbi_effl0", method="sbi", decoder_prob=1.5, decoder_bank="b")
    with pytest.raises(ValueError, match="decoder_prob"):
        PairRecipe(decoder_prob=-0.1)


def test_a_subset_keeps_the_twins_of_its_faces(faces: RealFaces) -> None:
    twin = _blurred(np.asarray(faces.crops[1]))
    sub = dataclasses.replace(faces, decoded={1: twin}).subset(np.array([2, 1]))
    assert sub.decoded is not None
    assert list(sub.decoded) == [1]
    np.testing.assert_array_equal(sub.decoded[1], twin)


def test_the_bank_is_seeded_and_refuses_other_faces_or_an_unfinished_build(
    faces: RealFaces, shared_data: Path, tmp_path: Path,
) -> None:
    """Built with the real TAEF2 weights: twins aligned with their faces, read back only for
    the faces they were made from, and never from a folder whose build did not finish."""
    n = 2
    assert plan_indices(faces, n, seed=0, video_share=0.0) == plan_indices(
        faces, n, seed=0, video_share=0.0)
    bank = tmp_path / "bank"
    assert build(faces, bank, n=n, seed=0, video_share=0.0,
                 taef2_dir=shared_data.parent / "models" / "taef2") == 1
    twins = load_decoded(bank, faces)
    assert sorted(twins) == plan_indices(faces, n, seed=0, video_share=0.0)
    for i, twin in twins.items():
        crop = np.asarray(faces.crops[i]).astype(np.float64)
        assert twin.shape == crop.shape
        assert twin.dtype == np.uint8
        assert 0.5 < np.abs(twin - crop).mean() < 20.0  # aligned, but redrawn
    other = dataclasses.replace(faces, crops=np.ascontiguousarray(np.asarray(faces.crops)[:, ::-1]))
    with pytest.raises(ValueError, match="other faces"):
        load_decoded(bank, other)
    with pytest.raises(ValueError, match="other faces or settings"):
        build(faces, bank, n=n, seed=1, video_share=0.0,
              taef2_dir=shared_data.parent / "models" / "taef2")
    (bank / "chunk_0000.npz").unlink()
    with pytest.raises(FileNotFoundError, match="did not finish"):
        load_decoded(bank, faces)
    with pytest.raises(FileNotFoundError, match="no decoded-face bank"):
        load_decoded(tmp_path / "nothing", faces)
