"""The engine's public face: the only engine module the GUI imports (with types/jobs/errors).

Everything heavy (MediaPipe, ONNX Runtime, torch, OpenCV) is imported inside functions, so the
GUI starts without paying for it. :class:`Analyzer` loads the face detector and the detectors
once and analyses any number of files with them; :func:`analyze` is the one-shot form.

When no detector is shipped (no weights in ``resources/models``), :func:`list_detectors`
returns ``[]`` and an analysis still reads the media, hashes it, finds and tracks the faces and
sets the status, with every finding ``NOT_APPLICABLE`` and no score.

Media provenance (what a file says about its origin: metadata, C2PA Content Credentials,
inconsistencies) comes with every analysis as ``MediaResult.file_provenance``, and on its own
from :func:`inspect_provenance`; the classic forensic filters (ELA, noise residual, JPEG ghosts)
from :func:`list_filters`, :func:`apply_filter` and :func:`render_filter`. See
docs/PROVENANCE.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import numpy as np

from engine.api_provenance import (
    apply_filter,
    file_provenance_from_dict,
    inspect_provenance,
    list_filters,
    load_trust_list,
    render_filter,
)
from engine.filters.base import FilterInfo, FilterResult
from engine.jobs import CancelToken, Progress, ProgressSink, null_sink
from engine.provenance.trust import TrustList, TrustListError
from engine.types import (
    DetectorProvenance,
    DetectorScore,
    FaceScore,
    FileProvenance,
    Finding,
    Frame,
    MediaInfo,
    MediaResult,
    Provenance,
)

__all__ = [
    "AnalysisOptions",
    "Analyzer",
    "DetectorInfo",
    "FileProvenance",
    "FilterInfo",
    "FilterResult",
    "TrustList",
    "TrustListError",
    "analyze",
    "apply_filter",
    "file_provenance_from_dict",
    "fuse_for",
    "fuse_scores",
    "inspect_provenance",
    "list_detectors",
    "list_filters",
    "load_trust_list",
    "overlay_maps",
    "probe_media",
    "read_frame",
    "render_filter",
    "result_from_dict",
    "result_to_dict",
    "sha256_file",
]


@dataclass(frozen=True)
class DetectorInfo:
    """A shipped detector, as the GUI lists it and the report describes it.

    Attributes:
        name: registry id, e.g. ``"sbi_effl0"``.
        display_name: e.g. ``"Self-Blended Images"``.
        method: the paper citation.
        scope: ``"face"`` (a face crop), ``"clip"`` (T frames of one face track) or ``"image"``
            (whole image or face).
        version: weights version tag.
        threshold: decision threshold on the calibrated ``p_fake``.
        weights_sha256: SHA-256 of the weights file the default runtime loads.
        map_kind: ``"grad-cam"``, ``"blending boundary"``, ``"attention"`` or ``None``.
        card_summary: the limits of the detector, from its model card.
    """

    name: str
    display_name: str
    method: str
    scope: str
    version: str
    threshold: float
    weights_sha256: str
    map_kind: str | None
    card_summary: str


@dataclass(frozen=True)
class AnalysisOptions:
    """What to run and how.

    Attributes:
        detectors: registry ids to run; ``None`` runs every shipped detector.
        runtime: ``"onnx"``, ``"torch"`` or ``"auto"`` (torch only when a CUDA GPU is present).
        n_frames: evenly spaced frames analysed per video (all frames if the video has fewer);
            with ``fps`` set, the most frames taken (``None``: no limit).
        fps: frames per second of video time to analyse instead of evenly spaced frames.
        want_maps: also compute every detector's explanation map (slower, more memory).
        max_faces: the most faces analysed per frame (the largest are kept).
        c2pa_trust_list: a PEM file of trust anchors for C2PA signatures, read again for every
            file (``None``: no anchors; see ``engine.provenance.trust``).
    """

    detectors: tuple[str, ...] | None = None
    runtime: str = "auto"
    n_frames: int | None = 32
    fps: float | None = None
    want_maps: bool = False
    max_faces: int = 4
    c2pa_trust_list: str | None = None

    def __post_init__(self) -> None:
        if self.fps is None and (self.n_frames is None or self.n_frames < 1):
            raise ValueError(f"n_frames must be >= 1 when fps is not set, got {self.n_frames}")
        if self.fps is not None and not self.fps > 0:
            raise ValueError(f"fps must be > 0, got {self.fps}")
        if self.max_faces < 1:
            raise ValueError(f"max_faces must be >= 1, got {self.max_faces}")
        if self.runtime not in ("auto", "onnx", "torch"):
            raise ValueError(f"runtime must be 'auto', 'onnx' or 'torch', got {self.runtime!r}")


def list_detectors() -> list[DetectorInfo]:
    """The shipped detectors whose weights are present (``[]`` when none is)."""
    from engine.analysis.catalog import shipped_detectors

    return shipped_detectors()


def sha256_file(
    path: str | os.PathLike[str],
    *,
    progress: ProgressSink | None = None,
    cancel: CancelToken | None = None,
) -> str:
    """Lowercase hex SHA-256 of a file, streamed (raises ``UnreadableMediaError``)."""
    from engine.media import sha256_file as media_sha256_file

    return media_sha256_file(path, progress=progress, cancel=cancel)


def probe_media(path: str | os.PathLike[str]) -> MediaInfo:
    """What a media file is, from its headers (raises ``engine.errors.MediaError``)."""
    from engine.analysis.media_io import probe

    return probe(os.fspath(path))


def read_frame(path: str | os.PathLike[str], frame_idx: int) -> Frame:
    """One decoded frame (frame 0 of a still image), for the GUI's frame view."""
    from engine.analysis.media_io import read_one_frame

    return read_one_frame(os.fspath(path), frame_idx)


DetectorFactory = Callable[[str, str, str], Any]


class Analyzer:
    """Analyses media files with models loaded once.

    Args:
        options: what to run and how.
        detector_factory: test seam: ``factory(name, runtime, device)`` returning a loaded
            detector (``.cfg``, ``.predict``); the default loads the shipped, SHA-256-checked
            weights. The application never passes one.
        face_detector: test seam: an object with ``detect(rgb_u8, frame_idx)``; the default is
            MediaPipe Face Mesh.

    Raises:
        UnknownDetectorError: a name in ``options.detectors`` is not registered.
        WeightsIntegrityError: a weights file is missing or its SHA-256 is wrong.
    """

    def __init__(
        self,
        options: AnalysisOptions = AnalysisOptions(),
        *,
        detector_factory: DetectorFactory | None = None,
        face_detector: Any = None,
    ) -> None:
        from engine.analysis.build import build_pipeline

        self.options = options
        self._pipeline = build_pipeline(
            options, detector_factory=detector_factory, face_detector=face_detector
        )

    @property
    def detector_names(self) -> tuple[str, ...]:
        """The detectors this analyzer runs, in result order."""
        return tuple(d.name for d in self._pipeline.detectors)

    @property
    def detector_provenance(self) -> tuple[DetectorProvenance, ...]:
        """Exactly which models run (name, version, weights SHA-256, threshold, calibration)."""
        return tuple(d.provenance for d in self._pipeline.detectors)

    def analyze(
        self,
        path: str | os.PathLike[str],
        *,
        expected_sha256: str | None = None,
        progress: ProgressSink = null_sink,
        cancel: CancelToken | None = None,
    ) -> MediaResult:
        """Analyse one file.

        Bad media and a SHA-256 different from ``expected_sha256`` give a result with
        ``status="error"`` and the message in ``error``; this never raises for them.

        Raises:
            JobCancelled: ``cancel`` was set; nothing of the analysis is kept.
        """
        return self._pipeline.analyze(
            os.fspath(path), expected_sha256=expected_sha256, progress=progress, cancel=cancel
        )

    def analyze_many(
        self,
        paths: Sequence[str | os.PathLike[str]],
        *,
        workers: int | None = None,
        progress: ProgressSink = null_sink,
        cancel: CancelToken | None = None,
    ) -> Iterator[MediaResult]:
        """Analyse ``paths`` with up to ``workers`` files in flight; results in input order.

        Each result is what :meth:`analyze` gives for that file; several files at a time overlap
        one's face finding with the others' detectors (see ``engine.analysis.many``; ``None``
        takes its measured default). ``progress`` may then be called from several threads, one
        call at a time; its reports carry the file's path in ``message``.

        Raises:
            JobCancelled: ``cancel`` was set; no further result is yielded.
        """
        from engine.analysis.many import DEFAULT_WORKERS, analyze_in_order, locked_sink

        sink = locked_sink(progress)
        workers = DEFAULT_WORKERS if workers is None else workers

        def one(path: str) -> MediaResult:
            return self.analyze(path, progress=sink, cancel=cancel)

        return analyze_in_order(one, [os.fspath(p) for p in paths], workers=workers)

    def close(self) -> None:
        """Release the models."""
        self._pipeline.close()

    def __enter__(self) -> Analyzer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def analyze(
    paths: Sequence[str | os.PathLike[str]],
    *,
    options: AnalysisOptions = AnalysisOptions(),
    progress: ProgressSink = null_sink,
    cancel: CancelToken | None = None,
) -> list[MediaResult]:
    """Analyse several files with one :class:`Analyzer`; one result per path, in order.

    Progress reports carry the file's path in ``message``; between files a
    ``Progress("files", done, total)`` is sent. A cancel raises ``JobCancelled`` and returns
    nothing, not even the files already finished.
    """
    results = []
    with Analyzer(options) as analyzer:
        progress(Progress("files", 0, len(paths)))
        for result in analyzer.analyze_many(paths, progress=progress, cancel=cancel):
            results.append(result)
            progress(Progress("files", len(results), len(paths), result.path))
            if cancel is not None:  # a file may finish after the cancel: return nothing then
                cancel.raise_if_cancelled()
    return results


def fuse_scores(
    scores: Sequence[DetectorScore],
    *,
    provenance: Provenance | None = None,
    level: str = "image",
) -> Finding:
    """The graded finding of one level's per-detector scores.

    Args:
        scores: one score per detector for the same face, frame, track or file.
        provenance: the provenance of the result the scores belong to: its recorded fusion
            rule and detector kinds are used (fusion v1 when ``None`` or when it has no rule).
        level: ``"image"`` (a still), ``"video"`` (a video or a track) or ``"frame"``.
    """
    from engine.fusion.replay import fuser_for

    return fuser_for(provenance)(scores, level)


def fuse_for(result: MediaResult, scores: Sequence[DetectorScore], scope: str) -> Finding:
    """The finding of ``scores`` at ``scope`` (``"media"``, ``"track"``, ``"frame"``,
    ``"face"``) of ``result``, with the fusion rule ``result`` was made with.

    ``fuse_for(r, r.scores, "media") == r.finding`` for any result, stored or fresh.
    """
    from engine.fusion.replay import level_of

    kind = result.media.kind if result.media is not None else None
    return fuse_scores(scores, provenance=result.provenance, level=level_of(kind, scope))


def overlay_maps(
    rgb_u8: np.ndarray, faces: Sequence[FaceScore], detector: str, opacity: float = 0.5
) -> np.ndarray:
    """The frame with ``detector``'s maps of ``faces`` blended in as a heatmap."""
    from engine.overlay import overlay_maps as _overlay

    return _overlay(rgb_u8, faces, detector, opacity)


def result_to_dict(result: MediaResult) -> dict[str, Any]:
    """A JSON-safe dict of ``result``, maps omitted."""
    from engine.serialize import result_to_dict as _to_dict

    return _to_dict(result)


def result_from_dict(data: dict[str, Any]) -> MediaResult:
    """The result stored by :func:`result_to_dict`."""
    from engine.serialize import result_from_dict as _from_dict

    return _from_dict(data)

