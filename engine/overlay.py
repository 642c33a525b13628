"""Explanation maps drawn on the frame: where a detector saw its evidence.

Each detector that has a map (Grad-CAM, blending boundary, attention) predicts it on the face
crop; the crop's affine (``FaceScore.crop_to_frame``) puts it back on the frame. A detector
that scores whole pictures (the generated-image detector) also has a map of the whole frame:
the probability of each of its tiles. Faces are
combined by the per-pixel max, colour-mapped, and blended in with an alpha that grows with the
map value, so pixels the detector did not look at keep their true colours (a uniform tint would
hide the evidence the analyst must see). Face boxes are not drawn: the GUI draws those.

Only the region the faces' crops cover is computed (every map is zero outside its crop, so the
rest of the frame is copied unchanged): a 36000x1300 panorama with three faces costs what its
faces cost, not 47 megapixels of float arithmetic per detector.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.types import FaceScore

__all__ = ["heat_to_frame", "overlay_maps"]


def heat_to_frame(
    faces: Sequence[FaceScore], detector: str, frame_hw: tuple[int, int],
    picture_map: np.ndarray | None = None,
) -> np.ndarray:
    """The (H, W) float32 map in [0, 1] of ``detector`` over all faces, in frame pixels.

    Faces without a map for ``detector`` add nothing; the result is all zeros if none has one.
    ``picture_map`` is a whole-picture map of the same detector (``FrameResult.picture_maps``:
    a grid of tile probabilities over the frame), stretched over the frame with nearest
    neighbours so every tile keeps its own value; faces and picture combine by the max.
    """
    import cv2

    from engine.faces.crop import map_to_frame

    heat = np.zeros(frame_hw, dtype=np.float32)
    if picture_map is not None:
        grid = np.clip(np.asarray(picture_map, dtype=np.float32), 0.0, 1.0)
        heat = cv2.resize(grid, (frame_hw[1], frame_hw[0]), interpolation=cv2.INTER_NEAREST)
    for face in faces:
        face_map = face.maps.get(detector)
        if face_map is None:
            continue
        clipped = np.clip(np.asarray(face_map, dtype=np.float32), 0.0, 1.0)
        warped = map_to_frame(clipped, face.crop_to_frame, face.crop_size, frame_hw)
        np.maximum(heat, warped, out=heat)
    return heat


def overlay_maps(
    rgb_u8: np.ndarray, faces: Sequence[FaceScore], detector: str, opacity: float = 0.5,
    picture_map: np.ndarray | None = None,
) -> np.ndarray:
    """A copy of the frame with ``detector``'s maps of ``faces`` blended in as a heatmap.

    Args:
        rgb_u8: (H, W, 3) uint8 RGB frame the faces were found in.
        faces: the frame's face scores, with maps (analysis run with ``want_maps=True``).
        detector: the detector whose maps to draw.
        opacity: alpha of the heatmap where the map is 1; lower map values blend in less.
        picture_map: the detector's whole-picture map of this frame, if it has one.

    Returns:
        (H, W, 3) uint8 RGB image; equal to ``rgb_u8`` where every map is 0.

    Raises:
        ValueError: ``rgb_u8`` is not (H, W, 3) uint8 or ``opacity`` is outside [0, 1].
    """
    import cv2

    if rgb_u8.ndim != 3 or rgb_u8.shape[2] != 3 or rgb_u8.dtype != np.uint8:
        raise ValueError(f"rgb_u8 must be (H, W, 3) uint8, got {rgb_u8.shape} {rgb_u8.dtype}")
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity must be in [0, 1], got {opacity}")
    frame_hw = (int(rgb_u8.shape[0]), int(rgb_u8.shape[1]))
    out: np.ndarray = rgb_u8.copy()
    if picture_map is not None:
        # NOTE: a whole-picture map covers the frame; only face maps are worth a region.
        x0, y0, x1, y1 = 0, 0, frame_hw[1], frame_hw[0]
        heat = heat_to_frame(faces, detector, frame_hw, picture_map)
    else:
        roi = _maps_roi(faces, detector, frame_hw)
        if roi is None:
            return out
        x0, y0, x1, y1 = roi
        shifted = [_shifted(face, x0, y0) for face in faces]
        heat = heat_to_frame(shifted, detector, (y1 - y0, x1 - x0))
    heat_u8 = np.round(heat * 255.0).astype(np.uint8)
    colour_rgb = cv2.cvtColor(cv2.applyColorMap(heat_u8, cv2.COLORMAP_TURBO), cv2.COLOR_BGR2RGB)
    alpha = (heat * opacity)[..., None]
    part = rgb_u8[y0:y1, x0:x1].astype(np.float32)
    blended = part * (1.0 - alpha) + colour_rgb.astype(np.float32) * alpha
    out[y0:y1, x0:x1] = np.clip(np.round(blended), 0, 255).astype(np.uint8)
    return out


def _maps_roi(
    faces: Sequence[FaceScore], detector: str, frame_hw: tuple[int, int]
) -> tuple[int, int, int, int] | None:
    """The frame region the crops with a ``detector`` map cover (``x0, y0, x1, y1``), or None."""
    from engine.faces.crop import apply_affine

    corners = []
    for face in faces:
        if detector in face.maps:
            s = float(face.crop_size)
            square = np.array([[0.0, 0.0], [s, 0.0], [0.0, s], [s, s]])
            corners.append(apply_affine(face.crop_to_frame, square))
    if not corners:
        return None
    pts = np.concatenate(corners)
    h, w = frame_hw
    # NOTE: two pixels of margin for the bilinear warp's edge samples.
    x0, y0 = (max(0, int(np.floor(v)) - 2) for v in pts.min(axis=0))
    x1, y1 = min(w, int(np.ceil(pts[:, 0].max())) + 2), min(h, int(np.ceil(pts[:, 1].max())) + 2)
    return None if x1 <= x0 or y1 <= y0 else (x0, y0, x1, y1)


def _shifted(face: FaceScore, dx: int, dy: int) -> FaceScore:
    """``face`` with its crop placed in a frame region whose origin is ``(dx, dy)``."""
    from dataclasses import replace

    affine = np.asarray(face.crop_to_frame, dtype=np.float64).copy()
    affine[0, 2] -= dx
    affine[1, 2] -= dy
    return replace(face, crop_to_frame=affine)
