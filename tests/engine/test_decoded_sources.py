"""Self-blends whose source a decoder drew (``decoder_prob``) and the bank of decoded twins."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.errors import SynthesisInputError
from engine.synthesis.sbi import self_blend
from engine.training.config import TrainConfig
from engine.training.datasets import PairRecipe, RealFaces, synthesize_pair
from engine.training.decoded_faces import build, load_decoded, plan_indices
from tests.engine.test_synthesis_masks import real_faces


@pytest.fixture(scope="module")
def faces(shared_data: Path) -> RealFaces:
    found = real_faces(shared_data)
    return RealFaces(np.stack([f.rgb_u8 for f in found]), np.stack([f.landmarks_xy for f in found]),
                     np.array([f"utkface:{i}" for i in range(len(found))]),
                     np.tile(np.array([[20.0, 0.0, 255.0, 230.0]], np.float32), (len(found), 1)))


def _blurred(rgb_u8: np.ndarray) -> np.ndarray:
    """A stand-in for a decoded twin: aligned with the face, visibly different from it."""
    return cv2.GaussianBlur(rgb_u8, (0, 0), 4.0)


def test_without_decoded_sources_pairs_are_drawn_exactly_as_before(faces: RealFaces) -> None:
    """decoder_prob 0 draws nothing extra, so configs from before it replay their pairs."""
    for p_bi in (0.0, 1.0):
        a = synthesize_pair(faces, 1, np.random.default_rng(5), p_bi=p_bi, postaug=True)
        b = synthesize_pair(faces, 1, np.random.default_rng(5), p_bi=p_bi, postaug=True,
                            decoder_prob=0.0)
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)


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
