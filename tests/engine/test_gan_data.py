"""GAN detector data: background removal, augmentation, balanced batches, validation views."""

from __future__ import annotations

import numpy as np
import pytest

from engine.faces.landmark_sets import FACE_OVAL
from engine.training.datasets_gan import (
    MARGIN0_PX,
    GanAugment,
    GanSampler,
    LabelledFaces,
    center_crop,
    make_gan_views,
    normalise,
    remove_background,
)

SIDE = 256


def _ellipse_landmarks() -> np.ndarray:
    """478 points: the face oval on an ellipse around the centre, the rest inside it."""
    lm = np.full((478, 2), SIDE / 2.0, dtype=np.float32)
    angles = np.linspace(0.0, 2.0 * np.pi, len(FACE_OVAL), endpoint=False)
    lm[list(FACE_OVAL), 0] = SIDE / 2.0 + 70.0 * np.sin(angles)
    lm[list(FACE_OVAL), 1] = SIDE / 2.0 - 90.0 * np.cos(angles)
    return lm


def _faces(n_real: int = 12, n_fake: int = 6, seed: int = 0) -> LabelledFaces:
    rng = np.random.default_rng(seed)
    n = n_real + n_fake
    crops = rng.integers(0, 256, (n, SIDE, SIDE, 3), dtype=np.uint8)
    sources = np.array(["utkface", "celeba", "videos_real"] * (n_real // 3) + ["gan"] * n_fake)
    labels = np.r_[np.zeros(n_real, np.int64), np.ones(n_fake, np.int64)]
    return LabelledFaces(crops, np.repeat(_ellipse_landmarks()[None], n, axis=0), labels, sources)


def _cfg():  # type: ignore[no-untyped-def]
    from engine.runtime.cfg import DetectorCfg

    return DetectorCfg(name="gan_test", version="0", variant="cpu", input_size=256,
                       mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), face_margin=0.25, clip_len=1,
                       output="sigmoid1", map_kind="gradcam", looks_for="generated")


def test_remove_background_keeps_the_face_and_fills_the_rest() -> None:
    crop = np.random.default_rng(1).integers(0, 256, (SIDE, SIDE, 3), dtype=np.uint8)
    out = remove_background(crop, _ellipse_landmarks(), (1, 2, 3))
    assert np.array_equal(out[128, 128], crop[128, 128])  # centre of the face
    assert np.array_equal(out[128, 100:150], crop[128, 100:150])
    assert out[0, 0].tolist() == [1, 2, 3]  # corner: background
    assert out[128, 5].tolist() == [1, 2, 3]  # beside the cheek, outside the oval
    assert crop[0, 0].tolist() != [1, 2, 3] or crop[128, 5].tolist() != [1, 2, 3]


def test_center_crop_and_normalise_do_not_resize() -> None:
    crops = np.random.default_rng(2).integers(0, 256, (2, SIDE, SIDE, 3), dtype=np.uint8)
    cut = np.stack([center_crop(c, MARGIN0_PX) for c in crops])
    assert np.array_equal(cut[0], crops[0, 48:208, 48:208])
    batch = normalise(cut, _cfg())
    assert batch.shape == (2, 3, MARGIN0_PX, MARGIN0_PX)
    np.testing.assert_allclose(batch[1, 2], (cut[1, :, :, 2] - 127.5) / 127.5, rtol=1e-6)


def test_augment_is_seeded_and_gives_random_crops_of_the_set_size() -> None:
    face = _faces()
    aug = GanAugment(crop_px=224)
    a = aug.apply(face.crops[0], face.landmarks[0], np.random.default_rng(3))
    b = aug.apply(face.crops[0], face.landmarks[0], np.random.default_rng(3))
    assert a.shape == (224, 224, 3)
    assert a.dtype == np.uint8
    assert np.array_equal(a, b)


def test_augment_without_photometric_steps_is_a_crop_or_its_mirror() -> None:
    face = _faces()
    aug = GanAugment(crop_px=256, p_blur=0.0, p_jpeg=0.0, p_oval=0.0, p_resample=0.0)
    for seed in range(4):
        out = aug.apply(face.crops[1], face.landmarks[1], np.random.default_rng(seed))
        assert np.array_equal(out, face.crops[1]) or np.array_equal(out, face.crops[1][:, ::-1])


def test_background_removal_in_training_uses_a_random_flat_fill() -> None:
    face = _faces()
    aug = GanAugment(crop_px=256, p_blur=0.0, p_jpeg=0.0, p_oval=1.0, p_resample=0.0)
    fills = {tuple(aug.apply(face.crops[2], face.landmarks[2],
                             np.random.default_rng(s))[0, 0].tolist()) for s in range(4)}
    assert len(fills) == 4


def test_sampler_batches_are_balanced_and_resume_exactly() -> None:
    faces = _faces()
    sampler = GanSampler(faces, _cfg(), GanAugment(crop_px=224), np.random.default_rng(4))
    batch = sampler.sample(3)
    assert batch.images.shape == (6, 3, 224, 224)
    assert batch.labels.tolist() == [0, 0, 0, 1, 1, 1]
    state = sampler.state()
    expected = sampler.sample(2)
    resumed = GanSampler(faces, _cfg(), GanAugment(crop_px=224), np.random.default_rng(99))
    resumed.restore(state)
    assert np.array_equal(resumed.sample(2).images, expected.images)


def test_a_set_without_both_classes_is_refused() -> None:
    faces = _faces()
    with pytest.raises(ValueError, match="both real"):
        LabelledFaces(faces.crops[:3], faces.landmarks[:3], faces.labels[:3], faces.sources[:3])


def test_validation_views_share_faces_and_order() -> None:
    faces = _faces()
    views = make_gan_views(faces, n_per_class=6, seed=5)
    assert set(views) == {"policy", "oval", "margin0"}
    labels = views["policy"].labels
    assert labels.tolist() == [0] * 6 + [1] * 6
    for view in views.values():
        assert np.array_equal(view.labels, labels)
    assert views["oval"].crops[:, 0, 0].max() == 0  # black outside the face
    assert np.array_equal(views["oval"].crops[:, 128, 128], views["policy"].crops[:, 128, 128])
    assert views["margin0"].crops.shape[1:] == (MARGIN0_PX, MARGIN0_PX, 3)
    assert np.array_equal(views["margin0"].crops, views["policy"].crops[:, 48:208, 48:208])
