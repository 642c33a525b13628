"""The capture chain: what happens to a face between the camera and the analyst, drawn once per
real/fake pair and applied to both alike.

Training faces are still photos cut at crop resolution; casework faces are video frames and
phone photos that were resampled, filtered, scaled and encoded (often several times) at the
frame's resolution before the app cut them out. A detector that never saw those steps reads
them as evidence: the dev bench's real streams scored high, scene by scene. Each step below is
applied to the real crop and to its fake twin with the same draw (the same noise field too), so
a pair still differs only by its blend, and the detector learns that none of these steps is
manipulation. Order, as in a capture:

1. resampling by a moving (or virtual) camera: a sub-pixel shift, a 2% zoom, a 2 degree turn;
2. sensor noise (Gaussian, a few levels);
3. the face at its own size in the frame: an area downscale to ``face_scale`` x 256 px, where
   the frame is then filtered and encoded (a face that filled 100 px of a 480p stream is
   encoded at 100 px, and the app upscales it);
4. optical or motion blur, then sharpening (camera, phone or platform processing);
5. one or two codec round trips: H.264 (``engine.synthesis.codec``, CRF 18-36, 4:2:0) or JPEG;
6. back to the crop size (bilinear, as ``engine.faces.crop`` upscales);
7. the crop's margin outside the source image refilled by edge replication from the part inside
   it, as the crop policy pads a face at a frame border: the padding is made after the chain,
   as at inference, instead of carrying codec blocks and blur from the training photo's edge.

The X-ray target and mask follow the geometric step (1), the only one that moves pixels.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

from engine.errors import SynthesisInputError
from engine.synthesis import color
from engine.synthesis.codec import H264_PRESETS, h264_roundtrip
from engine.synthesis.result import BlendResult

__all__ = ["CaptureParams", "apply_capture", "capture_pair", "refill_margin",
           "sample_capture_params"]


@dataclass(frozen=True)
class CaptureParams:
    """One draw of the capture chain (see the module docstring for the order).

    Attributes:
        warp: ``(dx_px, dy_px, zoom, degrees)`` of the resampling, or ``None``.
        noise_sigma: Gaussian noise in uint8 levels (0: none); ``noise_seed`` draws the field.
        face_scale: side of the face crop in the "frame", as a fraction of the crop (<= 1).
        blur_sigma: Gaussian blur sigma in pixels at that scale (0: none).
        motion_px: length of a linear motion blur in pixels at that scale (0: none), at
            ``motion_deg``.
        sharpen: unsharp-mask amount (0: none), with Gaussian ``sharpen_sigma``.
        codecs: the round trips in order, each ``("h264", crf, preset)`` or ``("jpeg", q, "")``.
    """

    warp: tuple[float, float, float, float] | None
    noise_sigma: float
    noise_seed: int
    face_scale: float
    blur_sigma: float
    motion_px: int
    motion_deg: float
    sharpen: float
    sharpen_sigma: float
    codecs: tuple[tuple[str, int, str], ...]


def sample_capture_params(rng: np.random.Generator) -> CaptureParams:
    """Draw one chain. Probabilities and ranges: ``# NOTE`` s inline."""
    # NOTE: half the faces resampled; +-0.5 px, 2% and 2 degrees move a 256 px crop by at most
    # ~4 px at its corners: the jitter of a tracked face, not a new framing.
    warp = None
    if rng.random() < 0.5:
        warp = (float(rng.uniform(-0.5, 0.5)), float(rng.uniform(-0.5, 0.5)),
                float(rng.uniform(0.98, 1.02)), float(rng.uniform(-2.0, 2.0)))
    noise = float(rng.uniform(1.0, 4.0)) if rng.random() < 0.25 else 0.0
    # NOTE: dev-bench real videos show faces of 80-350 px of landmark box, i.e. crops of
    # 120-520 px: 0.45-1 of 256 covers the faces the crop policy upscales; larger faces are
    # area-downscaled by the policy, which hides most of what a codec did to them (scale 1).
    scale = float(np.exp(rng.uniform(np.log(0.45), 0.0))) if rng.random() < 0.6 else 1.0
    blur = float(rng.uniform(0.3, 1.2)) if rng.random() < 0.25 else 0.0
    motion = int(rng.integers(3, 8)) if rng.random() < 0.1 else 0
    motion_deg = float(rng.uniform(0.0, 180.0))
    sharpen = float(rng.uniform(0.3, 1.5)) if rng.random() < 0.25 else 0.0
    sharpen_sigma = float(rng.uniform(0.8, 2.0))
    codecs = [_sample_codec(rng)]
    if rng.random() < 0.25:  # NOTE: re-encoded (uploaded, cut, re-uploaded)
        codecs.append(_sample_codec(rng))
    return CaptureParams(warp, noise, int(rng.integers(2**31)), scale, blur, motion, motion_deg,
                         sharpen, sharpen_sigma, tuple(c for c in codecs if c is not None))


def _sample_codec(rng: np.random.Generator) -> tuple[str, int, str] | None:
    u = rng.random()
    if u < 0.6:  # NOTE: casework is mostly video; CRF 18 is near-transparent, 36 a poor stream
        return ("h264", int(rng.integers(18, 37)), H264_PRESETS[int(rng.integers(3))])
    if u < 0.9:
        return ("jpeg", int(rng.integers(30, 96)), "")
    return None


def apply_capture(rgb_u8: np.ndarray, p: CaptureParams,
                  valid_xyxy: tuple[float, float, float, float] | None = None) -> np.ndarray:
    """Run the chain on one (S, S, 3) uint8 crop; ``valid_xyxy`` is the part of the crop that
    lies inside its source image (crop pixels), ``None`` for all of it."""
    if rgb_u8.dtype != np.uint8 or rgb_u8.ndim != 3 or rgb_u8.shape[2] != 3:
        raise SynthesisInputError(f"expected an (H, W, 3) uint8 image, got {rgb_u8.shape}")
    h, w = rgb_u8.shape[:2]
    out = _warp(rgb_u8, p.warp, cv2.INTER_LINEAR) if p.warp else rgb_u8
    if p.noise_sigma > 0:
        field = np.random.default_rng(p.noise_seed).normal(0.0, p.noise_sigma, out.shape)
        out = np.clip(np.rint(out + field), 0, 255).astype(np.uint8)
    size = max(16, 2 * round(p.face_scale * max(h, w) / 2))
    if size < max(h, w):
        out = cv2.resize(out, (size, size), interpolation=cv2.INTER_AREA)
    out = _filters(out, p)
    for kind, level, preset in p.codecs:
        out = h264_roundtrip(out, level, preset) if kind == "h264" else \
            color.jpeg_roundtrip(out, level)
    if out.shape[:2] != (h, w):
        out = cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR)
    return refill_margin(out, valid_xyxy) if valid_xyxy is not None else out


def _filters(rgb_u8: np.ndarray, p: CaptureParams) -> np.ndarray:
    out = rgb_u8
    if p.blur_sigma > 0:
        out = cv2.GaussianBlur(out, (0, 0), p.blur_sigma)
    if p.motion_px > 0:
        kernel = np.zeros((p.motion_px, p.motion_px), np.float32)
        kernel[p.motion_px // 2, :] = 1.0 / p.motion_px
        centre = ((p.motion_px - 1) / 2, (p.motion_px - 1) / 2)
        rot = cv2.getRotationMatrix2D(centre, p.motion_deg, 1.0)
        kernel = cv2.warpAffine(kernel, rot, kernel.shape[::-1])
        out = cv2.filter2D(out, -1, kernel / max(float(kernel.sum()), 1e-6))
    if p.sharpen > 0:
        soft = cv2.GaussianBlur(out, (0, 0), p.sharpen_sigma).astype(np.float32)
        sharp = out.astype(np.float32) * (1 + p.sharpen) - soft * p.sharpen
        out = np.clip(np.rint(sharp), 0, 255).astype(np.uint8)
    return out


def _warp(img: np.ndarray, warp: tuple[float, float, float, float], interp: int) -> np.ndarray:
    dx, dy, zoom, degrees = warp
    h, w = img.shape[:2]
    matrix = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), degrees, zoom)
    matrix[:, 2] += (dx, dy)
    return cv2.warpAffine(img, matrix, (w, h), flags=interp, borderMode=cv2.BORDER_REPLICATE)


def refill_margin(rgb_u8: np.ndarray, valid_xyxy: tuple[float, float, float, float]) -> np.ndarray:
    """Replace the crop outside ``valid_xyxy`` by edge replication of the inside, as
    ``engine.faces.crop`` pads a face at an image border.

    ``valid_xyxy`` is the source image's extent in crop pixel coordinates (pixel centres): crop
    pixel ``(i, j)`` is inside when ``x0 <= j <= x1`` and ``y0 <= i <= y1``.
    """
    h, w = rgb_u8.shape[:2]
    x0, y0 = (int(np.clip(np.ceil(v), 0, n)) for v, n in zip(valid_xyxy[:2], (w, h), strict=True))
    x1, y1 = (int(np.clip(np.floor(v) + 1, 0, n))
              for v, n in zip(valid_xyxy[2:], (w, h), strict=True))
    if x1 - x0 < 1 or y1 - y0 < 1 or (x0, y0, x1, y1) == (0, 0, w, h):
        return rgb_u8
    inside = rgb_u8[y0:y1, x0:x1]
    return cv2.copyMakeBorder(inside, y0, h - y1, x0, w - x1, cv2.BORDER_REPLICATE)


def capture_pair(real_rgb_u8: np.ndarray, fake: BlendResult, rng: np.random.Generator,
                 valid_xyxy: tuple[float, float, float, float] | None = None,
                 ) -> tuple[np.ndarray, BlendResult]:
    """One draw of the chain applied to a real crop and its fake twin alike (maps follow)."""
    if real_rgb_u8.shape != fake.image_rgb_u8.shape:
        raise SynthesisInputError(f"real and fake crops differ in shape: {real_rgb_u8.shape} "
                                  f"vs {fake.image_rgb_u8.shape}")
    p = sample_capture_params(rng)
    real = apply_capture(real_rgb_u8, p, valid_xyxy)
    mask, xray = fake.mask_f32, fake.xray_f32
    if p.warp is not None:
        mask, xray = (_warp(a, p.warp, cv2.INTER_LINEAR) for a in (mask, xray))
    return real, dataclasses.replace(fake, image_rgb_u8=apply_capture(fake.image_rgb_u8, p,
                                                                      valid_xyxy),
                                     mask_f32=mask, xray_f32=xray, target_rgb_u8=real)
