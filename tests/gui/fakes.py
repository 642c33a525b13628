"""Test doubles for the GUI: a tiny generated video and a fake analyzer with a canned result.

The fake analyzer is injected through ``EngineServices`` (the window's test seam); everything
else (hashing, probing, frame decoding, fusion, overlays) is the real ``engine.api``, which
imports no torch. The canned result is built from ``engine.types`` for the generated video: its
face boxes follow the drawn ellipses, its detector scores rise in the second half of the clip
(so the timeline has an elevated span), and one detector carries a blending-boundary map.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from engine import api
from engine.jobs import CancelToken, Progress, ProgressSink, null_sink
from engine.types import (
    Caution,
    DetectorProvenance,
    DetectorScore,
    FaceScore,
    Finding,
    FrameResult,
    MediaResult,
    Provenance,
    TrackResult,
)

__all__ = [
    "FAKE_DETECTORS",
    "FakeAnalyzer",
    "FakeAnalyzerFactory",
    "canned_result",
    "face_bbox",
    "write_tiny_video",
]

VIDEO_W, VIDEO_H, VIDEO_FPS, VIDEO_FRAMES = 128, 96, 8.0, 16
CROP_SIZE = 64
SBI, XRAY = "sbi_effl0", "xray_hrnet18"

FAKE_DETECTORS = [
    api.DetectorInfo(SBI, "Self-Blended Images", "Shiohara & Yamasaki, CVPR 2022", "face", "t1",
                     0.5, "a" * 64, "grad-cam", "test detector"),
    api.DetectorInfo(XRAY, "Face X-ray", "Li et al., CVPR 2020", "face", "t1", 0.5, "b" * 64,
                     "blending boundary", "test detector"),
]


def face_bbox(frame_idx: int, track_id: int = 0, scale: float = 1.0
              ) -> tuple[float, float, float, float]:
    """Where the drawn face ``track_id`` is in frame ``frame_idx``, in frame pixels."""
    cx = 30 + 2 * frame_idx + 60 * track_id
    return (scale * (cx - 14.0), scale * 24.0, scale * (cx + 14.0), scale * 72.0)


def write_tiny_video(path: Path, *, n_faces: int = 1, scale: int = 1) -> Path:
    """16 frames of 128x96 (times ``scale``) at 8 fps with ``n_faces`` drawn faces, by cv2."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), VIDEO_FPS,
                             (VIDEO_W * scale, VIDEO_H * scale))
    for frame_idx in range(VIDEO_FRAMES):
        bgr = np.full((VIDEO_H * scale, VIDEO_W * scale, 3), 50, np.uint8)
        for track_id in range(n_faces):
            x0, y0, x1, y1 = (round(v) for v in face_bbox(frame_idx, track_id, scale))
            cx, cy, rx, ry = (x0 + x1) // 2, (y0 + y1) // 2, (x1 - x0) // 2, (y1 - y0) // 2
            cv2.ellipse(bgr, (cx, cy), (rx, ry), 0, 0, 360, (140, 170, 215), -1)
            for eye_x in (cx - rx // 2, cx + rx // 2):  # eyes and mouth, for screenshots
                cv2.circle(bgr, (eye_x, cy - ry // 4), max(1, rx // 6), (60, 40, 30), -1)
            cv2.ellipse(bgr, (cx, cy + ry // 2), (rx // 3, max(1, ry // 10)), 0, 0, 360,
                        (70, 60, 160), -1)
        writer.write(bgr)
    writer.release()
    return path


def _crop_to_frame(bbox: tuple[float, float, float, float]) -> np.ndarray:
    x0, y0, x1, y1 = bbox
    return np.array([[(x1 - x0) / CROP_SIZE, 0.0, x0], [0.0, (y1 - y0) / CROP_SIZE, y0]])


def _p_fake(frame_idx: int, detector: str, track_id: int) -> float:
    # NOTE: low in the first half, high in the second: one elevated span for the timeline.
    base = 0.15 if frame_idx < VIDEO_FRAMES // 2 else 0.85
    return round(min(0.99, base + (0.04 if detector == XRAY else 0.0) + 0.02 * track_id), 4)


def _face(frame_idx: int, track_id: int, scale: float) -> FaceScore:
    bbox = face_bbox(frame_idx, track_id, scale)
    scores = tuple(DetectorScore(name, _p_fake(frame_idx, name, track_id)) for name in (SBI, XRAY))
    ring = np.zeros((16, 16), np.float32)
    ring[2:14, 2:14] = 1.0
    ring[4:12, 4:12] = 0.0  # a blending-boundary-like ring
    return FaceScore(frame_idx, track_id, bbox, scores, _crop_to_frame(bbox), CROP_SIZE,
                     maps={XRAY: ring})


def _max_scores(faces: tuple[FaceScore, ...]) -> tuple[DetectorScore, ...]:
    out = []
    for name in (SBI, XRAY):
        values = [s.p_fake for f in faces for s in f.scores if s.detector == name]
        out.append(DetectorScore(name, max(v for v in values if v is not None)))
    return tuple(out)


def canned_result(path: str, sha256: str, *, n_faces: int = 1, no_face: bool = False
                  ) -> MediaResult:
    """A plausible ``MediaResult`` for :func:`write_tiny_video`'s video (real fusion rule)."""
    media = api.probe_media(path)
    if no_face:
        prov = _provenance(())
        scores = tuple(DetectorScore(n, None, reason="no face") for n in (SBI, XRAY))
        return MediaResult(path, "no_face", sha256, media, scores=scores,
                           finding=api.fuse_scores(scores, provenance=prov, level="video"),
                           provenance=prov)
    prov = _provenance(tuple(range(VIDEO_FRAMES)))

    def fuse(scores: tuple[DetectorScore, ...], level: str) -> Finding:
        return api.fuse_scores(scores, provenance=prov, level=level)

    frames = []
    for frame_idx in range(VIDEO_FRAMES):
        faces = tuple(_face(frame_idx, t, media.width / VIDEO_W) for t in range(n_faces))
        scores = _max_scores(faces)
        frames.append(FrameResult(frame_idx, frame_idx / VIDEO_FPS, faces, scores,
                                  fuse(scores, "frame"), n_faces))
    tracks = []
    for track_id in range(n_faces):
        means = tuple(DetectorScore(n, float(np.mean([_p_fake(i, n, track_id)
                                                      for i in range(VIDEO_FRAMES)])))
                      for n in (SBI, XRAY))
        tracks.append(TrackResult(track_id, tuple(range(VIDEO_FRAMES)), means,
                                  fuse(means, "video")))
    media_scores = tuple(DetectorScore(n, float(np.mean([s.p_fake for f in frames
                                                          for s in f.scores if s.detector == n])))
                         for n in (SBI, XRAY))
    cautions = (Caution("short_clip", "Very short clip (test): few frames."),)
    return MediaResult(path, "ok", sha256, media, tuple(frames), tuple(tracks), media_scores,
                       fuse(media_scores, "video"), prov, cautions=cautions)


def _test_rule() -> dict[str, object]:
    """The uncalibrated per-kind rule with made-up error rates (so the GUI shows a table)."""
    from engine.fusion.rules import FusionRule, uncalibrated_rule

    rule = uncalibrated_rule()
    counts = {"n": 40, "WEAK": 2, "MODERATE": 1, "STRONG": 0}
    rates = {"method": "test cross-validation", "index": "test bench",
             "overall": {"real_video": counts, "faceswap_video": {**counts, "WEAK": 20}},
             "by_kind": {"face_swap": {"real_video": counts}}}
    return FusionRule("test rule (per kind)", rule.kinds, error_rates=rates).to_dict()


def _provenance(indices: tuple[int, ...]) -> Provenance:
    return Provenance(
        engine_version="test", runtime="onnx", device="cpu", sampling="16 evenly spaced",
        aggregation_rule="frame=max over faces; video=mean over frames",
        sampled_frame_indices=indices, timings_s=(("detect", 0.1), ("score", 0.2)),
        detectors=tuple(DetectorProvenance(d.name, d.version, d.weights_sha256, d.threshold,
                                           "temperature", "face_swap") for d in FAKE_DETECTORS),
        fusion=_test_rule())


class FakeAnalyzer:
    """Reports ``n_steps`` progress events, checking the cancel token, then returns a result.

    With ``gate`` set, it waits at the middle step until the gate opens or the job is cancelled,
    so a test can cancel it at a known point without sleeping.
    """

    def __init__(self, *, n_steps: int = 10, step_s: float = 0.01, n_faces: int = 1,
                 no_face: bool = False, gate: threading.Event | None = None) -> None:
        self.n_steps, self.step_s, self.n_faces, self.no_face = n_steps, step_s, n_faces, no_face
        self.gate = gate
        self.calls: list[str] = []
        self.closed = False

    def analyze(self, path: str, *, expected_sha256: str | None = None,
                progress: ProgressSink = null_sink, cancel: CancelToken | None = None
                ) -> MediaResult:
        self.calls.append(path)
        token = cancel if cancel is not None else CancelToken()
        for step in range(self.n_steps):
            token.raise_if_cancelled()
            progress(Progress("score", step, self.n_steps, f"frame {step}"))
            if self.gate is not None and step == self.n_steps // 2:
                while not self.gate.wait(0.01):
                    token.raise_if_cancelled()
            time.sleep(self.step_s)
        token.raise_if_cancelled()
        sha256 = api.sha256_file(path)
        return canned_result(path, sha256, n_faces=self.n_faces, no_face=self.no_face)

    def close(self) -> None:
        self.closed = True


class FakeAnalyzerFactory:
    """Stands in for ``engine.api.Analyzer``: records the options and hands out one fake.

    The analyzer it returns forwards to whatever ``self.analyzer`` is at call time, so a test can
    swap in another fake even after the window preloaded the analyzer at start-up.
    """

    def __init__(self, analyzer: FakeAnalyzer | None = None) -> None:
        self.analyzer = analyzer if analyzer is not None else FakeAnalyzer()
        self.options: list[api.AnalysisOptions] = []

    def __call__(self, options: api.AnalysisOptions) -> _Forwarder:
        self.options.append(options)
        return _Forwarder(self)


class _Forwarder:
    def __init__(self, factory: FakeAnalyzerFactory) -> None:
        self._factory = factory

    def analyze(self, path: str, **kwargs: object) -> MediaResult:
        return self._factory.analyzer.analyze(path, **kwargs)  # type: ignore[arg-type]

    def close(self) -> None:
        self._factory.analyzer.close()
