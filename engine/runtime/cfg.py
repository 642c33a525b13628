"""The detector config that travels with the weights, and the ONE pre/post-processing.

Why this lives in ``engine.runtime`` and not in ``engine.detectors``: importing
``engine.detectors`` registers every network (it imports torch), while the packaged app runs the
ONNX graphs with no torch installed. The config, the preprocessing (crop -> normalised tensor)
and the postprocessing (raw graph outputs -> calibrated ``p_fake`` and [0, 1] maps) are
therefore torch-free and shared here by training, the torch runtime and the ONNX runtime.
``engine.detectors.cfg`` re-exports them for the detector modules.

A shipped model's card JSON (``resources/models/<name>.json``) holds ``DetectorCfg.to_dict()``
with the trained values filled in: threshold, Platt calibration and the SHA-256 of the weights.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from engine.faces.crop import CropPolicy
from engine.types import EvidenceKind

__all__ = [
    "DetectorCfg",
    "InputMode",
    "LooksFor",
    "MapKind",
    "OutputKind",
    "center_fraction",
    "preprocess",
]

OutputKind = Literal["softmax2", "sigmoid1"]
MapKind = Literal["gradcam", "xray", "attention", "none"]
LooksFor = Literal["face_swap", "temporal", "generated"]
InputMode = Literal["face_crop", "native_tiles"]


@dataclass(frozen=True)
class DetectorCfg:
    """Everything needed to run a detector's weights, kept next to them.

    Attributes:
        name: registry id ``<method>_<backbone>``.
        version: weights version tag (``name.tag`` names a weights file).
        variant: ``"cpu"`` (shipped weights) or ``"full"`` (paper backbone, bring your own).
        input_size: network input side in pixels.
        mean: per-channel RGB mean on the [0, 1] scale.
        std: per-channel RGB std on the [0, 1] scale.
        face_margin: crop margin the network sees (<= the crop policy margin; a smaller one is
            cut from the centre of the policy crop).
        clip_len: frames per input (1 for frame models).
        output: ``"softmax2"`` (logits of [real, fake]) or ``"sigmoid1"`` (one fake logit).
        map_kind: what the explanation map is (``"none"`` when the method has none).
        looks_for: the kind of manipulation the method looks for (an
            :class:`engine.types.EvidenceKind` value); findings are graded per kind and a
            detector's score only counts for its own kind (docs/FINDINGS.md).
        threshold: decision threshold on the calibrated ``p_fake``.
        calibration: Platt parameters ``(a, b)``: p = sigmoid(a * logit(p_raw) + b); ``None``
            means p_fake = p_fake_raw.
        weights_file: state-dict file name in the models directory, ``None`` if not shipped.
        weights_sha256: its SHA-256 (hex).
        onnx_file: ONNX export file name, ``None`` if not shipped.
        onnx_sha256: its SHA-256 (hex).
        onnx_opset: the opset the ONNX file was exported with.
        input_mode: ``"face_crop"``: the network takes policy face crops resized to
            ``input_size`` (:func:`preprocess`); ``"native_tiles"``: it takes tiles of the
            picture at native resolution, at most ``input_size`` a side, never resized
            (``engine.runtime.tiles``; the generated-image detector).
        paper: citation of the method.
        license: terms of the weights (data terms included).
    """

    name: str
    version: str
    variant: Literal["cpu", "full"]
    input_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    face_margin: float
    clip_len: int
    output: OutputKind
    map_kind: MapKind
    looks_for: LooksFor
    threshold: float = 0.5
    calibration: tuple[float, float] | None = None
    weights_file: str | None = None
    weights_sha256: str | None = None
    onnx_file: str | None = None
    onnx_sha256: str | None = None
    onnx_opset: int = 17
    input_mode: InputMode = "face_crop"
    paper: str = ""
    license: str = ""

    def __post_init__(self) -> None:
        if self.input_size < 32:
            raise ValueError(f"{self.name}: input_size must be at least 32 pixels")
        if not 0.0 <= self.face_margin <= CropPolicy().margin:
            raise ValueError(f"{self.name}: face_margin must lie in [0, {CropPolicy().margin}]")
        if self.looks_for not in {k.value for k in EvidenceKind}:
            raise ValueError(f"{self.name}: looks_for must be an EvidenceKind value")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"{self.name}: threshold must lie in (0, 1)")
        if self.input_mode not in ("face_crop", "native_tiles"):
            raise ValueError(f"{self.name}: unknown input_mode {self.input_mode!r}")
        if self.calibration is not None and not self.calibration[0] > 0.0:
            raise ValueError(f"{self.name}: Platt slope must be > 0 (calibration is monotonic)")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DetectorCfg:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown DetectorCfg keys: {unknown}")
        values = dict(data)
        for key in ("mean", "std"):
            values[key] = tuple(float(v) for v in values[key])
        if values.get("calibration") is not None:
            values["calibration"] = tuple(float(v) for v in values["calibration"])
        return cls(**values)

    def replace(self, **changes: Any) -> DetectorCfg:
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)


def center_fraction(face_margin: float, crop_margin: float = CropPolicy().margin) -> float:
    """Side of the centred sub-crop with margin ``face_margin``, as a fraction of the crop."""
    return (0.5 + face_margin) / (0.5 + crop_margin)


def preprocess(crops_rgb_u8: npt.NDArray[Any], cfg: DetectorCfg) -> npt.NDArray[Any]:
    """Face crops made with ``CropPolicy()`` -> the network input. Used by training too.

    Args:
        crops_rgb_u8: (N, S, S, 3) uint8 RGB crops (any S; the policy default is 256), or
            (N, T, S, S, 3) clips of T crops for clip models.
        cfg: the detector config (input size, normalisation, margin).

    Returns:
        (N, 3, s, s) float32 (or (N, T, 3, s, s) for clips), s = ``cfg.input_size``; for a
        ``native_tiles`` detector the crops' own size (normalised, never resized).

    Raises:
        ValueError: the crops are not square uint8 RGB images.
    """
    crops = np.asarray(crops_rgb_u8)
    if crops.dtype != np.uint8 or crops.ndim not in (4, 5) or crops.shape[-1] != 3:
        raise ValueError(f"crops must be (N, S, S, 3) uint8; got {crops.shape} {crops.dtype}")
    if crops.ndim == 5:
        n, t = crops.shape[:2]
        frames = _preprocess_frames(crops.reshape(n * t, *crops.shape[2:]), cfg)
        return frames.reshape(n, t, *frames.shape[1:])
    return _preprocess_frames(crops, cfg)


def _preprocess_frames(crops: npt.NDArray[Any], cfg: DetectorCfg) -> npt.NDArray[Any]:
    if cfg.input_mode == "native_tiles":
        # NOTE: a native-tile network is never fed resized pixels: crops are normalised as
        # they are (engine.runtime.tiles cuts pictures into tiles; this serves callers that
        # hand it ready tiles or crops).
        return _normalise(crops, cfg)
    if crops.shape[1] != crops.shape[2]:
        raise ValueError(f"crops must be square; got {crops.shape[1]}x{crops.shape[2]}")
    side = crops.shape[1]
    keep = round(side * center_fraction(cfg.face_margin))
    off = (side - keep) // 2
    return _normalise(_resize_all(crops[:, off : off + keep, off : off + keep], cfg.input_size),
                      cfg)


def _normalise(images: npt.NDArray[Any], cfg: DetectorCfg) -> npt.NDArray[Any]:
    """(N, h, w, 3) uint8 -> (N, 3, h, w) float32 with the cfg's mean and std."""
    mean = (np.asarray(cfg.mean, dtype=np.float32) * 255.0).reshape(3, 1, 1)
    inv_std = (1.0 / (np.asarray(cfg.std, dtype=np.float32) * 255.0)).reshape(3, 1, 1)
    out = np.empty((images.shape[0], 3, *images.shape[1:3]), dtype=np.float32)
    np.subtract(images.transpose(0, 3, 1, 2), mean, out=out, dtype=np.float32)
    out *= inv_std
    return out


_MAX_STACK = 64  # crops resized in one call (keeps the stacked image well inside cv2's limits)


def _resize_all(subs: npt.NDArray[Any], size: int) -> npt.NDArray[Any]:
    """(N, k, k, 3) uint8 -> (N, size, size, 3) uint8, exactly as one ``cv2.resize`` per crop.

    INTER_AREA when shrinking (256 -> 192) avoids aliasing that would add or hide the
    high-frequency blending evidence; training and inference share this exact call. Shrinking
    runs on the crops stacked into one tall image: an area-resampled output pixel only reads its
    own source rectangle, and crop borders fall on output pixel borders (k rows -> size rows),
    so each crop's pixels are bit-identical to a resize of that crop alone (a test checks it)
    while OpenCV resizes the stack about twice as fast. Enlarging (bilinear) reads neighbouring
    rows, so it stays one call per crop.
    """
    import cv2

    n, keep = subs.shape[0], subs.shape[1]
    if keep == size:
        return subs
    if keep < size:
        return np.stack([cv2.resize(np.ascontiguousarray(s), (size, size),
                                    interpolation=cv2.INTER_LINEAR) for s in subs])
    out = np.empty((n, size, size, 3), dtype=np.uint8)
    for start in range(0, n, _MAX_STACK):
        chunk = np.ascontiguousarray(subs[start : start + _MAX_STACK])
        tall = chunk.reshape(chunk.shape[0] * keep, keep, 3)
        out[start : start + len(chunk)] = cv2.resize(
            tall, (size, size * len(chunk)), interpolation=cv2.INTER_AREA
        ).reshape(len(chunk), size, size, 3)
    return out
