"""Turn one part (image files, or one video) into cached crops and rejected rows.

Image sources hold one subject per file: the largest face is kept and any other face is listed
as rejected ("extra face"), because its label is not known. Video sources keep every tracked
face, up to ``max_per_track`` crops per track. No input leaves without a row: unreadable files,
frames without a face, face boxes without landmarks and unconfirmed mesh faces are rejected
with a reason.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.closing import Closing
from engine.data.manifest import CropRow
from engine.data.parts import PartBuffer
from engine.data.sources import Part, Source
from engine.errors import MediaError
from engine.faces.crop import CropPolicy, crop_face
from engine.faces.mesh import FaceMeshDetector, MeshResult
from engine.faces.pipeline import FacesInFrames, detect_faces_in_frames
from engine.types import FaceDetection, Frame

if TYPE_CHECKING:
    from engine.data.prepare import PrepareConfig

__all__ = ["FaceExtractor"]

log = logging.getLogger(__name__)


class FaceExtractor(Closing):
    """Holds the face detector for a whole run and turns parts into :class:`PartBuffer` s."""

    def __init__(
        self, data_root: Path, policy: CropPolicy, config: PrepareConfig, *, show_progress: bool
    ) -> None:
        self._root = data_root
        self._policy = policy
        self._config = config
        self._show_progress = show_progress
        self._detector = FaceMeshDetector()

    def progress_bar(
        self, source: Source, parts: list[Part]
    ) -> contextlib.AbstractContextManager[Any]:
        """A tqdm bar on stderr over the files (images) or frames (videos) of ``parts``."""
        from tqdm import tqdm

        unit = "img" if source.kind == "images" else "frame"
        total = sum(self._work_units(p) for p in parts)
        return tqdm(
            total=total,
            desc=source.name,
            unit=unit,
            file=sys.stderr,
            disable=not self._show_progress,
            dynamic_ncols=True,
            mininterval=1.0,
        )

    def run_part(self, part: Part, bar: Any) -> PartBuffer:
        """Process every file of ``part``; ``bar`` is advanced per image or frame."""
        buffer = PartBuffer(part.source.name, part.name, self._policy.size)
        for rel, label in part.files:
            if part.source.kind == "images":
                self._add_image(buffer, rel, label)
                bar.update(1)
            else:
                self._add_video(buffer, part.source, rel, label, bar)
        return buffer

    def _work_units(self, part: Part) -> int:
        if part.source.kind == "images":
            return len(part.files)
        return sum(self._planned_frames(part.source, rel) for rel, _ in part.files)

    def _planned_frames(self, source: Source, rel: str) -> int:
        from engine.media import probe

        try:
            n_frames = probe(self._root / rel).n_frames
        except MediaError:
            return 1
        if source.n_sampled_frames is not None:
            return min(n_frames, source.n_sampled_frames)
        return min(-(-n_frames // self._config.video_step), self._config.max_video_frames)

    def _add_image(self, buffer: PartBuffer, rel: str, label: str) -> None:
        from engine.media import read_image

        try:
            rgb_u8 = read_image(self._root / rel)
        except MediaError as exc:
            buffer.reject(rel, 0, label, f"unreadable: {exc.reason}")
            return
        result = self._detector.analyze(rgb_u8, 0)
        if not result.faces:
            buffer.reject(rel, 0, label, _no_face_reason(result))
            return
        faces = sorted(result.faces, key=_face_px, reverse=True)
        face = faces[0]
        row = CropRow(
            source=buffer.source,
            part=buffer.part,
            row=buffer.next_row,
            file=rel,
            identity=Path(rel).stem,
            clip_id="",
            track_id=0,
            frame_idx=0,
            label=label,
            split="",
            det_score=round(face.det_score, 4),
            face_px=round(_face_px(face), 1),
            too_small=int(_face_px(face) < self._config.min_face_px),
            n_faces=len(faces),
        )
        buffer.add(crop_face(rgb_u8, face.landmarks_xy, self._policy), row)
        for extra in faces[1:]:
            buffer.reject(
                rel,
                0,
                label,
                f"extra face of {_face_px(extra):.0f} px in the image (the largest face was kept)",
            )

    def _add_video(
        self, buffer: PartBuffer, source: Source, rel: str, label: str, bar: Any
    ) -> None:
        stopped: list[MediaError] = []
        try:
            frames = self._frames(source, self._root / rel, stopped)
        except MediaError as exc:
            buffer.reject(rel, -1, label, f"unreadable: {exc.reason}")
            bar.update(1)
            return
        result = detect_faces_in_frames(
            frames,
            self._detector,
            self._policy,
            min_face_px=self._config.min_face_px,
            progress=lambda _p: bar.update(1),
        )
        self._store_tracks(buffer, result, rel, label)
        _reject_leftovers(buffer, result, rel, label)
        for exc in stopped:
            buffer.reject(rel, -1, label, f"video ended early: {exc.reason}")

    def _frames(self, source: Source, path: Path, stopped: list[MediaError]) -> Iterator[Frame]:
        """The frames to search; a media error after the first frame is kept in ``stopped``."""
        from engine.media import iter_frames, sample_frames

        if source.n_sampled_frames is not None:
            frames = sample_frames(path, n_frames=source.n_sampled_frames)
        else:
            step = self._config.video_step
            frames = itertools.islice(iter_frames(path, step=step), self._config.max_video_frames)
        return _catching(frames, stopped)

    def _store_tracks(
        self, buffer: PartBuffer, result: FacesInFrames, rel: str, label: str
    ) -> None:
        per_frame = Counter(f.crop.frame_idx for f in result.faces)
        per_track: Counter[int] = Counter()
        stem = Path(rel).stem
        for face in result.faces:
            crop = face.crop
            if per_track[crop.track_id] >= self._config.max_per_track:
                buffer.n_capped += 1
                continue
            per_track[crop.track_id] += 1
            row = CropRow(
                source=buffer.source,
                part=buffer.part,
                row=buffer.next_row,
                file=rel,
                identity=stem,
                clip_id=f"{Path(rel).name}/t{crop.track_id}",
                track_id=crop.track_id,
                frame_idx=crop.frame_idx,
                label=label,
                split="",
                det_score=round(face.det_score, 4),
                face_px=round(face.face_px, 1),
                too_small=int(face.too_small),
                n_faces=per_frame[crop.frame_idx],
            )
            buffer.add((crop.crop_rgb_u8, crop.landmarks_crop_xy, crop.crop_to_frame), row)

    def close(self) -> None:
        """Release the detector."""
        self._detector.close()


def _catching(frames: Iterator[Frame], stopped: list[MediaError]) -> Iterator[Frame]:
    try:
        yield from frames
    except MediaError as exc:
        stopped.append(exc)


def _reject_leftovers(buffer: PartBuffer, result: FacesInFrames, rel: str, label: str) -> None:
    for frame_idx in result.frames_without_face:
        boxes = [b for i, b in result.boxes_without_landmarks if i == frame_idx]
        reason = "no face found" if not boxes else f"{len(boxes)} face box(es) without landmarks"
        buffer.reject(rel, frame_idx, label, reason)
    empty = set(result.frames_without_face)
    for frame_idx, box in result.boxes_without_landmarks:
        if frame_idx not in empty:
            buffer.reject(
                rel, frame_idx, label, f"face box without landmarks (det_score {box.det_score:.2f})"
            )
    for det in result.unconfirmed:
        buffer.reject(rel, det.frame_idx, label, "Face Mesh face not confirmed by a detector")


def _no_face_reason(result: MeshResult) -> str:
    if result.boxes_without_landmarks:
        best = max(b.det_score for b in result.boxes_without_landmarks)
        return f"face box without landmarks (det_score {best:.2f})"
    if result.unconfirmed:
        return "Face Mesh face not confirmed by a detector"
    return "no face found"


def _face_px(face: FaceDetection) -> float:
    x0, y0, x1, y1 = face.bbox_xyxy
    return float(max(x1 - x0, y1 - y0))
