"""Detector configs: the dataclass and the shared preprocessing, re-exported for detectors.

They are defined in :mod:`engine.runtime.cfg` so that the torch-free ONNX path can use them
without importing this package (whose ``__init__`` imports every network, hence torch).
Defaults shared by the CPU configurations are defined here.
"""

from __future__ import annotations

from engine.runtime.cfg import DetectorCfg, MapKind, OutputKind, center_fraction, preprocess

__all__ = [
    "DATA_LICENSE",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "LITE_MEAN",
    "LITE_STD",
    "DetectorCfg",
    "MapKind",
    "OutputKind",
    "center_fraction",
    "preprocess",
]

# NOTE: the EfficientNet-Lite checkpoints come from TensorFlow, which feeds (x - 127) / 128.
LITE_MEAN = (127.0 / 255.0,) * 3
LITE_STD = (128.0 / 255.0,) * 3
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

DATA_LICENSE = (
    "Weights trained on UTKFace and CelebA real faces (non-commercial research only; "
    "copyright stays with the photo owners) with synthetic blends made from them: "
    "research use only."
)
