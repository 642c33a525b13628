"""Where shipped weights live, and the SHA-256 check that runs before any of them is loaded.

A model directory holds, per detector ``<name>``: ``<name>.json`` (the card: the
:class:`DetectorCfg` the weights were trained with, calibration, threshold, hashes, metrics),
``<name>.pt`` (state dict), ``<name>.onnx`` and ``<name>.md`` (the human model card).
Weights are never downloaded. The bytes are read once, hashed, and only those verified bytes
are deserialised (no check-then-reopen race); torch files are loaded with
``weights_only=True`` so a weights file cannot run code.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import sys
from pathlib import Path
from typing import Any, Literal

from engine.errors import UnknownDetectorError, WeightsIntegrityError
from engine.runtime.cfg import DetectorCfg

__all__ = ["CARD_SCHEMA", "WeightsStore", "default_models_dir", "sha256_bytes", "sha256_file"]

CARD_SCHEMA = 1
WeightsKind = Literal["torch", "onnx"]


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def default_models_dir() -> Path:
    """``$FORENSIC_MODELS_DIR``, else the PyInstaller bundle, else ``resources/models``."""
    env = os.environ.get("FORENSIC_MODELS_DIR")
    if env:
        return Path(env)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        return Path(bundle) / "resources" / "models"
    return Path(__file__).resolve().parents[2] / "resources" / "models"


class WeightsStore:
    """The detectors with weights in one directory.

    Args:
        root: the models directory; ``None`` uses :func:`default_models_dir`.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_models_dir()

    def names(self) -> list[str]:
        """Detectors that have a card here, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(p.stem for p in self.root.glob("*.json"))

    def card_path(self, name: str) -> Path:
        """Path of ``<name>.json`` (may not exist)."""
        return self.root / f"{name}.json"

    def card(self, name: str) -> dict[str, Any]:
        """The parsed card of ``name``.

        Raises:
            UnknownDetectorError: no card for ``name``; lists the detectors that have one.
            WeightsIntegrityError: the card is unreadable or of another schema.
        """
        path = self.card_path(name)
        if not path.is_file():
            raise UnknownDetectorError(name, self.names())
        try:
            card: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise WeightsIntegrityError(f"model card {path} is unreadable: {exc}") from exc
        if card.get("schema") != CARD_SCHEMA or not isinstance(card.get("cfg"), dict):
            raise WeightsIntegrityError(f"model card {path} is not a schema-{CARD_SCHEMA} card")
        return card

    def cfg(self, name: str) -> DetectorCfg:
        """The :class:`DetectorCfg` stored with the weights of ``name``."""
        try:
            cfg = DetectorCfg.from_dict(self.card(name)["cfg"])
        except (TypeError, ValueError) as exc:
            raise WeightsIntegrityError(f"model card of {name!r} has a bad cfg: {exc}") from exc
        if cfg.name != name:
            raise WeightsIntegrityError(f"card {name}.json describes {cfg.name!r}")
        return cfg

    def read_verified(self, name: str, kind: WeightsKind) -> bytes:
        """The bytes of ``name``'s torch or ONNX weights, after the SHA-256 check.

        Raises:
            WeightsIntegrityError: the card lists no such file, it is missing, or its hash
                differs from the card.
        """
        cfg = self.cfg(name)
        file_name, expected = (
            (cfg.weights_file, cfg.weights_sha256) if kind == "torch"
            else (cfg.onnx_file, cfg.onnx_sha256)
        )
        if not file_name or not expected:
            raise WeightsIntegrityError(f"the card of {name!r} lists no {kind} weights")
        path = self.root / file_name
        if not path.is_file():
            raise WeightsIntegrityError(f"{kind} weights of {name!r} are missing: {path}")
        data = path.read_bytes()
        actual = sha256_bytes(data)
        if actual != expected:
            raise WeightsIntegrityError(
                f"{kind} weights of {name!r} fail the integrity check: expected SHA-256 "
                f"{expected}, found {actual} ({path})"
            )
        return data

    def load_state_dict(self, name: str) -> dict[str, Any]:
        """Verified torch state dict of ``name`` (``torch.load(weights_only=True)``)."""
        import torch

        data = self.read_verified(name, "torch")
        try:
            state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        except (pickle.UnpicklingError, RuntimeError) as exc:
            raise WeightsIntegrityError(
                f"torch weights of {name!r} are not a plain state dict: {exc}"
            ) from exc
        if not isinstance(state, dict):
            raise WeightsIntegrityError(f"torch weights of {name!r} are not a state dict")
        return state
