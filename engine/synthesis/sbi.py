"""Self-Blended Images (Shiohara & Yamasaki, CVPR 2022): a real face blended with a slightly
transformed copy of itself, so the only evidence of forgery is generic blending artefacts.

Follows the reference code (``src/utils/sbi.py``, ``blend.py``, ``funcs.py`` of
mapooon/SelfBlendedImages, albumentations 1.1 semantics), see docs METHODS.md section 1:

1. mask: one of four hull shapes (``masks.HULL_SHAPES``); in 25% of cases the reduced
   68-point set instead of the face oval;
2. source-target generator: with p=0.5 the source is T(I) and the target I, else the reverse.
   T = RGB shift +-20 (p=0.3), HSV shift +-0.3, brightness/contrast +-0.1, then ONE of
   {nearest down-scale by 2 or 4 + bilinear up-scale, sharpen alpha 0.2-0.5}. Our one
   extension, off unless a training config asks for it (``decoder_prob``): the source may be
   the face as an autoencoder decoded it (``decoded_u8``), colour-jittered, in place of T's
   degradation, because the face swaps analysts receive paste a decoder-drawn face;
3. random affine of source AND mask (translate x +-3%, y +-1.5%, scale 0.95-1/0.95 per axis),
   then elastic deformation of the mask (alpha 50, sigma 7);
4. mask blur: resize to 192-256 px, Gaussian k1, zero every value < 1, Gaussian k2 with
   sigma 5-45, normalise to max 1, resize back;
5. blend ratio r from {0.25, 0.5, 0.75, 1, 1, 1}: M = r * M, I_SB = Is * M + It * (1 - M),
   truncated to uint8 as the reference does.

Differences: the HSV shift keeps the reference's units (OpenCV uint8 HSV: hue 0-179, sat/val
0-255), so +-0.3 moves a channel by at most one level and the step mostly adds the
RGB->HSV->RGB quantisation; reading +-0.3 as a fraction of the range would shift hue by up to
108 degrees, which no face swap produces. The affine fills the source's border by reflection
instead of black (only visible where the mask is 0, i.e. never). Randomness comes from an
injected generator, and every drawn value is kept in ``SbiParams``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

from engine.errors import SynthesisInputError
from engine.synthesis import color
from engine.synthesis.elastic import elastic_displacement, warp_with_displacement
from engine.synthesis.masks import HULL_SHAPES, hull_mask
from engine.synthesis.result import BlendResult, check_face_inputs, xray_from_mask

__all__ = [
    "SBI_CONTINUOUS_RANGES",
    "SbiParams",
    "blend_mask",
    "colour_jitter",
    "params_from_unit",
    "params_to_unit",
    "sample_sbi_params",
    "self_blend",
    "source_transform",
]

BLEND_RATIOS = (0.25, 0.5, 0.75, 1.0, 1.0, 1.0)
ELASTIC_ALPHA = 50.0
ELASTIC_SIGMA = 7.0

# Continuous (or ordinal) fields: name -> (low, high, kind); kind "odd" rounds to odd ints.
SBI_CONTINUOUS_RANGES: dict[str, tuple[float, float, str]] = {
    "rgb_shift_r": (-20.0, 20.0, "float"),
    "rgb_shift_g": (-20.0, 20.0, "float"),
    "rgb_shift_b": (-20.0, 20.0, "float"),
    "hue_shift": (-0.3, 0.3, "float"),
    "sat_shift": (-0.3, 0.3, "float"),
    "val_shift": (-0.3, 0.3, "float"),
    "brightness": (-0.1, 0.1, "float"),
    "contrast": (-0.1, 0.1, "float"),
    "sharpen_alpha": (0.2, 0.5, "float"),
    "sharpen_lightness": (0.5, 1.0, "float"),
    "translate_x": (-0.03, 0.03, "float"),
    "translate_y": (-0.015, 0.015, "float"),
    "scale_x": (0.95, 1 / 0.95, "float"),
    "scale_y": (0.95, 1 / 0.95, "float"),
    "mask_h": (192, 256, "int"),
    "mask_w": (192, 256, "int"),
    "blur_k1": (5, 25, "odd"),
    "blur_k2": (5, 25, "odd"),
    "blur_sigma2": (5.0, 45.0, "float"),
    "blend_ratio": (0.25, 1.0, "float"),
}


@dataclass(frozen=True)
class SbiParams:
    """Every random choice of one self-blend; pass it back to ``self_blend`` to replay it.

    Colour shifts are in uint8 levels (RGB) or OpenCV uint8 HSV units; ``brightness`` is a
    fraction of 255 and ``contrast`` the gain minus 1; translations are fractions of the image
    width/height; ``mask_h``/``mask_w`` and the odd kernels ``blur_k1``/``blur_k2`` are pixels
    of the resized mask; ``blur_sigma2`` is the second blur's sigma there.
    """

    reduced_landmarks: bool
    hull_shape: str
    transform_source: bool
    rgb_shift_r: float
    rgb_shift_g: float
    rgb_shift_b: float
    hue_shift: float
    sat_shift: float
    val_shift: float
    brightness: float
    contrast: float
    degrade: str  # "downscale" or "sharpen"
    downscale_factor: int
    sharpen_alpha: float
    sharpen_lightness: float
    translate_x: float
    translate_y: float
    scale_x: float
    scale_y: float
    elastic_seed: int
    mask_h: int
    mask_w: int
    blur_k1: int
    blur_k2: int
    blur_sigma2: float
    blend_ratio: float


def sample_sbi_params(rng: np.random.Generator) -> SbiParams:
    """Draw one parameter set from the reference distributions."""
    rgb = rng.uniform(-20.0, 20.0, size=3) if rng.random() < 0.3 else np.zeros(3)
    hsv = rng.uniform(-0.3, 0.3, size=3)
    mask_hw = rng.integers(192, 257, size=2)
    return SbiParams(
        reduced_landmarks=bool(rng.random() < 0.25),
        hull_shape=HULL_SHAPES[int(rng.integers(len(HULL_SHAPES)))],
        transform_source=bool(rng.random() < 0.5),
        rgb_shift_r=float(rgb[0]),
        rgb_shift_g=float(rgb[1]),
        rgb_shift_b=float(rgb[2]),
        hue_shift=float(hsv[0]),
        sat_shift=float(hsv[1]),
        val_shift=float(hsv[2]),
        brightness=float(rng.uniform(-0.1, 0.1)),
        contrast=float(rng.uniform(-0.1, 0.1)),
        degrade=("downscale", "sharpen")[int(rng.integers(2))],
        downscale_factor=(2, 4)[int(rng.integers(2))],
        sharpen_alpha=float(rng.uniform(0.2, 0.5)),
        sharpen_lightness=float(rng.uniform(0.5, 1.0)),
        translate_x=float(rng.uniform(-0.03, 0.03)),
        translate_y=float(rng.uniform(-0.015, 0.015)),
        scale_x=float(rng.uniform(0.95, 1 / 0.95)),
        scale_y=float(rng.uniform(0.95, 1 / 0.95)),
        elastic_seed=int(rng.integers(2**31)),
        mask_h=int(mask_hw[0]),
        mask_w=int(mask_hw[1]),
        blur_k1=int(5 + 2 * rng.integers(11)),
        blur_k2=int(5 + 2 * rng.integers(11)),
        blur_sigma2=float(rng.integers(5, 46)),
        blend_ratio=BLEND_RATIOS[int(rng.integers(len(BLEND_RATIOS)))],
    )


def self_blend(
    rgb_u8: np.ndarray,
    landmarks_xy: np.ndarray,
    rng: np.random.Generator,
    params: SbiParams | None = None,
    *,
    decoded_u8: np.ndarray | None = None,
) -> BlendResult:
    """Make one self-blended fake from a real face crop.

    Args:
        rgb_u8: (S, S, 3) real face crop (``crop_face`` with ``CropPolicy()``).
        landmarks_xy: (478, 2) Face Mesh landmarks in crop pixels.
        rng: source of every random draw (unused when ``params`` is given).
        params: replay these parameters instead of sampling new ones.
        decoded_u8: the same crop as an autoencoder decoded it (aligned pixel for pixel;
            ``engine.training.decoded_faces``). It then replaces T's degradation and is always
            the source: the blend pastes a decoder-drawn face into the real picture, as an
            autoencoder face swap does, after T's colour jitter (``p.degrade`` is not used).

    Returns:
        The fake, its final mask M, the X-ray target, the (possibly jittered) target image
        that is the fake's real twin, and the parameters used.
    """
    check_face_inputs(rgb_u8, landmarks_xy)
    p = params if params is not None else sample_sbi_params(rng)
    h, w = rgb_u8.shape[:2]
    mask = _initial_mask(landmarks_xy, (h, w), p)
    source, target = rgb_u8.copy(), rgb_u8.copy()
    if decoded_u8 is not None:
        if decoded_u8.shape != rgb_u8.shape:
            raise SynthesisInputError(f"decoded twin {decoded_u8.shape} does not match the "
                                      f"face {rgb_u8.shape}")
        source = colour_jitter(decoded_u8, p)
    elif p.transform_source:
        source = source_transform(source, p)
    else:
        target = source_transform(target, p)
    source, mask = _random_affine(source, mask, p)
    dx, dy = elastic_displacement((h, w), ELASTIC_ALPHA, ELASTIC_SIGMA, p.elastic_seed)
    mask = warp_with_displacement(mask, dx, dy, interpolation=cv2.INTER_NEAREST)
    m = blend_mask(mask, p) * np.float32(p.blend_ratio)
    m3 = m[..., None]
    blended = (m3 * source + (1 - m3) * target).astype(np.uint8)
    return BlendResult(
        image_rgb_u8=blended,
        mask_f32=m,
        xray_f32=xray_from_mask(m),
        target_rgb_u8=target,
        params=p,
    )


def _initial_mask(landmarks_xy: np.ndarray, shape_hw: tuple[int, int], p: SbiParams) -> np.ndarray:
    mask = hull_mask(landmarks_xy, shape_hw, p.hull_shape, p.reduced_landmarks)
    if mask.max() <= 0:
        raise SynthesisInputError("the face hull does not overlap the crop; check the landmarks")
    return mask


def colour_jitter(rgb_u8: np.ndarray, p: SbiParams) -> np.ndarray:
    """T's first half: RGB shift, HSV shift, brightness and contrast."""
    out = color.rgb_shift(rgb_u8, (p.rgb_shift_r, p.rgb_shift_g, p.rgb_shift_b))
    out = color.shift_hsv(out, p.hue_shift, p.sat_shift, p.val_shift)
    return color.brightness_contrast(out, p.brightness, p.contrast)


def source_transform(rgb_u8: np.ndarray, p: SbiParams) -> np.ndarray:
    """T(I): colour jitter, then ONE of down/up-scale or sharpen."""
    out = colour_jitter(rgb_u8, p)
    if p.degrade == "downscale":
        return color.downscale_upscale(out, p.downscale_factor)
    if p.degrade == "sharpen":
        return color.sharpen(out, p.sharpen_alpha, p.sharpen_lightness)
    raise SynthesisInputError(f"unknown degradation {p.degrade!r}; use 'downscale' or 'sharpen'")


def _random_affine(
    source_u8: np.ndarray, mask_f32: np.ndarray, p: SbiParams
) -> tuple[np.ndarray, np.ndarray]:
    """The same scale-about-centre + translation for the source and the mask."""
    h, w = mask_f32.shape
    cx, cy = w / 2 - 0.5, h / 2 - 0.5
    matrix = np.array(
        [
            [p.scale_x, 0.0, cx - p.scale_x * cx + p.translate_x * w],
            [0.0, p.scale_y, cy - p.scale_y * cy + p.translate_y * h],
        ]
    )
    source = cv2.warpAffine(
        source_u8, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
    )
    mask = cv2.warpAffine(
        mask_f32, matrix, (w, h), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT
    )
    return source, mask


def blend_mask(mask_f32: np.ndarray, p: SbiParams) -> np.ndarray:
    """SBI's two-Gaussian mask blur (``get_blend_mask``): (H, W) float32, max 1.

    k1 > k2 shrinks the region (erosion by the first blur's threshold), k1 < k2 grows it.
    """
    h, w = mask_f32.shape
    small = cv2.resize(mask_f32.astype(np.float32), (p.mask_w, p.mask_h))
    blurred = cv2.GaussianBlur(small, (p.blur_k1, p.blur_k1), 0)
    peak = float(blurred.max())
    if peak <= 0:
        raise SynthesisInputError("the blending mask is empty after the affine/elastic warp")
    blurred = blurred / np.float32(peak)
    blurred[blurred < 1] = 0
    blurred = cv2.GaussianBlur(blurred, (p.blur_k2, p.blur_k2), p.blur_sigma2)
    blurred = blurred / np.float32(blurred.max())
    return cv2.resize(blurred, (w, h)).astype(np.float32)


def params_to_unit(p: SbiParams) -> np.ndarray:
    """The continuous fields of ``p`` mapped to [0, 1] by their ranges (for drift and tests)."""
    return np.array(
        [
            (getattr(p, name) - low) / (high - low)
            for name, (low, high, _) in SBI_CONTINUOUS_RANGES.items()
        ],
        dtype=np.float64,
    )


def params_from_unit(base: SbiParams, unit: np.ndarray) -> SbiParams:
    """``base`` with its continuous fields replaced by ``unit`` values (clipped to [0, 1])."""
    values: dict[str, float | int] = {}
    for u, (name, (low, high, kind)) in zip(
        np.clip(unit, 0.0, 1.0), SBI_CONTINUOUS_RANGES.items(), strict=True
    ):
        value = low + float(u) * (high - low)
        if kind == "int":
            values[name] = round(value)
        elif kind == "odd":
            values[name] = int(min(high, 2 * round((value - 1) / 2) + 1))
        else:
            values[name] = value
    return dataclasses.replace(base, **values)
