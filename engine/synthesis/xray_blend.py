"""Face X-ray training data (Li et al., CVPR 2020): blended images ("BI") from two real faces.

For a real target face I_B, a donor I_F whose landmarks are close (after alignment) is chosen
among ~100 random candidates, warped onto the target by a similarity transform fitted on the
landmarks, colour-corrected to the target, and blended in through a deformed, blurred hull mask
of the TARGET's landmarks: I = M * I_F + (1 - M) * I_B. The training target is the blending
boundary B = 4 M (1 - M); reals get B = 0 (``result.real_xray``). See METHODS.md section 2.

Reference behaviour kept (the public BI generator of the Face X-ray re-implementations): four
random hull shapes (as SBI), a piecewise-affine deformation from a jittered 4x4 grid, random
erosion (kernel 1-21 px) or dilation (1-5 px). Chosen here, as the paper gives no values: the
grid jitter sigma is 1-4% of the crop side (the re-implementation's 15% moves the boundary by
up to ~40 px at 256 px, off the face), the mask is Gaussian-blurred (the paper's wording) with
sigma 1.2-3.5% of the side (3-9 px at 256), and the colour correction matches mean and standard
deviation per L*a*b* channel inside the mask (Reinhard transfer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from engine.errors import SynthesisInputError
from engine.synthesis.elastic import grid_displacement, warp_with_displacement
from engine.synthesis.masks import HULL_SHAPES, hull_mask
from engine.synthesis.result import BlendResult, check_face_inputs, xray_from_mask

__all__ = [
    "BiParams",
    "blend_with_donor",
    "nearest_donor",
    "sample_bi_params",
    "similarity_transform",
]

N_MESH = 468  # alignment and matching use the mesh points, not the iris points


@dataclass(frozen=True)
class BiParams:
    """Every random choice of one donor blend; pass it back to replay (or to keep one mask
    deformation over a clip).

    Attributes:
        hull_shape: one of ``masks.HULL_SHAPES`` (always on the full landmark set).
        deform_scale: grid jitter sigma as a fraction of the crop side.
        deform_seed: seed of the grid jitter.
        erode_dilate_px: square kernel side; negative erodes, positive dilates, +-1 is a no-op.
        blur_sigma_frac: Gaussian sigma of the mask blur as a fraction of the crop side.
    """

    hull_shape: str
    deform_scale: float
    deform_seed: int
    erode_dilate_px: int
    blur_sigma_frac: float


def sample_bi_params(rng: np.random.Generator) -> BiParams:
    """Draw one BI parameter set."""
    hull_shape = HULL_SHAPES[int(rng.integers(len(HULL_SHAPES)))]
    deform_scale = float(rng.uniform(0.01, 0.04))
    deform_seed = int(rng.integers(2**31))
    if rng.random() < 0.5:
        erode_dilate_px = -(int(rng.integers(1, 22)) | 1)
    else:
        erode_dilate_px = int(rng.integers(1, 6)) | 1
    return BiParams(
        hull_shape=hull_shape,
        deform_scale=deform_scale,
        deform_seed=deform_seed,
        erode_dilate_px=erode_dilate_px,
        blur_sigma_frac=float(rng.uniform(0.012, 0.035)),
    )


def blend_with_donor(
    target_rgb_u8: np.ndarray,
    target_lm: np.ndarray,
    donor_rgb_u8: np.ndarray,
    donor_lm: np.ndarray,
    rng: np.random.Generator,
    params: BiParams | None = None,
) -> BlendResult:
    """Blend the donor's face into the target crop.

    Args:
        target_rgb_u8: (S, S, 3) real target crop (the background I_B).
        target_lm: (478, 2) target landmarks in its crop pixels.
        donor_rgb_u8: (S', S', 3) real donor crop (the foreground I_F), any size.
        donor_lm: (478, 2) donor landmarks in its crop pixels.
        rng: source of every random draw (unused when ``params`` is given).
        params: replay these parameters instead of sampling new ones.
    """
    check_face_inputs(target_rgb_u8, target_lm, "target")
    check_face_inputs(donor_rgb_u8, donor_lm, "donor")
    p = params if params is not None else sample_bi_params(rng)
    h, w = target_rgb_u8.shape[:2]
    donor = _align_donor(donor_rgb_u8, donor_lm, target_lm, (h, w))
    hard = _deformed_hull(target_lm, (h, w), p)
    donor = _match_colour_lab(donor, target_rgb_u8, hard > 0.5)
    m = _blur_mask(hard, p.blur_sigma_frac * max(h, w))
    m3 = m[..., None]
    blended = np.clip(np.rint(m3 * donor + (1 - m3) * target_rgb_u8), 0, 255).astype(np.uint8)
    return BlendResult(
        image_rgb_u8=blended,
        mask_f32=m.astype(np.float32),
        xray_f32=xray_from_mask(m),
        target_rgb_u8=target_rgb_u8.copy(),
        params=p,
    )


def _align_donor(
    donor_rgb_u8: np.ndarray, donor_lm: np.ndarray, target_lm: np.ndarray, shape_hw: tuple[int, int]
) -> np.ndarray:
    """The donor crop warped onto the target crop by a landmark similarity transform."""
    donor_to_target = similarity_transform(donor_lm[:N_MESH], target_lm[:N_MESH])
    h, w = shape_hw
    return cv2.warpAffine(
        donor_rgb_u8,
        donor_to_target,
        (w, h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REFLECT_101,
    )


def _blur_mask(mask_f32: np.ndarray, sigma_px: float) -> np.ndarray:
    ksize = 2 * int(np.ceil(3 * sigma_px)) + 1  # NOTE: a 3-sigma kernel bounds the blend's reach
    return cv2.GaussianBlur(mask_f32, (ksize, ksize), sigma_px, borderType=cv2.BORDER_CONSTANT)


def _deformed_hull(landmarks_xy: np.ndarray, shape_hw: tuple[int, int], p: BiParams) -> np.ndarray:
    """Hull mask, piecewise-affine deformed, then eroded or dilated; {0, 1} float32."""
    mask = hull_mask(landmarks_xy, shape_hw, p.hull_shape, reduced=False)
    dx, dy = grid_displacement(shape_hw, p.deform_scale, p.deform_seed)
    mask = warp_with_displacement(
        mask, dx, dy, interpolation=cv2.INTER_LINEAR, border_mode=cv2.BORDER_CONSTANT
    )
    mask = (mask > 0.5).astype(np.uint8)
    k = abs(p.erode_dilate_px)
    if k > 1:
        kernel = np.ones((k, k), np.uint8)
        mask = cv2.erode(mask, kernel) if p.erode_dilate_px < 0 else cv2.dilate(mask, kernel)
    if not mask.any():
        raise SynthesisInputError("the deformed face hull is empty; check the target landmarks")
    return mask.astype(np.float32)


def _match_colour_lab(
    donor_u8: np.ndarray, target_u8: np.ndarray, region: np.ndarray
) -> np.ndarray:
    """Donor with per-channel L*a*b* mean/std matched to the target's inside ``region``."""
    donor_lab = cv2.cvtColor(donor_u8.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)
    target_lab = cv2.cvtColor(target_u8.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)
    d, t = donor_lab[region], target_lab[region]
    gain = t.std(axis=0) / np.maximum(d.std(axis=0), 1e-3)
    out_lab = (donor_lab - d.mean(axis=0)) * gain + t.mean(axis=0)
    out = cv2.cvtColor(out_lab.astype(np.float32), cv2.COLOR_LAB2RGB)
    return np.clip(out * 255, 0, 255).astype(np.float32)


def similarity_transform(src_xy: np.ndarray, dst_xy: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) mapping ``src_xy`` onto
    ``dst_xy`` (Umeyama 1991), as a (2, 3) matrix for ``cv2.warpAffine``."""
    src = np.asarray(src_xy, dtype=np.float64)
    dst = np.asarray(dst_xy, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    u, s, vt = np.linalg.svd(dst_c.T @ src_c)
    d = np.array([1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    rotation = u @ np.diag(d) @ vt
    var_src = float((src_c**2).sum())
    if var_src <= 0:
        raise SynthesisInputError("landmarks are degenerate (all points coincide)")
    scale = float((s * d).sum()) / var_src
    translation = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, translation[:, None]])


def nearest_donor(
    target_lm: np.ndarray,
    pool_landmarks: np.ndarray,
    rng: np.random.Generator,
    n_candidates: int = 100,
    exclude: Sequence[int] = (),
) -> int:
    """Index into ``pool_landmarks`` of the donor whose landmarks best match the target's.

    ``n_candidates`` pool entries (not in ``exclude``, e.g. the target itself or its video) are
    drawn at random; each is aligned to the target by a least-squares similarity (centred, unit
    scale, best rotation) and the one with the smallest summed point-to-point Euclidean
    distance wins.

    Args:
        target_lm: (478, 2) target landmarks.
        pool_landmarks: (K, 478, 2) candidate landmarks, each in its own crop pixels.
        rng: draws the candidate subset.
        n_candidates: how many candidates to compare (the paper uses about 100).
        exclude: pool indices never to return.
    """
    pool = np.asarray(pool_landmarks, dtype=np.float64)
    if pool.ndim != 3 or pool.shape[2] != 2 or pool.shape[1] < N_MESH:
        raise SynthesisInputError(f"pool landmarks must be (K, 478, 2); got {pool.shape}")
    allowed = np.setdiff1d(np.arange(pool.shape[0]), np.asarray(exclude, dtype=np.int64))
    if allowed.size == 0 or n_candidates < 1:
        raise SynthesisInputError("no donor candidates left (empty pool or all excluded)")
    candidates = rng.choice(allowed, size=min(n_candidates, allowed.size), replace=False)
    target = _unit_shape(np.asarray(target_lm, dtype=np.float64)[None, :N_MESH])[0]
    shapes = _unit_shape(pool[candidates, :N_MESH])
    # Orthogonal Procrustes per candidate: H = X^T Y = U S V^T, R = U diag(1, d) V^T.
    u, s, vt = np.linalg.svd(np.einsum("npi,pj->nij", shapes, target))
    d = np.sign(np.linalg.det(u @ vt))
    d[d == 0] = 1.0
    corr = np.stack([np.ones_like(d), d], axis=1)
    rotation = u @ (corr[:, :, None] * vt)
    scale = (s * corr).sum(axis=1)
    aligned = scale[:, None, None] * np.einsum("npi,nij->npj", shapes, rotation)
    dist = np.linalg.norm(aligned - target[None], axis=2).sum(axis=1)
    return int(candidates[int(np.argmin(dist))])


def _unit_shape(points: np.ndarray) -> np.ndarray:
    """(N, P, 2) point sets centred and scaled to unit Frobenius norm."""
    centred = points - points.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(centred, axis=(1, 2), keepdims=True)
    if np.any(norm <= 0):
        raise SynthesisInputError("landmarks are degenerate (all points coincide)")
    return centred / norm
