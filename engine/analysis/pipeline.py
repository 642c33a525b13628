"""One media file from bytes to a result: hash -> probe -> frames -> faces -> detectors -> rule.

The pipeline holds the loaded models (face detector, detectors) and nothing about any one file:
everything a file produces lives in local variables until the final, frozen ``MediaResult`` is
returned. A cancel therefore leaves nothing behind (``JobCancelled`` propagates from the next
checkpoint and the half-built result is garbage), and the same pipeline can analyse the next
file at once. Bad media never raises: it becomes ``MediaResult(status="error")`` with the
engine's message, so one file cannot stop a batch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import engine
from engine.analysis import media_io
from engine.analysis.detectors import RunningDetector
from engine.analysis.faces_stage import FaceStage, FoundFaces
from engine.analysis.progress import StageClock, StageReporter
from engine.analysis.scoring import score_faces
from engine.errors import EvidenceHashMismatchError, MediaError
from engine.fusion.aggregate import (
    AGGREGATION_RULE,
    build_frame_results,
    build_track_results,
    media_scores,
)
from engine.fusion.findings import fuse_scores
from engine.jobs import CancelToken, Progress, ProgressSink
from engine.types import FaceScore, MediaInfo, MediaResult, Provenance

__all__ = ["AnalysisPipeline", "PipelineSettings"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineSettings:
    """How files are sampled and scored, and where the models run."""

    n_frames: int | None
    fps: float | None
    want_maps: bool
    runtime: str
    device: str


@dataclass
class _Run:
    """Everything one analysis has learnt so far (kept only for the error result)."""

    path: str
    clock: StageClock
    sha256: str | None = None
    info: MediaInfo | None = None
    frame_indices: tuple[int, ...] = ()


class AnalysisPipeline:
    """Analyses files one at a time with models loaded once."""

    def __init__(
        self,
        detectors: Sequence[RunningDetector],
        face_stage: FaceStage,
        settings: PipelineSettings,
        *,
        owned_face_detector: Any = None,
    ) -> None:
        self.detectors = tuple(detectors)
        self._face_stage = face_stage
        self._settings = settings
        self._owned_face_detector = owned_face_detector

    def close(self) -> None:
        """Release the face detector this pipeline created (sessions are freed with it)."""
        if self._owned_face_detector is not None:
            self._owned_face_detector.close()
            self._owned_face_detector = None

    def analyze(
        self,
        path: str,
        *,
        expected_sha256: str | None,
        progress: ProgressSink,
        cancel: CancelToken | None,
    ) -> MediaResult:
        """Analyse ``path``; bad media gives ``status="error"``, a cancel raises JobCancelled."""
        run = _Run(path=path, clock=StageClock())
        try:
            return self._analyze(run, expected_sha256, progress, cancel)
        except (MediaError, EvidenceHashMismatchError) as exc:
            log.info("analysis of %s failed: %s", path, exc)
            return MediaResult(
                path=path,
                status="error",
                sha256=run.sha256,
                media=run.info,
                provenance=self._provenance(run),
                error=str(exc),
            )

    def _analyze(
        self,
        run: _Run,
        expected_sha256: str | None,
        progress: ProgressSink,
        cancel: CancelToken | None,
    ) -> MediaResult:
        def hash_progress(p: Progress) -> None:
            progress(Progress(p.stage, p.done, p.total, run.path))

        # NOTE: hashed, probed and decoded through one guarded descriptor, and checked for
        # changes after decoding, so the result is of the bytes that were hashed (media_io).
        with media_io.open_evidence(run.path) as evidence:
            with run.clock.time("hash"):
                run.sha256 = evidence.sha256(hash_progress, cancel)
            if expected_sha256 is not None and run.sha256 != expected_sha256.strip().lower():
                raise EvidenceHashMismatchError(run.path, expected_sha256, run.sha256)
            with run.clock.time("probe"):
                run.info = evidence.probe()
            reporter = StageReporter(progress, message=run.path)
            found = self._find_faces(run, evidence, reporter, cancel)
            evidence.check_unchanged()
        faces = score_faces(
            found.crops,
            found.usable,
            self.detectors,
            want_maps=self._settings.want_maps,
            reporter=reporter,
            clock=run.clock,
            cancel=cancel,
        )
        with run.clock.time("aggregate"):
            return self._assemble(run, list(found.frames), faces, any(found.usable))

    def _find_faces(
        self,
        run: _Run,
        evidence: media_io.Evidence,
        reporter: StageReporter,
        cancel: CancelToken | None,
    ) -> FoundFaces:
        s, info = self._settings, run.info
        assert info is not None  # set by probe before this is called
        found = self._face_stage.run(
            evidence.frames(n_frames=s.n_frames, fps=s.fps, cancel=cancel),
            planned=media_io.planned_frame_count(info, n_frames=s.n_frames, fps=s.fps),
            reporter=reporter,
            clock=run.clock,
            cancel=cancel,
        )
        run.frame_indices = tuple(idx for idx, _ in found.frames)
        return found

    def _assemble(
        self,
        run: _Run,
        frames: list[tuple[int, float]],
        faces: list[FaceScore],
        any_usable_face: bool,
    ) -> MediaResult:
        names = [d.name for d in self.detectors]
        frame_results = build_frame_results(frames, faces, names)
        scores = media_scores(frame_results, names)
        return MediaResult(
            path=run.path,
            status="ok" if any_usable_face else "no_face",
            sha256=run.sha256,
            media=run.info,
            frames=frame_results,
            tracks=build_track_results(faces, names),
            scores=scores,
            finding=fuse_scores(scores),
            provenance=self._provenance(run),
        )

    def _provenance(self, run: _Run) -> Provenance:
        s = self._settings
        rule = AGGREGATION_RULE
        clip_lens = sorted({d.clip_len for d in self.detectors if d.clip_len > 1})
        if clip_lens:
            rule += (
                f"; clip detectors score windows of {'/'.join(map(str, clip_lens))} consecutive"
                " analysed frames of one track, and each face gets the mean of its windows"
            )
        return Provenance(
            engine_version=engine.__version__,
            detectors=tuple(d.provenance for d in self.detectors),
            runtime=s.runtime,
            device=s.device,
            sampling=media_io.describe_sampling(run.info, n_frames=s.n_frames, fps=s.fps),
            aggregation_rule=rule,
            sampled_frame_indices=run.frame_indices,
            timings_s=run.clock.timings_s(),
        )
