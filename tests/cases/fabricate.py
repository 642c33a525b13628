"""Fabricated inputs for the case-store tests: engine results, key-frame PNGs, model cards.

The detectors are not trained yet, so results are fabricated from ``engine.types`` here: two
detectors, two face tracks, a detector that does not apply on some frames, per-frame findings.
Hashing uses hashlib directly (same contract as ``engine.api.sha256_file``) so these tests do not
depend on the media module.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from engine.api import DetectorInfo
from engine.jobs import CancelToken, ProgressSink
from engine.types import (
    DetectorProvenance,
    DetectorScore,
    FaceScore,
    Finding,
    FrameResult,
    Grade,
    MediaInfo,
    MediaResult,
    Provenance,
    TrackResult,
)
from forensic_gui.cases import CaseStore, EvidenceRecord

DETECTORS = ("sbi_effl0", "xray_hrnet18")
THRESHOLDS = {"sbi_effl0": 0.5, "xray_hrnet18": 0.6}
FPS = 25.0


def hash_file(
    path: Path, *, progress: ProgressSink | None = None, cancel: CancelToken | None = None
) -> str:
    """SHA-256 of a file with hashlib, read-only, in the shape of ``engine.api.sha256_file``."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def _finding(scores: tuple[DetectorScore, ...]) -> Finding:
    used = tuple(s.detector for s in scores if s.p_fake is not None)
    if not used:
        return Finding(Grade.NOT_APPLICABLE, None, (), "test: mean of applicable")
    p_fake = float(np.mean([s.p_fake for s in scores if s.p_fake is not None]))
    grade = Grade.STRONG if p_fake > 0.8 else Grade.MODERATE if p_fake > 0.6 else Grade.WEAK
    return Finding(
        grade if p_fake > 0.4 else Grade.NO_SUPPORT, p_fake, used, "test: mean of applicable"
    )


def _face_scores(
    frame_pos: int, track_id: int, rng: np.random.Generator
) -> tuple[DetectorScore, ...]:
    base = 0.25 + 0.6 * frame_pos / 12 + (0.1 if track_id else 0.0)
    sbi = float(np.clip(base + rng.normal(0, 0.05), 0, 1))
    if 5 <= frame_pos <= 6:  # the second detector does not apply on these frames
        xray = DetectorScore("xray_hrnet18", None, None, "face too small")
    else:
        p = float(np.clip(base - 0.1 + rng.normal(0, 0.05), 0, 1))
        xray = DetectorScore("xray_hrnet18", p, p * 0.9)
    return (DetectorScore("sbi_effl0", sbi, sbi * 1.1 if sbi < 0.9 else sbi), xray)


def _frame(pos: int, rng: np.random.Generator) -> FrameResult:
    frame_idx = pos * 10
    tracks = (0, 1) if 3 <= pos <= 7 else (0,)
    faces = tuple(
        FaceScore(
            frame_idx,
            tid,
            (10.0 + 50 * tid, 10.0, 50.0 + 50 * tid, 60.0),
            _face_scores(pos, tid, rng),
            np.eye(2, 3),
            256,
        )
        for tid in tracks
    )
    per_detector = []
    for name in DETECTORS:
        values = [
            s.p_fake for f in faces for s in f.scores if s.detector == name and s.p_fake is not None
        ]
        per_detector.append(
            DetectorScore(name, max(values))
            if values
            else DetectorScore(name, None, None, "face too small")
        )
    scores = tuple(per_detector)
    return FrameResult(frame_idx, frame_idx / FPS, faces, scores, _finding(scores))


def _provenance(frames: tuple[FrameResult, ...]) -> Provenance:
    return Provenance(
        engine_version="0.1.0",
        detectors=tuple(
            DetectorProvenance(
                name,
                "1.0.0",
                hashlib.sha256(name.encode()).hexdigest(),
                THRESHOLDS[name],
                "temperature",
            )
            for name in DETECTORS
        ),
        runtime="onnx",
        device="cpu",
        sampling=f"{len(frames)} evenly spaced",
        aggregation_rule="frame=max over faces; video=mean over frames",
        sampled_frame_indices=tuple(fr.frame_idx for fr in frames),
        timings_s=(("decode", 0.4), ("faces", 1.2), ("detectors", 3.1)),
    )


def make_result(path: Path, sha256: str, *, n_frames: int = 12, seed: int = 0) -> MediaResult:
    """A plausible video result: 2 detectors, 2 tracks, gaps where a detector does not apply."""
    rng = np.random.default_rng(seed)
    frames = tuple(_frame(pos, rng) for pos in range(n_frames))
    media_scores = tuple(
        DetectorScore(name, float(np.mean(vals)), None) if vals else DetectorScore(name, None)
        for name in DETECTORS
        for vals in [
            [
                s.p_fake
                for fr in frames
                for s in fr.scores
                if s.detector == name and s.p_fake is not None
            ]
        ]
    )
    tracks = tuple(
        TrackResult(
            tid,
            tuple(fr.frame_idx for fr in frames if any(f.track_id == tid for f in fr.faces)),
            media_scores,
            _finding(media_scores),
        )
        for tid in (0, 1)
    )
    provenance = _provenance(frames)
    media = MediaInfo(
        str(path),
        "video",
        "mp4",
        path.stat().st_size,
        640,
        360,
        n_frames * 10,
        FPS,
        n_frames * 10 / FPS,
        0,
        "avc1",
    )
    return MediaResult(
        str(path),
        "ok",
        sha256,
        media,
        frames,
        tracks,
        media_scores,
        _finding(media_scores),
        provenance,
    )


def png_bytes(text: str = "frame", size: tuple[int, int] = (320, 180)) -> bytes:
    """A small PNG with a drawn "face" box, standing in for a frame with overlays."""
    image = Image.new("RGB", size, (40, 60, 90))
    draw = ImageDraw.Draw(image)
    draw.rectangle((100, 40, 200, 150), outline=(255, 80, 0), width=4)
    draw.text((8, 8), text, fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def detector_cards() -> list[DetectorInfo]:
    """Model-card data as ``engine.api.list_detectors()`` will return it."""
    return [
        DetectorInfo(
            name="sbi_effl0",
            display_name="Self-Blended Images",
            method="Shiohara & Yamasaki, CVPR 2022",
            scope="face",
            version="1.0.0",
            threshold=0.5,
            weights_sha256=hashlib.sha256(b"sbi_effl0").hexdigest(),
            map_kind="grad-cam",
            card_summary="Trained on self-blended faces; weak on fully synthetic (GAN) faces "
            "and on heavily compressed video (below JPEG quality 40).",
        ),
        DetectorInfo(
            name="xray_hrnet18",
            display_name="Face X-ray",
            method="Li et al., CVPR 2020",
            scope="face",
            version="0.9.0",
            threshold=0.6,
            weights_sha256=hashlib.sha256(b"xray_hrnet18").hexdigest(),
            map_kind="blending boundary",
            card_summary="Looks for blending boundaries; does not apply to faces under 64 pixels.",
        ),
    ]


FAILED_ANALYSIS_MESSAGE = "cannot decode the video stream"


def mixed_case(store: CaseStore, folder: Path) -> tuple[EvidenceRecord, ...]:
    """A new case with four items: analysed twice, no face, failed, never analysed."""
    case = store.create_case(number="MIXED-1", title="mixed", analyst="A", actor="A")
    items = []
    for seed, name in enumerate(("twice", "no_face", "failed", "never")):
        path = folder / f"{name}.mp4"
        path.write_bytes(np.random.default_rng(seed).integers(0, 256, 999, np.uint8).tobytes())
        items.append(store.hash_and_add_evidence(case.id, path, actor="A", sha256_fn=hash_file))
    twice, no_face, failed, _never = items
    for seed in (0, 1):
        result = make_result(Path(twice.original_path), twice.sha256, seed=seed)
        store.record_analysis(twice.id, result, actor="A")
    base = make_result(Path(no_face.original_path), no_face.sha256)
    empty = dataclasses.replace(base, status="no_face", frames=(), tracks=(), finding=None)
    store.record_analysis(no_face.id, empty, actor="A")
    broken = dataclasses.replace(
        base,
        path=failed.original_path,
        status="error",
        sha256=None,
        frames=(),
        tracks=(),
        scores=(),
        finding=None,
        error=FAILED_ANALYSIS_MESSAGE,
    )
    store.record_analysis(failed.id, broken, actor="A")
    return tuple(items)
