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
from typing import Any

import numpy as np

from engine.api_fusion import (
    compare_to_reference,
    explain_for,
    explain_grades,
    fuse_for,
    fuse_scores,
    reference_comparison_from_dict,
)
from engine.api_provenance import (
    apply_filter,
    file_provenance_from_dict,
    inspect_provenance,
    list_filters,
    load_trust_list,
    render_filter,
)
from engine.closing import Closing
from engine.evaluation.intervals import rate_text
from engine.filters.base import FilterInfo, FilterResult
from engine.fusion.explain import GradeExplanation
from engine.fusion.reference import ReferenceComparison, ReferenceDelta, ReferenceError
from engine.inputs import Inputs, walk_inputs
from engine.isolation import IsolationSettings
from engine.jobs import CancelToken, Progress, ProgressSink, null_sink
from engine.media_reader import MediaReader
from engine.provenance.trust import TrustList, TrustListError
from engine.types import (
    DetectorProvenance,
    FaceScore,
    FileProvenance,
    Frame,
    MediaInfo,
    MediaResult,
)

__all__ = [
    "DEFAULT_ISOLATION",
    "AnalysisOptions",
    "Analyzer",
    "DetectorInfo",
    "FileProvenance",
    "FilterInfo",
    "FilterResult",
    "GradeExplanation",
    "Inputs",
    "IsolationSettings",
    "MediaReader",
    "ReferenceComparison",
    "ReferenceDelta",
    "ReferenceError",
    "TrustList",
    "TrustListError",
    "analyze",
    "apply_filter",
    "compare_to_reference",
    "explain_for",
    "explain_grades",
    "file_provenance_from_dict",
    "fuse_for",
    "fuse_scores",
    "inspect_provenance",
    "list_detectors",
    "list_filters",
    "load_trust_list",
    "overlay_maps",
    "path_b64",
    "printable_path",
    "printable_tree",
    "probe_media",
    "rate_text",
    "read_frame",
    "reference_comparison_from_dict",
    "render_filter",
    "result_from_dict",
    "result_to_dict",
    "run_worker_process",
    "sha256_file",
    "walk_inputs",
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
        map_kind: ``"grad-cam"``, ``"blending boundary"``, ``"attention"``, ``"probability of
            each tile"`` (whole-picture detectors) or ``None``.
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

DEFAULT_ISOLATION = IsolationSettings()
"""One worker, a 300 s budget per file, a 4 GiB memory ceiling (see engine/isolation.py)."""


class Analyzer(Closing):
    """Analyses media files with models loaded once, each file isolated from the caller.

    By default every request runs in a pool of worker processes (``isolation``; see
    ``engine.isolation``): a crash (segfault, abort) of a decoder, MediaPipe or ONNX
    Runtime, a file that makes them loop, or one that makes them allocate without end, ends
    that file's analysis with an error result (``status="error"``, ``error`` saying what
    happened) and the worker is replaced; the caller and the other files go on. Each worker
    loads the models once.

    Args:
        options: what to run and how.
        isolation: the worker pool's settings; ``None`` runs everything in this process, with
            no protection from native crashes or hangs (for the test seams below, and for
            callers that already run in a worker).
        detector_factory: test seam: ``factory(name, runtime, device)`` returning a loaded
            detector (``.cfg``, ``.predict``); the default loads the shipped, SHA-256-checked
            weights. The application never passes one. With a pool it must pickle (a
            module-level function or class instance).
        face_detector: test seam: an object with ``analyze(rgb_u8, frame_idx)``; the default is
            MediaPipe Face Mesh. With a pool it must pickle.

    Raises:
        UnknownDetectorError: a name in ``options.detectors`` is not registered.
        WeightsIntegrityError: a weights file is missing or its SHA-256 is wrong.
        ValueError: a test seam that cannot be sent to a worker process, with a pool.
    """

    def __init__(
        self,
        options: AnalysisOptions = AnalysisOptions(),
        *,
        isolation: IsolationSettings | None = DEFAULT_ISOLATION,
        detector_factory: DetectorFactory | None = None,
        face_detector: Any = None,
    ) -> None:
        from engine.analysis.backends import InProcessBackend, PoolBackend

        self.options = options
        self.isolation = isolation
        seams = {"detector_factory": detector_factory, "face_detector": face_detector}
        self._backend: Any = (
            InProcessBackend(options, **seams)
            if isolation is None
            else PoolBackend(options, isolation, **seams)
        )

    @property
    def detector_names(self) -> tuple[str, ...]:
        """The detectors this analyzer runs, in result order."""
        return tuple(self._backend.detector_names)

    @property
    def detector_provenance(self) -> tuple[DetectorProvenance, ...]:
        """Exactly which models run (name, version, weights SHA-256, threshold, calibration)."""
        return tuple(self._backend.detector_provenance)

    def files_in_flight(self, requested: int | None = None) -> int:
        """How many files :meth:`analyze_many` analyses at once (``requested`` capped by the
        pool's workers; ``None``: the default)."""
        return int(self._backend.files_in_flight(requested))

    def analyze(
        self,
        path: str | os.PathLike[str],
        *,
        expected_sha256: str | None = None,
        progress: ProgressSink = null_sink,
        cancel: CancelToken | None = None,
    ) -> MediaResult:
        """Analyse one file.

        Bad media, a SHA-256 different from ``expected_sha256``, a file that changed while it
        was analysed, and (with a pool) a crashed, overrunning or runaway analysis give a
        result with ``status="error"`` and the message in ``error``; this never raises for
        them. Progress reports reach ``progress`` from the calling thread.

        Raises:
            JobCancelled: ``cancel`` was set; nothing of the analysis is kept. With a pool, a
                worker that does not stop within ``isolation.cancel_grace_s`` is killed.
        """
        return self._backend.analyze(  # type: ignore[no-any-return]
            os.fspath(path), expected_sha256, progress, cancel
        )

    def probe(self, path: str | os.PathLike[str], *, cancel: CancelToken | None = None
              ) -> MediaInfo:
        """What a media file is, like :func:`probe_media`, but read in the pool (if any).

        Raises:
            MediaError: the file is unusable; ``AnalysisAbortedError`` when reading it crashed,
                overran or ran away in the worker.
            JobCancelled: ``cancel`` was set.
        """
        return self._backend.probe(os.fspath(path), cancel)  # type: ignore[no-any-return]

    def read_frame(self, path: str | os.PathLike[str], frame_idx: int, *,
                   cancel: CancelToken | None = None) -> Frame:
        """One decoded frame, like :func:`read_frame`, but decoded in the pool (if any).

        Raises:
            MediaError: as :meth:`probe`. IndexError: no such frame. JobCancelled: cancelled.
        """
        return self._backend.read_frame(  # type: ignore[no-any-return]
            os.fspath(path), frame_idx, cancel
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

        Each result is what :meth:`analyze` gives for that file. With a pool, each file in
        flight has a worker process (``workers`` is capped by ``isolation.n_workers``); in
        this process, several files at a time overlap one's face finding with the others'
        detectors (see ``engine.analysis.many``). ``progress`` may be called from several
        threads, one call at a time; its reports carry the file's path in ``message``.

        Raises:
            JobCancelled: ``cancel`` was set; no further result is yielded.
        """
        from engine.analysis.many import analyze_in_order, locked_sink

        sink = locked_sink(progress)

        def one(path: str) -> MediaResult:
            return self.analyze(path, progress=sink, cancel=cancel)

        return analyze_in_order(
            one, [os.fspath(p) for p in paths], workers=self.files_in_flight(workers)
        )

    def close(self) -> None:
        """Release the models (with a pool: stop its workers; a running request ends)."""
        self._backend.close()


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


def run_worker_process(argv: Sequence[str]) -> int:
    """Serve as an analysis worker process (a frozen application's entry script calls this
    when its first argument is ``engine.analysis.worker.WORKER_FLAG``); the exit status."""
    from engine.analysis.worker import main as worker_main

    return worker_main(list(argv))


def printable_path(path: str | os.PathLike[str]) -> str:
    """A path as valid UTF-8 text to show or store (undecodable bytes written ``\\xNN``)."""
    from engine.pathtext import printable

    return printable(os.fspath(path))


def printable_tree(value: Any) -> Any:
    """A JSON-like value with every string made printable (see :func:`printable_path`)."""
    from engine.pathtext import printable_tree as _printable_tree

    return _printable_tree(value)


def path_b64(path: str | os.PathLike[str]) -> str | None:
    """Base64 of the path's exact bytes when :func:`printable_path` is not exact, else ``None``."""
    from engine.pathtext import path_b64 as _path_b64

    return _path_b64(path)


def overlay_maps(
    rgb_u8: np.ndarray, faces: Sequence[FaceScore], detector: str, opacity: float = 0.5,
    picture_map: np.ndarray | None = None,
) -> np.ndarray:
    """The frame with ``detector``'s maps of ``faces`` (and its whole-picture map
    ``FrameResult.picture_maps[detector]``, if given) blended in as a heatmap."""
    from engine.overlay import overlay_maps as _overlay

    return _overlay(rgb_u8, faces, detector, opacity, picture_map)


def result_to_dict(result: MediaResult) -> dict[str, Any]:
    """A JSON-safe dict of ``result``, maps omitted."""
    from engine.serialize import result_to_dict as _to_dict

    return _to_dict(result)


def result_from_dict(data: dict[str, Any]) -> MediaResult:
    """The result stored by :func:`result_to_dict`."""
    from engine.serialize import result_from_dict as _from_dict

    return _from_dict(data)

