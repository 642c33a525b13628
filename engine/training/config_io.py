"""Reading and writing every training config of ``engine.training`` the same way.

The face-swap recipe (``TrainConfig``), the MRL/GAN recipe (``VideoGanConfig``) and the
generated-image jobs (``engine.training.config_gen``) are frozen dataclasses read from TOML.
One rule for all of them, written once here: an unknown key is an error that names it and the
valid ones (a misspelt key must not silently train with a default), TOML arrays become tuples
(the dataclasses are frozen and hashable), and the file's path is in every error message.
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["config_from_dict", "config_to_dict", "load_toml_config"]

_C = TypeVar("_C")


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """Plain dict of a config (for checkpoints and cards)."""
    return dataclasses.asdict(cfg)


def config_from_dict(kind: type[_C], data: dict[str, Any]) -> _C:
    """Build ``kind`` from a dict; unknown keys raise ``ValueError`` naming them."""
    fields = {f.name: f for f in dataclasses.fields(kind)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValueError(f"unknown config keys: {unknown}; valid: {sorted(fields)}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return kind(**values)


def load_toml_config(kind: type[_C], path: Path) -> _C:
    """Read a TOML config of ``kind``.

    Raises:
        ValueError: unknown keys or invalid values (the message names them and the file).
    """
    with Path(path).open("rb") as fh:
        data = tomllib.load(fh)
    try:
        return config_from_dict(kind, data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
