"""Corpus media with real faces, cut from the bundled demo clip (resources/sample/demo_real.mp4).

The bad-input corpus needs files whose correct result has faces: a face that leaves the picture
and comes back, several faces at once, a phone video stored sideways with rotation metadata, a
face too small to score. Drawn ellipses are not faces to MediaPipe, so these files reuse the
frames of the public-domain demo clip (see resources/sample/README.md): decoded with cv2,
resized, tiled or blanked, and written again. Nothing binary is committed and the output is the
same on every run with the pinned OpenCV.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from tests.engine.container_edit import rotate_mp4

__all__ = [
    "DEMO_REAL",
    "demo_frames_rgb",
    "face_free_rgb",
    "make_face_in_unicode_folder",
    "make_face_photo",
    "make_face_returns_video",
    "make_rotated_phone_video",
    "make_three_faces_image",
    "make_tiny_face_image",
    "make_two_faces_video",
    "write_rgb_video",
]

DEMO_REAL = Path(__file__).resolve().parents[2] / "resources" / "sample" / "demo_real.mp4"
SIDE_PX = 256  # NOTE: the face is then ~60x70 px, well above the 40 px the detectors need
FPS = 10.0


@functools.lru_cache(maxsize=1)
def _demo_frames_cached(side_px: int) -> tuple[np.ndarray, ...]:
    import cv2

    cap = cv2.VideoCapture(str(DEMO_REAL))
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        small = cv2.resize(bgr, (side_px, side_px), interpolation=cv2.INTER_AREA)
        rgb = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
        rgb.setflags(write=False)
        frames.append(rgb)
    cap.release()
    if not frames:
        raise FileNotFoundError(f"cannot decode the demo clip {DEMO_REAL}")
    return tuple(frames)


def demo_frames_rgb(side_px: int = SIDE_PX) -> tuple[np.ndarray, ...]:
    """The 45 frames of the demo clip, resized to ``side_px`` squares (read-only arrays)."""
    return _demo_frames_cached(side_px)


def face_free_rgb(rgb_u8: np.ndarray) -> np.ndarray:
    """The frame with every row replaced by its mean colour: the scene's tones, no face."""
    rows = rgb_u8.mean(axis=1, keepdims=True).round().astype(np.uint8)
    return np.ascontiguousarray(np.broadcast_to(rows, rgb_u8.shape))


def write_rgb_video(path: Path, frames_rgb: list[np.ndarray], fps: float = FPS) -> Path:
    """Write RGB frames as an ``mp4v`` mp4 (beside ``path``, then renamed: see write_video)."""
    import cv2

    height, width = frames_rgb[0].shape[:2]
    tmp = path.parent / f"_writing{path.suffix}"
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"cv2 cannot write {tmp}")
    for rgb in frames_rgb:
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    os.replace(tmp, path)
    return path


def _save_jpeg(path: Path, rgb_u8: np.ndarray) -> Path:
    import cv2

    ok, encoded = cv2.imencode(
        ".jpg", cv2.cvtColor(rgb_u8, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92]
    )
    if not ok:
        raise RuntimeError(f"cv2 cannot encode {path}")
    path.write_bytes(encoded.tobytes())
    return path


def make_face_returns_video(out_dir: Path, _rng: np.random.Generator) -> Path:
    """24 frames: the face for 8, a face-free scene for 8 (frames 8-15), the face again for 8."""
    frames = list(demo_frames_rgb()[:24])
    for frame_idx in range(8, 16):
        frames[frame_idx] = face_free_rgb(frames[frame_idx])
    return write_rgb_video(out_dir / "face_leaves_and_returns.mp4", frames)


def make_two_faces_video(out_dir: Path, _rng: np.random.Generator) -> Path:
    """12 frames of two faces side by side (the clip, and the clip mirrored 20 frames later)."""
    demo = demo_frames_rgb()
    frames = [np.hstack([demo[i], demo[i + 20][:, ::-1]]) for i in range(12)]
    return write_rgb_video(out_dir / "two_faces.mp4", frames)


def make_three_faces_image(out_dir: Path, _rng: np.random.Generator) -> Path:
    """One JPEG with three faces in a row (frames 0, 22 and 44, the middle one mirrored)."""
    demo = demo_frames_rgb()
    return _save_jpeg(
        out_dir / "three_faces.jpg", np.hstack([demo[0], demo[22][:, ::-1], demo[44]])
    )


def make_face_photo(out_dir: Path, _rng: np.random.Generator) -> Path:
    """A plain single-face JPEG: the control item every batch should get right."""
    return _save_jpeg(out_dir / "face_photo.jpg", demo_frames_rgb()[10])


def make_face_in_unicode_folder(out_dir: Path, _rng: np.random.Generator) -> Path:
    """Another frame of the face, under a folder and a file name in three non-Latin scripts."""
    folder = out_dir / "證據_évidence_доказ"
    folder.mkdir(exist_ok=True)
    return _save_jpeg(folder / "лицо_顔.jpg", demo_frames_rgb()[30])


def make_tiny_face_image(out_dir: Path, _rng: np.random.Generator) -> Path:
    """The face at 64x64 px of picture: found, but too small to score (no usable face)."""
    return _save_jpeg(out_dir / "tiny_face.jpg", demo_frames_rgb(64)[10])


def make_rotated_phone_video(out_dir: Path, _rng: np.random.Generator) -> Path:
    """A portrait clip stored as landscape pixels turned 90° ccw, with a 90° cw display matrix.

    Shown upright it is 192x256 (portrait); the stored pixels are 256x192 with the face lying
    on its side. (The face finder finds a sideways face too, so a face alone does not prove
    the rotation was applied: the probed size and ``rotation_deg`` do.)
    """
    import cv2

    demo = demo_frames_rgb(384)
    portrait = [
        cv2.resize(rgb[:, 48:336], (192, 256), interpolation=cv2.INTER_AREA) for rgb in demo[:12]
    ]
    stored = [np.ascontiguousarray(np.rot90(rgb, k=1)) for rgb in portrait]  # 90° ccw
    plain = write_rgb_video(out_dir / "_phone_unrotated.mp4", stored)
    return rotate_mp4(plain, out_dir / "rotated_phone_portrait.mp4", 90)
