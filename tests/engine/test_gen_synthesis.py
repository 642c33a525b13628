"""Generator traces: TAEF2 in our code, the trace autoencoders, and the (real, fake) pairs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.synthesis.taef2 import Taef2, load_taef2  # noqa: E402
from engine.synthesis.trace_ae import (  # noqa: E402
    UPSAMPLERS,
    PatchDiscriminator,
    TraceAutoencoder,
    reconstruct_u8,
)
from engine.synthesis.traces import (  # noqa: E402
    AeGenerator,
    PairParams,
    make_pair,
    resample,
    sample_pair_params,
)


def _picture(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth colour picture with some texture (gradients + blurred noise)."""
    import cv2

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([xx / w, yy / h, 0.5 + 0.3 * np.sin(xx / 9.0)], axis=2) * 200.0
    noise = cv2.GaussianBlur(rng.normal(0, 25, (h, w, 3)).astype(np.float32), (0, 0), 1.5)
    return np.clip(base + noise + 20, 0, 255).astype(np.uint8)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    err = float(np.mean((a.astype(np.float64) - b) ** 2))
    return 10.0 * np.log10(255.0**2 / max(err, 1e-9))


def test_taef2_weights_load_into_our_network_and_reconstruct(shared_data: Path) -> None:
    net = load_taef2(shared_data.parent / "models" / "taef2")
    rgb = _picture(72, 100)  # not a multiple of 8: padded and cut back
    out = net.reconstruct(rgb)
    assert out.shape == rgb.shape
    assert out.dtype == np.uint8
    assert _psnr(out, rgb) > 24.0  # the published autoencoder, not a random one
    assert _psnr(Taef2().eval().reconstruct(rgb), rgb) < 15.0


def test_taef2_refuses_a_file_that_is_not_the_published_one(tmp_path: Path) -> None:
    for part in ("encoder", "decoder"):
        torch.save(getattr(Taef2(), part).state_dict(), tmp_path / f"taef2_{part}.pth")
    with pytest.raises(ValueError, match="SHA-256"):
        load_taef2(tmp_path)


@pytest.mark.parametrize("upsampler", UPSAMPLERS)
def test_trace_autoencoders_keep_any_picture_size(upsampler: str) -> None:
    torch.manual_seed(0)
    net = TraceAutoencoder(upsampler)  # type: ignore[arg-type]
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    assert net(x).shape == x.shape
    out = reconstruct_u8(net, _picture(61, 83))
    assert out.shape == (61, 83, 3)
    assert out.dtype == np.uint8
    assert PatchDiscriminator()(x).shape[:2] == (2, 1)


def test_autoencoders_differ_only_in_the_upsampler() -> None:
    names = {kind: {n for n, _ in TraceAutoencoder(kind).encoder.named_parameters()}  # type: ignore[arg-type]
             for kind in UPSAMPLERS}
    assert names["tconv"]
    assert len({frozenset(v) for v in names.values()}) == 1


def test_an_identity_generator_gives_identical_pair_members() -> None:
    rgb = _picture(150, 210)
    identity = AeGenerator("identity", lambda x: x.copy())
    params = PairParams(1.0, "none", 30, 11)
    real, fake = make_pair(rgb, identity, params, pair_px=96, context_px=16)
    np.testing.assert_array_equal(real, rgb[11:107, 30:126])
    np.testing.assert_array_equal(fake, real)


def test_the_fake_is_the_generators_output_at_the_same_place() -> None:
    rgb = _picture(150, 210)
    invert = AeGenerator("invert", lambda x: 255 - x)
    real, fake = make_pair(rgb, invert, PairParams(1.0, "none", 100, 40), pair_px=96,
                           context_px=16)
    np.testing.assert_array_equal(fake, 255 - real)


def test_a_resampled_picture_gives_both_members_and_a_small_one_is_upscaled() -> None:
    rng = np.random.default_rng(3)
    params = sample_pair_params((100, 90), 128, rng, p_resample=0.0, min_scale=0.5,
                                max_scale=2.0)
    assert params.scale > 1.0
    assert params.interpolation == "bicubic"
    real, fake = make_pair(_picture(100, 90), AeGenerator("id", lambda x: x.copy()), params,
                           pair_px=128, context_px=16)
    assert real.shape == fake.shape == (128, 128, 3)
    assert resample(_picture(40, 60), 0.5, "lanczos").shape == (20, 30, 3)


def test_pairs_are_deterministic_given_the_seed() -> None:
    rgb = _picture(180, 240)
    torch.manual_seed(0)
    net = TraceAutoencoder("tconv")
    gen = AeGenerator("ae", lambda x: reconstruct_u8(net, x))

    def draw(seed: int) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        out = []
        for _ in range(3):
            params = sample_pair_params(rgb.shape[:2], 96, rng, p_resample=0.7,
                                        min_scale=0.5, max_scale=2.0)
            out += make_pair(rgb, gen, params, pair_px=96, context_px=16)
        return out

    first, again, other = draw(5), draw(5), draw(6)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other, strict=True))
