"""What the held-out-generator validation scores: pictures of other people's generators and
real pictures of other sources, their faces, and the robustness views.

Groups (never trained on; ``engine.training.gen_eval`` scores them):

- fakes by generator: ``faces_gan/generated_photos`` (300 StyleGAN-style portraits, 512 px
  JPEG), and ``dev_bench``'s ``gan_image`` / ``diffusion_image`` items per ``source_repo``;
- other manipulations, reported apart: ``dev_bench`` face swaps, reenactments and talking heads
  (VASA-1 / EMO / AniPortrait are generated from one photo);
- reals: ``dev_bench`` real photos and real video frames per source, and our own held-out
  pictures (validation split of UTKFace / CelebA, frames of the held-out videos).

Videos give ``frames_per_video`` evenly spaced frames, each a picture. Each picture is seen in
four views, the same for every group: ``native`` (decoded pixels), ``jpeg75`` (a JPEG round
trip at quality 75), ``down05`` (downscaled by 0.5, area) and ``h264_23`` (one H.264 frame at
x264's default CRF 23, 4:2:0, as a picture reaches an analyst inside a video). Faces are found
once per picture (MediaPipe, ``engine.faces``) and cached with their landmarks; a view moves
them with it.
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

__all__ = [
    "VIEWS",
    "EvalPicture",
    "cached_faces",
    "list_pictures",
    "picture_view",
    "read_picture",
    "write_pictures",
]

logger = logging.getLogger(__name__)

VIEWS = ("native", "jpeg75", "down05", "h264_23")
_BENCH_KINDS = {
    "gan_image": "gan", "diffusion_image": "diffusion", "faceswap_image": "faceswap",
    "faceswap_video": "faceswap", "reenactment_image": "reenactment",
    "reenactment_video": "reenactment", "talking_head_video": "talking_head",
    "real_image": "real_photo", "real_video": "real_video",
}


@dataclass(frozen=True)
class EvalPicture:
    """One picture to score.

    Attributes:
        key: unique id (``<rel_path>#<frame_idx>``).
        rel_path: file relative to the data root.
        frame_idx: video frame (0 for images).
        label: 1 generated or manipulated, 0 real.
        kind: ``gan``, ``diffusion``, ``faceswap``, ``reenactment``, ``talking_head``,
            ``real_photo``, ``real_video`` or ``heldout_real``.
        group: ``<kind>:<source>`` (the generator or real source the tables are cut by).
        media: ``image`` or ``video``.
    """

    key: str
    rel_path: str
    frame_idx: int
    label: int
    kind: str
    group: str
    media: str


def _picture(rel: str, frame_idx: int, label: int, kind: str, source: str,
             media: str) -> EvalPicture:
    return EvalPicture(f"{rel}#{frame_idx}", rel, frame_idx, label, kind, f"{kind}:{source}",
                       media)


def _video_frames(data_root: Path, rel: str, n: int) -> list[int]:
    from engine.media import probe

    count = int(probe(str(data_root / rel)).n_frames)
    return [int(k) for k in np.unique(np.linspace(0, max(0, count - 4), n).round())]


def list_pictures(
    data_root: Path, *, frames_per_video: int, n_heldout_stills: int, seed: int = 0
) -> list[EvalPicture]:
    """Every picture of the validation, in a fixed order."""
    from engine.training.gen_sources import list_real_items

    out = [_picture(f"faces_gan/generated_photos/{p.name}", 0, 1, "gan", "generated_photos",
                    "image")
           for p in sorted((data_root / "faces_gan" / "generated_photos").iterdir())]
    with (data_root / "dev_bench" / "index.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        kind = _BENCH_KINDS[row["kind"]]
        rel = f"dev_bench/{row['path']}"
        label = int(row["label"] == "fake")
        if row["kind"].endswith("_video"):
            out += [_picture(rel, k, label, kind, row["source_repo"], "video")
                    for k in _video_frames(data_root, rel, frames_per_video)]
        else:
            out.append(_picture(rel, 0, label, kind, row["source_repo"], "image"))
    items = list_real_items(data_root, split="val", frames_per_video=frames_per_video, seed=seed)
    stills = [i for i in items if i.source != "videos_real"]
    rng = np.random.default_rng(seed)
    for k in np.sort(rng.choice(len(stills), min(n_heldout_stills, len(stills)), False)):
        item = stills[int(k)]
        out.append(_picture(item.rel_path, 0, 0, "heldout_real", item.source, "image"))
    out += [_picture(i.rel_path, i.frame_idx, 0, "heldout_real", "videos_real", "video")
            for i in items if i.source == "videos_real"]
    return out


def read_picture(data_root: Path, pic: EvalPicture) -> np.ndarray:
    """The decoded (H, W, 3) uint8 picture (the application's decoders)."""
    from engine.media import read_frame

    return read_frame(data_root / pic.rel_path, pic.frame_idx).rgb_u8


def picture_view(rgb_u8: np.ndarray, view: str) -> tuple[np.ndarray, float]:
    """``(pixels, scale)`` of a view: ``native``, ``jpeg75``, ``down05`` (scale 0.5) or
    ``h264_23``."""
    if view == "native":
        return rgb_u8, 1.0
    if view == "jpeg75":
        from engine.training.gen_data import jpeg_pil

        return jpeg_pil(rgb_u8, 75, 2), 1.0
    if view == "down05":
        h, w = rgb_u8.shape[:2]
        size = (max(1, round(w * 0.5)), max(1, round(h * 0.5)))
        return cv2.resize(rgb_u8, size, interpolation=cv2.INTER_AREA), 0.5
    if view == "h264_23":
        from engine.synthesis.codec import h264_roundtrip

        return h264_roundtrip(rgb_u8, 23), 1.0
    raise ValueError(f"unknown view {view!r}; use one of {VIEWS}")


def cached_faces(
    cache: Path, key: str, rgb_u8: np.ndarray, detector: object, min_face_px: float
) -> list[np.ndarray]:
    """The Face Mesh landmarks ((478, 2) float32, picture pixels) of each usable face of a
    picture: from ``cache/faces/<hash>.json`` when there, else detected and stored."""
    import hashlib

    path = cache / "faces" / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.json"
    if path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
        return [np.asarray(lm, dtype=np.float32) for lm in data["landmarks"]]
    faces = detector.detect(rgb_u8)  # type: ignore[attr-defined]
    keep = []
    for face in faces:
        x0, y0, x1, y1 = face.bbox_xyxy
        if max(x1 - x0, y1 - y0) >= min_face_px:
            keep.append(np.asarray(face.landmarks_xy, dtype=np.float32))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"key": key, "landmarks": [np.round(lm, 2).tolist()
                                                          for lm in keep]}), encoding="utf-8")
    return keep


def write_pictures(path: Path, pictures: list[EvalPicture]) -> None:
    """The picture list as JSON (what an evaluation scored)."""
    path.write_text(json.dumps([asdict(p) for p in pictures], indent=0) + "\n", encoding="utf-8")
