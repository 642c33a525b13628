"""Cautions: where a file lies outside what the detectors know, said in words.

The detectors were trained and checked on frontal-ish faces of at least ~100 px in moderately
compressed photos and clips of a few seconds or more. When a file is far from that, a score is
weaker evidence than its number suggests - but how much weaker is not known, so a caution
never changes a score or a grade: it is shown with the finding, stored with the analysis and
printed in the report, and the analyst weighs it.

Each rule is a small function of what the analysis already knows (the media's header facts
and the faces found); thresholds carry a ``# NOTE:`` on why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.analysis.faces_stage import FoundFaces
from engine.types import Caution, FaceCrop, MediaInfo

__all__ = ["CautionInputs", "cautions_for"]

# NOTE: the crop policy's minimum (40 px, "face too small") is where scoring stops; below about
# 80 px the 192-px network input is mostly upsampling and the training faces were larger.
_SMALL_FACE_PX = 80.0
# NOTE: Face Mesh and the crop policy handle in-plane rotation up to about 45 degrees.
_MAX_ROLL_DEG = 45.0
# NOTE: a face whose landmark box reaches the frame border has part of it cut off (the crop is
# padded there, which the detectors have not seen on real faces).
_EDGE_PX = 1.0
# NOTE: under ~0.02 bits per pixel per frame a video is heavily compressed (a 720p30 clip at
# 0.55 Mbit/s); 0.05 is typical of streaming at medium quality.
_HEAVY_VIDEO_BPP = 0.02
# NOTE: a still under ~0.4 bits per pixel is a strongly compressed JPEG (quality ~50 or less at
# typical photo content); a lossless or camera JPEG is 1-4 bits per pixel.
_HEAVY_IMAGE_BPP = 0.4
_LOW_RES_SHORT_SIDE_PX = 240
# NOTE: a clip shorter than 2 s, or with fewer analysed frames than a clip detector's window,
# gives the per-video mean only a few independent frames.
_SHORT_CLIP_S = 2.0
_LEFT_EYE, _RIGHT_EYE = 33, 263  # Face Mesh outer eye corners
# NOTE: video codecs that keep every pixel; any other codec (H.264, HEVC, VP9, AV1, MPEG-4 ...)
# is lossy, and the generated-image detectors were validated on stills (docs/MODELS_GEN.md:
# one H.264 frame at the default CRF 23 takes the generated kind's ranking of the held-out
# portraits from 0.943 to 0.549, the linear probe alone below chance).
_LOSSLESS_VIDEO_CODECS = frozenset({"ffv1", "huffyuv", "rawvideo", "png", "utvideo", "qtrle",
                                    "magicyuv", "ffvhuff"})


@dataclass(frozen=True)
class CautionInputs:
    """What the cautions are computed from.

    Attributes:
        info: the media's header facts.
        faces: the faces found in the analysed frames.
        max_faces: the per-frame limit of faces analysed.
        clip_len: the shortest window of the clip detectors that ran (0: none ran).
        kinds_run: the kinds of manipulation the running detectors look for
            (``DetectorCfg.looks_for``); a caution about one kind's detectors needs them.
    """

    info: MediaInfo
    faces: FoundFaces
    max_faces: int
    clip_len: int
    kinds_run: frozenset[str] = frozenset()


def cautions_for(inputs: CautionInputs) -> tuple[Caution, ...]:
    """Every caution that applies, in a fixed order."""
    out: list[Caution | None] = [
        _faces_not_analysed(inputs),
        _faces_too_small(inputs.faces),
        _small_faces(inputs.faces),
        _faces_cut(inputs.faces),
        _rotated(inputs.faces),
        _low_resolution(inputs.info),
        _heavy_compression(inputs.info),
        _short_clip(inputs),
        _generated_in_video(inputs),
        _no_face_scored(inputs),
    ]
    return tuple(c for c in out if c is not None)


def _faces_not_analysed(inputs: CautionInputs) -> Caution | None:
    faces = inputs.faces
    beyond, blind = faces.n_beyond_limit, faces.n_without_landmarks
    if beyond + blind == 0:
        return None
    parts = []
    if beyond:
        frames = sum(n > inputs.max_faces for n in faces.n_faces_found.values())
        parts.append(f"{beyond} beyond the limit of {inputs.max_faces} faces per frame "
                     f"(in {frames} frame(s); the largest faces are analysed)")
    if blind:
        parts.append(f"{blind} detected without usable landmarks (profile, blur or occlusion)")
    return Caution(
        "faces_not_analysed",
        f"Faces were found but not analysed: {'; '.join(parts)}. A manipulated face among them "
        "would not be scored; raise the face limit or inspect those frames.",
    )


def _faces_too_small(faces: FoundFaces) -> Caution | None:
    n = sum(not ok for ok in faces.usable)
    if n == 0:
        return None
    return Caution("faces_too_small", f"{n} face(s) under 40 px were found but not scored.")


def _small_faces(faces: FoundFaces) -> Caution | None:
    sizes = [_face_px(c) for c, ok in zip(faces.crops, faces.usable, strict=True) if ok]
    if not sizes or float(np.median(sizes)) >= _SMALL_FACE_PX:
        return None
    return Caution(
        "small_faces",
        f"The scored faces are small (median {np.median(sizes):.0f} px across): the detectors "
        "mostly saw faces of 100 px or more, so their scores are weaker evidence here.",
    )


def _faces_cut(faces: FoundFaces) -> Caution | None:
    scored = [c for c, ok in zip(faces.crops, faces.usable, strict=True) if ok]
    cut = sum(_touches_border(c, faces.frame_sizes.get(c.frame_idx)) for c in scored)
    if not scored or cut == 0:
        return None
    return Caution(
        "faces_cut_by_frame",
        f"{cut} of {len(scored)} scored face(s) are cut by the edge of the frame; the missing "
        "part is padded, which the detectors rarely saw in training.",
    )


def _rotated(faces: FoundFaces) -> Caution | None:
    scored = [c for c, ok in zip(faces.crops, faces.usable, strict=True) if ok]
    rolls = [abs(_roll_deg(c)) for c in scored]
    n = sum(r > _MAX_ROLL_DEG for r in rolls)
    if n == 0:
        return None
    return Caution(
        "rotated_faces",
        f"{n} scored face(s) are rotated by more than {_MAX_ROLL_DEG:.0f} degrees in the image "
        "plane; landmarks and crops are less reliable there.",
    )


def _low_resolution(info: MediaInfo) -> Caution | None:
    short = min(info.width, info.height)
    if short >= _LOW_RES_SHORT_SIDE_PX:
        return None
    return Caution(
        "low_resolution",
        f"Very low resolution ({info.width}x{info.height}): fine traces of manipulation are "
        "lost at this size.",
    )


def _heavy_compression(info: MediaInfo) -> Caution | None:
    pixels = max(1, info.width * info.height)
    if info.kind == "video":
        if not info.duration_s or not info.fps or info.duration_s <= 0:
            return None
        bpp = info.size_bytes * 8.0 / (pixels * info.fps * info.duration_s)
        heavy = bpp < _HEAVY_VIDEO_BPP
    else:
        if (info.format_name or "").lower() not in ("jpeg", "jpg", "webp", "heif", "avif"):
            return None
        bpp = info.size_bytes * 8.0 / pixels
        heavy = bpp < _HEAVY_IMAGE_BPP
    if not heavy or not math.isfinite(bpp):
        return None
    per = " per frame" if info.kind == "video" else ""
    return Caution(
        "heavy_compression",
        f"Heavily compressed ({bpp:.3f} bits per pixel{per}): compression removes the fine "
        "traces detectors look for and adds its own.",
    )


def _short_clip(inputs: CautionInputs) -> Caution | None:
    info = inputs.info
    if info.kind != "video":
        return None
    n_frames = len(inputs.faces.frames)
    short_time = info.duration_s is not None and info.duration_s < _SHORT_CLIP_S
    short_window = inputs.clip_len > 0 and n_frames < inputs.clip_len
    if not (short_time or short_window):
        return None
    duration = f"{info.duration_s:.1f} s, " if info.duration_s is not None else ""
    return Caution(
        "short_clip",
        f"Very short clip ({duration}{n_frames} analysed frames): the video score rests on few "
        "frames, and frame-to-frame detectors may not apply.",
    )


def _generated_in_video(inputs: CautionInputs) -> Caution | None:
    """A lossy video, read by generated-image detectors validated on stills."""
    info = inputs.info
    if info.kind != "video" or "generated" not in inputs.kinds_run:
        return None
    if (info.codec or "").lower() in _LOSSLESS_VIDEO_CODECS:
        return None
    codec = f" ({info.codec})" if info.codec else ""
    return Caution(
        "generated_in_video",
        f"Compressed video{codec}: the generated-image detectors were validated on stills, and "
        "video compression hides what they read (one H.264 frame at default quality takes "
        "their ranking of held-out generated portraits from 0.94 to 0.55). Here, no support "
        "for a fully generated face or image is weak evidence that there is none.",
    )


def _no_face_scored(inputs: CautionInputs) -> Caution | None:
    """No face scored: the generated-image detectors alone read the picture, and their error
    rates come from pictures of faces.

    NOTE: measured (docs/MODELS_GEN.md, "Pictures without a face"): on 11 genuine CC0
    photographs without a face (scikit-image's sample photos), the generated kind's score (the
    mean of its detectors) had a median of 0.51, against 0.10 for the dev bench's 61 genuine
    photos of faces and 0.55 for its 47 GAN faces; none reached weak support, and the linear
    probe alone scored 8 of the 11 at 0.97 or more.
    """
    if "generated" not in inputs.kinds_run or any(inputs.faces.usable):
        return None
    return Caution(
        "no_face_scored",
        "No face was scored, so only the generated-image detectors read this file, on the whole "
        "picture, and their error rates were measured on pictures of faces. Genuine photographs "
        "without a face score far higher with them (in a check on 11, a median of 0.51 against "
        "0.10 for genuine face photos and 0.55 for GAN faces; none reached weak support). Here "
        "the generated-image grade is weak evidence either way: weigh the file's provenance "
        "and the picture itself.",
    )


def _face_px(crop: FaceCrop) -> float:
    x0, y0, x1, y1 = crop.bbox_xyxy
    return float(max(x1 - x0, y1 - y0))


def _touches_border(crop: FaceCrop, size: tuple[int, int] | None) -> bool:
    if size is None:
        return False
    x0, y0, x1, y1 = crop.bbox_xyxy
    w, h = size
    return x0 < _EDGE_PX or y0 < _EDGE_PX or x1 > w - _EDGE_PX or y1 > h - _EDGE_PX


def _roll_deg(crop: FaceCrop) -> float:
    lm: Sequence[Sequence[float]] = crop.landmarks_crop_xy
    if len(lm) <= _RIGHT_EYE:
        return 0.0
    (xl, yl), (xr, yr) = lm[_LEFT_EYE], lm[_RIGHT_EYE]
    return math.degrees(math.atan2(float(yr - yl), float(xr - xl)))
