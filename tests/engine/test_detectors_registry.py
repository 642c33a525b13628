"""The detector registry: names, configs, strict errors, and every detector builds and runs."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from engine.detectors import registry
from engine.errors import UnknownDetectorError

FACE_SWAP = ("sbi_effl0", "sbi_effb4", "xray_effl0", "xray_hrnet18", "mat_effl0", "mat_effb4")


def test_face_swap_detectors_are_registered_with_cpu_and_full_variants() -> None:
    names = registry.list_detectors()
    assert set(FACE_SWAP) <= set(names)
    assert {"sbi_effl0", "xray_effl0", "mat_effl0"} <= set(registry.list_detectors("cpu"))
    assert {"sbi_effb4", "xray_hrnet18", "mat_effb4"} <= set(registry.list_detectors("full"))
    for name in names:
        assert registry.get_cfg(name).name == name


@pytest.mark.parametrize("call", [registry.get_cfg, registry.create_detector])
def test_unknown_name_raises_and_lists_the_valid_names(call: object) -> None:
    with pytest.raises(UnknownDetectorError) as info:
        call("sbi_nope")  # type: ignore[operator]
    message = str(info.value)
    assert "sbi_nope" in message
    for name in FACE_SWAP:
        assert name in message


def test_duplicate_registration_raises() -> None:
    cfg = registry.get_cfg("sbi_effl0")

    def sbi_effl0() -> None:  # same name as the registered entrypoint
        raise AssertionError("never called")

    with pytest.raises(ValueError, match="already registered"):
        registry.register_detector(cfg)(sbi_effl0)  # type: ignore[arg-type]


def test_entrypoint_must_be_named_like_its_cfg() -> None:
    cfg = registry.get_cfg("sbi_effl0").replace(name="sbi_other")

    def misnamed() -> None:
        raise AssertionError("never called")

    with pytest.raises(ValueError, match="must be named"):
        registry.register_detector(cfg)(misnamed)  # type: ignore[arg-type]
    assert "sbi_other" not in registry.list_detectors()


@pytest.mark.parametrize(
    "name",
    [
        *("sbi_effl0", "xray_effl0", "mat_effl0"),
        # NOTE: the paper-size networks take seconds just to initialise on a shared CPU.
        *(pytest.param(n, marks=pytest.mark.slow) for n in ("sbi_effb4", "xray_hrnet18",
                                                            "mat_effb4")),
    ],
)
def test_every_detector_builds_and_scores_a_tiny_batch(name: str) -> None:
    detector = registry.create_detector(name)
    batch = np.random.default_rng(0).standard_normal((2, 3, 64, 64)).astype(np.float32)
    out = detector.predict(batch, want_maps=True)
    assert out.p_fake.shape == (2,)
    assert out.p_fake_raw.shape == (2,)
    assert np.all(np.isfinite(out.p_fake))
    assert np.all((out.p_fake >= 0) & (out.p_fake <= 1))
    assert out.maps is not None
    assert out.maps.ndim == 3
    assert out.maps.shape[0] == 2
    assert out.maps.dtype == np.float32
    assert np.all(np.isfinite(out.maps))
    assert out.maps.min() >= 0
    assert out.maps.max() <= 1


@pytest.mark.parametrize("name", ["sbi_effb4", "xray_hrnet18", "mat_effb4"])
def test_full_variants_refuse_imagenet_init_because_none_is_available(name: str) -> None:
    with pytest.raises(ValueError, match="no offline ImageNet weights"):
        registry.create_detector(name, pretrained_backbone=True)


def test_a_policy_crop_is_preprocessed_to_the_input_size_and_scored() -> None:
    crops = np.random.default_rng(1).integers(0, 256, (1, 256, 256, 3), dtype=np.uint8)
    detector = registry.create_detector("sbi_effl0")
    x = detector.preprocess(crops)
    assert x.shape == (1, 3, 192, 192)
    assert x.dtype == np.float32
    out = detector.predict(x, want_maps=False)
    assert out.maps is None
    assert out.p_fake.shape == (1,)
