"""The work the background jobs do, as plain functions: no threads, no signals, no widgets.

:mod:`forensic_gui.workers` runs each of these in a worker thread and turns its return value or
exception into exactly one final signal. Keeping the work here makes it testable without a
thread and keeps the one module that starts threads small. Every function takes the engine's
``ProgressSink`` and ``CancelToken`` and returns frozen dataclasses.

Why imports and analyses are written to the case database here, in the worker, and not on the
GUI thread as STYLE section 5 says: ``record_analysis`` of a 32-frame, 5-detector, 2-face result
took 200-400 ms on the development machine (hundreds of score rows, key-frame images, a
synchronous fsync), and a batch import writes one evidence row per file. Either would freeze the
window past the 100 ms budget. So the worker opens its own ``CaseStore`` on the same file
(:class:`StoreAccess`; no Session or store crosses a thread) and writes in the store's usual
one-transaction units after its last cancel checkpoint: a cancelled job has written nothing,
and a finished one has written everything. The GUI thread only reads, and writes the small
records (cases, verdicts, single hash checks).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from engine import api
from engine.errors import MediaError
from engine.jobs import CancelToken, Progress, ProgressSink
from engine.types import FaceScore, Frame, MediaInfo, MediaResult
from forensic_gui.cases.errors import CaseStoreError
from forensic_gui.cases.records import AnalysisRecord, EvidenceCheck, EvidenceRecord, KeyFrameImage
from forensic_gui.cases.repository import CaseStore
from forensic_gui.keyframes import render_key_frames

__all__ = [
    "AnalysisOutcome",
    "AnalysisRequest",
    "AnalyzerLike",
    "FilterOverlay",
    "FrameImage",
    "ImportFailure",
    "ImportReport",
    "ReaderLike",
    "StoreAccess",
    "ViewFilter",
    "in_process_reader",
    "load_frame",
    "run_analysis",
    "run_import",
]

logger = logging.getLogger(__name__)


class AnalyzerLike(Protocol):
    """What the GUI needs of ``engine.api.Analyzer`` (tests inject a fake with this shape)."""

    def analyze(self, path: str, *, expected_sha256: str | None = None,
                progress: ProgressSink = ..., cancel: CancelToken | None = None) -> MediaResult:
        """Analyse one file; raises ``JobCancelled`` on cancel, never for bad media."""
        ...

    def close(self) -> None:
        """Release the models."""
        ...


class ReaderLike(Protocol):
    """What the GUI needs of ``engine.api.MediaReader`` (probe and decode, isolated)."""

    def probe(self, path: str, *, cancel: CancelToken | None = None) -> MediaInfo:
        """What the file is; raises ``MediaError`` (also when reading it crashed)."""
        ...

    def read_frame(self, path: str, frame_idx: int, *,
                   cancel: CancelToken | None = None) -> Frame:
        """One decoded frame; raises ``MediaError``."""
        ...


def in_process_reader() -> ReaderLike:
    """A reader in this process: for tools and tests that run no worker processes."""
    return api.MediaReader(isolation=None)


@dataclass(frozen=True)
class StoreAccess:
    """How a worker reaches the case database: its own store on the file, and the actor.

    A worker never shares the GUI thread's store: it opens one on the same SQLite file for the
    duration of the job (one store per thread, each unit of work in its own transaction). See
    the module docstring for why analyses and imports are written here at all.
    """

    db_path: Path
    actor: str

    def open(self) -> CaseStore:
        """A new store on the database (close it when done).

        The app checked the file's integrity when it opened it at start; repeating SQLite's
        quick check (a read of the whole file) for every job would only slow the jobs down.
        """
        return CaseStore.open(self.db_path, check_integrity=False)


@dataclass(frozen=True)
class ImportFailure:
    """A file that was not imported, and why, in words an analyst can act on."""

    path: str
    message: str


@dataclass(frozen=True)
class ImportReport:
    """What a batch import added to the case, and what it refused, in input order."""

    case_id: int
    added: tuple[EvidenceRecord, ...]
    failures: tuple[ImportFailure, ...]


@dataclass(frozen=True)
class AnalysisRequest:
    """One evidence item to analyse, with the SHA-256 recorded when it was acquired."""

    evidence_id: int
    path: str
    expected_sha256: str
    file_name: str


@dataclass(frozen=True)
class AnalysisOutcome:
    """The result of an analysis job, already written to the case database.

    Attributes:
        check: the hash check made just before the analysis (recorded in the audit log).
        result: the engine's result with its maps, ``None`` when ``check`` failed (then nothing
            was analysed).
        analysis: the stored analysis, ``None`` when nothing was stored (failed check, or a
            result with ``status="error"``).
    """

    request: AnalysisRequest
    check: EvidenceCheck
    result: MediaResult | None
    analysis: AnalysisRecord | None


# (forensic filter name, the file's JPEG quality or None), for load_frame.
ViewFilter = tuple[str, int | None]


@dataclass(frozen=True, eq=False)
class FilterOverlay:
    """A forensic filter's map of a frame, colour-mapped: ``rgb_u8`` is (h, w, 3), each pixel
    covering ``cell_px`` x ``cell_px`` frame pixels; ``caption`` says what was computed."""

    name: str
    rgb_u8: np.ndarray
    cell_px: int
    caption: str


@dataclass(frozen=True, eq=False)
class FrameImage:
    """A decoded frame and, per detector, the frame with that detector's heatmap blended in.

    ``overlays`` holds ``(detector, rgb_u8)`` pairs made at full opacity; the frame view fades
    them with the analyst's opacity slider. ``filtered`` is the forensic filter asked for.
    """

    frame_idx: int
    t_sec: float
    rgb_u8: np.ndarray
    faces: tuple[FaceScore, ...]
    overlays: tuple[tuple[str, np.ndarray], ...]
    filtered: FilterOverlay | None = None


def run_import(paths: Sequence[Path], case_id: int, *, access: StoreAccess,
               progress: ProgressSink, cancel: CancelToken,
               reader: ReaderLike | None = None) -> ImportReport:
    """Probe and hash every file under ``paths``, then add them.

    Folders are walked by ``api.walk_inputs``, the walker ``forensic-analyze`` uses (sorted,
    hidden entries skipped, nothing passed over in silence); a file named twice is added once.
    A file that is not usable media, cannot be read, or is already in the case (same SHA-256),
    a folder that cannot be read, a link to a folder inside a dropped folder (not followed),
    and a folder with no file to add, each becomes an :class:`ImportFailure`; the rest of the
    batch goes on. Files are probed with
    ``reader`` (the app's is a worker process, so a file that crashes the decoder is only
    refused; ``None`` probes in this process) and hashed here (only regular files are read).
    Progress counts bytes hashed over the whole batch. Nothing is written before every file
    is hashed, so a cancel adds nothing.

    Raises:
        JobCancelled: ``cancel`` was set before anything was written.
    """
    reader = reader if reader is not None else in_process_reader()
    inputs = api.walk_inputs([str(path) for path in paths])
    files = list(dict.fromkeys(Path(f) for f in inputs.files if f not in inputs.not_walked))
    probed, failures = _probe_and_hash(files, reader, progress, cancel)
    failures += [ImportFailure(path, why) for path, why in inputs.not_walked.items()]
    # NOTE: a folder with nothing to add (empty, or hidden files only) is said, not passed
    # over: a dropped folder that adds nothing would otherwise leave no word at all.
    failures += [ImportFailure(folder, "the folder holds no file to add (hidden files "
                               "and folders are skipped)") for folder in inputs.empty]
    cancel.raise_if_cancelled()  # the last checkpoint: from here on the batch is written
    added: list[EvidenceRecord] = []
    with access.open() as store:
        known = {item.sha256: item for item in store.list_evidence(case_id)}
        for path, sha256, size, media in probed:
            if sha256 in known:
                failures.append(ImportFailure(str(path), "already in this case as "
                                              f"{known[sha256].file_name} (same SHA-256)"))
                continue
            try:
                record = store.add_evidence(case_id, path, sha256=sha256, size_bytes=size,
                                            media_info=media, actor=access.actor)
            except CaseStoreError as exc:
                failures.append(ImportFailure(str(path), str(exc)))
                continue
            known[sha256] = record
            added.append(record)
    return ImportReport(case_id, tuple(added), tuple(failures))


def _probe_and_hash(files: list[Path], reader: ReaderLike, progress: ProgressSink,
                    cancel: CancelToken
                    ) -> tuple[list[tuple[Path, str, int, MediaInfo]], list[ImportFailure]]:
    sizes = [_size_or_zero(f) for f in files]
    total_bytes = max(1, sum(sizes))
    done_bytes = 0
    probed: list[tuple[Path, str, int, MediaInfo]] = []
    failures: list[ImportFailure] = []
    for i, (path, size) in enumerate(zip(files, sizes, strict=True)):
        cancel.raise_if_cancelled()
        label = f"Hashing {api.printable_path(path.name)} ({i + 1} of {len(files)})"
        progress(Progress("import", done_bytes, total_bytes, label))
        try:
            media = reader.probe(str(path), cancel=cancel)
            sha256 = api.sha256_file(path, cancel=cancel, progress=_offset_sink(
                progress, done_bytes, size, total_bytes, label))
        except MediaError as exc:
            failures.append(ImportFailure(str(path), exc.reason))
        else:
            probed.append((path, sha256, size, media))
        done_bytes += size
    progress(Progress("import", total_bytes, total_bytes, "Adding the files to the case"))
    return probed, failures


def run_analysis(
    request: AnalysisRequest,
    *,
    access: StoreAccess,
    get_analyzer: Callable[[], AnalyzerLike],
    key_frame_count: int,
    map_labels: Mapping[str, str],
    progress: ProgressSink,
    cancel: CancelToken,
    reader: ReaderLike | None = None,
) -> AnalysisOutcome:
    """Re-check and record the evidence hash, analyse the file, render and store the result.

    Raises:
        JobCancelled: ``cancel`` was set before the result was stored (nothing is stored).
        MediaError: a key frame could not be decoded again.
        CaseStoreError: the database refused the write.
    """
    with access.open() as store:
        check = store.record_evidence_check(
            request.evidence_id, actor=access.actor, **_hash_now(request, progress, cancel))
        if not check.ok:
            logger.warning("integrity failure on evidence %s (%s)", request.evidence_id,
                           request.path)
            return AnalysisOutcome(request, check, None, None)
        progress(Progress("load", 0, 1, "Loading the detectors"))
        analyzer = get_analyzer()
        cancel.raise_if_cancelled()
        result = analyzer.analyze(request.path, expected_sha256=request.expected_sha256,
                                  progress=progress, cancel=cancel)
        key_frames = _key_frames(result, key_frame_count, map_labels, progress, cancel,
                                 reader if reader is not None else in_process_reader())
        cancel.raise_if_cancelled()  # the last checkpoint: from here on the result is stored
        if result.status == "error":
            return AnalysisOutcome(request, check, result, None)
        progress(Progress("save", 0, 1, "Saving the analysis"))
        analysis = store.record_analysis(request.evidence_id, result, actor=access.actor,
                                         key_frames=key_frames)
        return AnalysisOutcome(request, check, result, analysis)


def _key_frames(result: MediaResult, count: int, map_labels: Mapping[str, str],
                progress: ProgressSink, cancel: CancelToken,
                reader: ReaderLike) -> tuple[KeyFrameImage, ...]:
    if result.status != "ok" or count <= 0:
        return ()
    progress(Progress("key frames", 0, 1, "Rendering key frames"))
    return render_key_frames(result, count, map_labels=map_labels, cancel=cancel,
                             read_frame=lambda path, idx: reader.read_frame(path, idx,
                                                                            cancel=cancel))


def _hash_now(request: AnalysisRequest, progress: ProgressSink,
              cancel: CancelToken) -> dict[str, str | None]:
    """``actual_sha256``/``problem`` keyword arguments for ``record_evidence_check``."""
    size = _size_or_zero(Path(request.path))
    try:
        actual = api.sha256_file(request.path, cancel=cancel, progress=_offset_sink(
            progress, 0, size, max(1, size), f"Checking the SHA-256 of {request.file_name}",
            stage="verify"))
    except MediaError as exc:  # missing or unreadable: an integrity failure, not a crash
        return {"actual_sha256": None, "problem": f"cannot read the file: {exc.reason}"}
    cancel.raise_if_cancelled()
    return {"actual_sha256": actual, "problem": None}


def load_frame(path: str, frame_idx: int, faces: Sequence[FaceScore], *,
               cancel: CancelToken, reader: ReaderLike | None = None,
               view_filter: ViewFilter | None = None,
               picture_maps: Mapping[str, np.ndarray] | None = None) -> FrameImage:
    """Decode one frame (with ``reader``; ``None``: in this process) and blend every
    available heatmap into a copy of it.

    ``view_filter`` is ``(filter name, the file's JPEG quality or None)``: that forensic filter
    is computed on the frame too (see ``engine.api.apply_filter``).

    ``picture_maps`` are the frame's whole-picture maps (``FrameResult.picture_maps``: the
    generated-image detector's tile probabilities), drawn with that detector's face maps.

    Raises:
        MediaError: the frame cannot be decoded.
        JobCancelled: ``cancel`` was set.
    """
    reader = reader if reader is not None else in_process_reader()
    frame = reader.read_frame(path, frame_idx, cancel=cancel)
    pictures = dict(picture_maps or {})
    names: dict[str, None] = dict.fromkeys(pictures)
    for face in faces:
        for name in face.maps:
            names.setdefault(name, None)
    overlays = []
    for name in names:
        cancel.raise_if_cancelled()
        overlays.append((name, api.overlay_maps(frame.rgb_u8, faces, name, 1.0,
                                                picture_map=pictures.get(name))))
    filtered = None
    if view_filter is not None:
        name, jpeg_quality = view_filter
        result = api.apply_filter(name, frame.rgb_u8, jpeg_quality=jpeg_quality, cancel=cancel)
        filtered = FilterOverlay(name, api.render_filter(result), result.cell_px, result.caption)
    frame.rgb_u8.setflags(write=False)
    return FrameImage(frame.frame_idx, frame.t_sec, frame.rgb_u8, tuple(faces), tuple(overlays),
                      filtered)


def _size_or_zero(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # the probe that follows reports the unreadable file by name


def _offset_sink(sink: ProgressSink, offset: int, size: int, total: int, message: str,
                 stage: str = "import") -> ProgressSink:
    """Map one file's hashing progress onto the batch's byte count."""

    def forward(p: Progress) -> None:
        sink(Progress(stage, offset + round(p.fraction * size), total, message))

    return forward
