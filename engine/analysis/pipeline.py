"""One media file from bytes to a result: hash -> metadata -> probe -> frames -> faces ->
detectors -> rule.

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
from engine.analysis.cautions import CautionInputs, cautions_for
from engine.analysis.detectors import RunningDetector
from engine.analysis.faces_stage import FaceStage, FoundFaces
from engine.analysis.native_tiles import NativeTileStage, is_native_tiles, tile_rule
from engine.analysis.progress import StageClock, StageReporter
from engine.analysis.provenance_stage import read_file_provenance
from engine.analysis.scoring import score_faces
from engine.errors import EvidenceHashMismatchError, MediaError
from engine.fusion.aggregate import (
    AGGREGATION_RULE,
    build_frame_results,
    build_track_results,
    media_scores,
)
from engine.fusion.per_kind import Fuser
from engine.fusion.replay import level_of
from engine.jobs import CancelToken, Progress, ProgressSink
from engine.types import Caution, FaceScore, FileProvenance, MediaInfo, MediaResult, Provenance

__all__ = ["AnalysisPipeline", "PipelineSettings"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineSettings:
    """How files are sampled, scored and fused, and where the models run."""

    fuser: Fuser
    n_frames: int | None
    fps: float | None
    want_maps: bool
    runtime: str
    device: str
    max_faces: int
    c2pa_trust_list: str | None = None


@dataclass
class _Run:
    """Everything one analysis has learnt so far (kept only for the error result)."""

    path: str
    clock: StageClock
    sha256: str | None = None
    info: MediaInfo | None = None
    frame_indices: tuple[int, ...] = ()
    file_provenance: FileProvenance | None = None
    decoding: Any = None  # engine.media.DecodeReport, filled while frames are decoded


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
                file_provenance=run.file_provenance,
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

        # NOTE: hashed, read for metadata, probed and decoded through one guarded descriptor,
        # and checked for changes after decoding, so the result is of the bytes that were
        # hashed (media_io).
        with media_io.open_evidence(run.path) as evidence:
            with run.clock.time("hash"):
                run.sha256 = evidence.sha256(hash_progress, cancel)
            if expected_sha256 is not None and run.sha256 != expected_sha256.strip().lower():
                raise EvidenceHashMismatchError(run.path, expected_sha256, run.sha256)
            # NOTE: right after the hash, before any decoding: the metadata of the hashed bytes.
            with run.clock.time("metadata"):
                run.file_provenance = read_file_provenance(
                    evidence.decoder_path, run.sha256, self._settings.c2pa_trust_list)
            with run.clock.time("probe"):
                run.info = evidence.probe()
            reporter = StageReporter(progress, message=run.path)
            tiles = self._tile_stage(run.info.kind)
            found = self._find_faces(run, evidence, reporter, cancel, tiles)
            evidence.check_unchanged()
        faces = score_faces(
            found.crops,
            found.usable,
            [d for d in self.detectors if not is_native_tiles(d)],
            want_maps=self._settings.want_maps,
            reporter=reporter,
            clock=run.clock,
            cancel=cancel,
        )
        with run.clock.time("aggregate"):
            return self._assemble(run, found, faces, tiles)

    def _tile_stage(self, media_kind: str) -> NativeTileStage | None:
        """Whole-picture and face-region scoring of the native-tile detectors, if any."""
        tiled = [d for d in self.detectors if is_native_tiles(d)]
        if not tiled:
            return None
        return NativeTileStage(tiled, want_maps=self._settings.want_maps, media_kind=media_kind)

    def _find_faces(
        self,
        run: _Run,
        evidence: media_io.Evidence,
        reporter: StageReporter,
        cancel: CancelToken | None,
        tiles: NativeTileStage | None,
    ) -> FoundFaces:
        s, info = self._settings, run.info
        assert info is not None  # set by probe before this is called
        run.decoding = media_io.new_decode_report()
        found = self._face_stage.run(
            evidence.frames(
                n_frames=s.n_frames, fps=s.fps, cancel=cancel, report=run.decoding
            ),
            planned=media_io.planned_frame_count(info, n_frames=s.n_frames, fps=s.fps),
            reporter=reporter,
            clock=run.clock,
            cancel=cancel,
            on_frame=None if tiles is None else tiles.tap,
        )
        run.frame_indices = tuple(idx for idx, _ in found.frames)
        return found

    def _assemble(self, run: _Run, found: FoundFaces, faces: list[FaceScore],
                  tiles: NativeTileStage | None) -> MediaResult:
        names = [d.name for d in self.detectors]
        assert run.info is not None  # set by probe before faces are found
        kind, fuse = run.info.kind, self._settings.fuser.fuse
        if tiles is not None:
            faces = tiles.merge_faces(faces, names)
        frame_results = build_frame_results(
            list(found.frames), faces, names, fuse=fuse, media_kind=kind,
            n_faces_found=found.n_faces_found,
        )
        if tiles is not None:
            frame_results = tiles.with_pictures(frame_results, names, fuse,
                                                level_of(kind, "frame"))
        scores = media_scores(frame_results, names)
        return MediaResult(
            path=run.path,
            status="ok" if any(found.usable) else "no_face",
            sha256=run.sha256,
            media=run.info,
            frames=frame_results,
            tracks=build_track_results(faces, names, fuse=fuse, media_kind=kind),
            scores=scores,
            finding=fuse(scores, level_of(kind, "media")),
            provenance=self._provenance(run),
            cautions=self._cautions(run, found),
            file_provenance=run.file_provenance,
            picture_scores=() if tiles is None else tiles.media_picture_scores(frame_results),
        )

    def _cautions(self, run: _Run, found: FoundFaces) -> tuple[Caution, ...]:
        """The media's own cautions, then what decoding met (damaged frames, size changes)."""
        assert run.info is not None
        clip_lens = [d.clip_len for d in self.detectors if d.clip_len > 1]
        inputs = CautionInputs(
            run.info, found, self._settings.max_faces, min(clip_lens, default=0),
            kinds_run=frozenset(d.provenance.looks_for for d in self.detectors
                                if d.provenance.looks_for),
        )
        decoding = [] if run.decoding is None else run.decoding.cautions()
        return cautions_for(inputs) + tuple(Caution("decoding", text) for text in decoding)

    def _provenance(self, run: _Run) -> Provenance:
        s = self._settings
        rule = AGGREGATION_RULE
        clip_lens = sorted({d.clip_len for d in self.detectors if d.clip_len > 1})
        if clip_lens:
            rule += (
                f"; clip detectors score windows of {'/'.join(map(str, clip_lens))} consecutive"
                " analysed frames of one track, and each face gets the mean of its windows"
            )
        for det in self.detectors:
            if is_native_tiles(det):
                rule += f"; {tile_rule(det)}"
        return Provenance(
            engine_version=engine.__version__,
            detectors=tuple(d.provenance for d in self.detectors),
            runtime=s.runtime,
            device=s.device,
            sampling=media_io.describe_sampling(run.info, n_frames=s.n_frames, fps=s.fps),
            aggregation_rule=rule,
            sampled_frame_indices=run.frame_indices,
            timings_s=run.clock.timings_s(),
            decoding=None if run.decoding is None else run.decoding.as_dict(),
            fusion=s.fuser.rule.to_dict(),
        )
