"""EfficientNet-Lite0/1/2 encoders and the larger face-swap candidates of issue 19."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.detectors import registry  # noqa: E402
from engine.detectors.backbones import (  # noqa: E402
    EfficientNetLite,
    EfficientNetLite0,
    lite_stages,
    load_imagenet_lite,
)
from engine.detectors.lite_family import LARGER_CANDIDATES  # noqa: E402

# Published block counts (Tan & Le 2019, EfficientNet-Lite): 16 for Lite0, 21 for Lite1 and Lite2.
BLOCKS = {0: 16, 1: 21, 2: 21}


@pytest.mark.parametrize("variant", [0, 1, 2])
@pytest.mark.parametrize("head", [True, False])
def test_each_variant_takes_every_tensor_of_its_imagenet_checkpoint(variant: int,
                                                                    head: bool) -> None:
    encoder = EfficientNetLite(variant, head=head)
    load_imagenet_lite(encoder)  # raises KeyError on any missing or unexpected tensor
    assert len(encoder.blocks) == BLOCKS[variant]
    assert encoder.stem.bn.running_var.abs().sum() > 0  # loaded statistics, not the init


def test_lite0_is_unchanged_by_the_family() -> None:
    lite0 = EfficientNetLite0(head=True)
    assert lite0.variant == 0
    assert lite0.taps == (2, 4, 10, 15)
    assert lite0.channels == (24, 40, 112, 1280)
    assert lite_stages(0)[3] == (3, 3, 2, 6, 40, 80)


@pytest.mark.parametrize("variant", [1, 2])
def test_taps_sit_at_strides_4_8_16_32_and_the_trunk_computes_the_same_maps(
        variant: int) -> None:
    encoder = EfficientNetLite(variant, head=False).eval()
    x = torch.randn(1, 3, 256, 256)
    with torch.no_grad():
        feats = encoder(x)
        trunk_taps = encoder.trunk(3)(x)
    assert [f.shape[-1] for f in feats] == [64, 32, 16, 8]
    assert tuple(f.shape[1] for f in feats) == encoder.channels
    for a, b in zip(trunk_taps, feats[:3], strict=True):
        torch.testing.assert_close(a, b)


def test_an_unknown_variant_is_refused() -> None:
    with pytest.raises(ValueError, match="Lite3"):
        EfficientNetLite(3)


@pytest.mark.parametrize("method", ["sbi", "xray", "mat"])
@pytest.mark.parametrize(("suffix", "variant", "size"), LARGER_CANDIDATES)
def test_the_larger_candidates_build_and_score_a_crop_at_their_size(
        method: str, suffix: str, variant: int, size: int) -> None:
    name = f"{method}_{suffix}"
    cfg = registry.get_cfg(name)
    assert (cfg.input_size, cfg.weights_file, cfg.looks_for) == (size, None, "face_swap")
    detector = registry.create_detector(name)
    assert detector.net.encoder.variant == variant
    detector.net.eval()
    with torch.no_grad():
        logits, maps = detector.net.forward_with_map(torch.randn(2, 3, size, size))
    assert logits.shape == (2, 2)
    assert np.isfinite(logits.numpy()).all()
    assert np.isfinite(maps.numpy()).all()


def test_the_shipped_entrypoints_keep_their_names_and_documentation() -> None:
    from engine.detectors.sbi import sbi_effl0

    assert sbi_effl0.__name__ == "sbi_effl0"
    assert "Lite0 at 192 px" in (sbi_effl0.__doc__ or "")
    assert registry.get_cfg("sbi_effl0").weights_file == "sbi_effl0.pt"
