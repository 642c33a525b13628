"""Test doubles for the analysis orchestrator: detectors and a face finder with no weights.

They are injected through ``Analyzer(detector_factory=..., face_detector=...)``, the test seam;
the application never uses them. Closures (``fake_factory``) run in-process only
(``isolation=None``); module-level ones (``named_fake_detector``, the classes) pickle and also
run in the worker processes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from engine.errors import UnknownDetectorError
from engine.faces.mesh import MeshResult
from engine.runtime.cfg import DetectorCfg
from engine.types import FaceDetection


def native_tiles_cfg(name: str, **changes: object) -> DetectorCfg:
    """The config of a 128 px native-tile generated-image detector without weights."""
    return DetectorCfg(name=name, version="0", variant="cpu", input_size=128,
                       mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), face_margin=0.25, clip_len=1,
                       output="sigmoid1", map_kind="gradcam", looks_for="generated",
                       input_mode="native_tiles", **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class FakeCfg:
    """The cfg fields the orchestrator reads."""

    name: str
    version: str = "fake.1"
    clip_len: int = 1
    threshold: float = 0.5
    weights_sha256: str = "ab" * 32
    looks_for: str = "face_swap"


@dataclass
class FakeDetector:
    """Scores a crop by its mean brightness: p_fake_raw = mean / 255, p_fake = raw ** 2.

    Args:
        name: detector id.
        clip_len: 1 for a frame detector, T for a clip detector.
        s_per_item: seconds of (sleeping) work per crop or clip, to test progress/cancel.
    """

    name: str
    clip_len: int = 1
    s_per_item: float = 0.0
    batch_sizes: list[int] = field(default_factory=list)
    looks_for: str = "face_swap"

    @property
    def cfg(self) -> FakeCfg:
        return FakeCfg(self.name, clip_len=self.clip_len, looks_for=self.looks_for)

    def predict(self, crops_rgb_u8: np.ndarray, *, want_maps: bool = False) -> SimpleNamespace:
        expected_ndim = 4 if self.clip_len == 1 else 5
        assert crops_rgb_u8.ndim == expected_ndim
        assert crops_rgb_u8.dtype == np.uint8
        n = crops_rgb_u8.shape[0]
        self.batch_sizes.append(n)
        time.sleep(self.s_per_item * n)
        raw = crops_rgb_u8.reshape(n, -1).mean(axis=1) / 255.0
        maps = None
        if want_maps:
            maps = np.zeros((n, 16, 16), dtype=np.float32)
            maps[:, 4:12, 4:12] = 1.0
        return SimpleNamespace(p_fake_raw=raw, p_fake=raw**2, maps=maps)


def named_fake_detector(name: str, _runtime: str, _device: str) -> FakeDetector:
    """A detector factory that makes an instant fake of any name (module-level, so it pickles
    and can be sent to the analysis worker processes)."""
    return FakeDetector(name)


def fake_factory(*detectors: FakeDetector) -> tuple[object, list[str]]:
    """A detector factory serving ``detectors`` by name, and the list of names it loaded."""
    by_name = {d.name: d for d in detectors}
    loaded: list[str] = []

    def factory(name: str, runtime: str, device: str) -> FakeDetector:
        if name not in by_name:
            raise UnknownDetectorError(name, list(by_name))
        loaded.append(name)
        return by_name[name]

    return factory, loaded


class FakeFaceFinder:
    """Reports ``n_faces`` square "faces" of ``side_px`` in every frame, side by side.

    The landmarks are a grid over the box, so the crop policy cuts a real crop from the frame.
    """

    def __init__(self, *, n_faces: int = 1, side_px: float = 120.0, s_per_frame: float = 0.0):
        self.n_faces = n_faces
        self.side_px = side_px
        self.s_per_frame = s_per_frame
        self.calls = 0

    def analyze(self, rgb_u8: np.ndarray, frame_idx: int = 0) -> MeshResult:
        """What ``FaceMeshDetector.analyze`` returns: the faces, left to right."""
        return MeshResult(faces=tuple(self.detect(rgb_u8, frame_idx)))

    def detect(self, rgb_u8: np.ndarray, frame_idx: int = 0) -> list[FaceDetection]:
        self.calls += 1
        time.sleep(self.s_per_frame)
        h, w = rgb_u8.shape[:2]
        side = min(self.side_px, h / 2, w / (2 * self.n_faces))
        out = []
        for k in range(self.n_faces):
            x0 = (k + 0.5) * w / self.n_faces - side / 2
            y0 = h / 2 - side / 2
            gx, gy = np.meshgrid(np.linspace(x0, x0 + side, 22), np.linspace(y0, y0 + side, 22))
            lm = np.stack([gx.ravel(), gy.ravel()], axis=1)[:478].astype(np.float32)
            box = (float(x0), float(y0), float(x0 + side), float(y0 + side))
            out.append(FaceDetection(frame_idx, box, lm, 0.9))
        return out

    def close(self) -> None:
        """Nothing to release."""


def write_test_video(
    path: str, *, n_frames: int = 40, size_wh: tuple[int, int] = (160, 120)
) -> str:
    """An MJPG AVI whose frames get brighter over time (so fake scores vary per frame)."""
    import cv2

    w, h = size_wh
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (w, h))
    assert writer.isOpened()
    yy, xx = np.mgrid[0:h, 0:w]
    for i in range(n_frames):
        frame = ((xx + yy + 4 * i) % 256).astype(np.uint8)
        writer.write(np.dstack([frame, np.full_like(frame, 60 + 4 * i), frame[::-1]]))
    writer.release()
    return path


def write_blank_image(path: str, *, size_wh: tuple[int, int] = (200, 150)) -> str:
    """A plain grey PNG: no face anywhere."""
    from PIL import Image

    Image.new("RGB", size_wh, (128, 128, 128)).save(path)
    return path
