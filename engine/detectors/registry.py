"""The detector registry: name -> (config, keyword-only entrypoint). timm's shape.

Detector modules register themselves with ``@register_detector(CFG)`` when
``engine.detectors`` imports them (explicitly, one by one). A duplicate name raises; an unknown
name raises :class:`~engine.errors.UnknownDetectorError` listing the valid names. Nothing here
dispatches on a model name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from engine.detectors.base import Detector
from engine.errors import UnknownDetectorError
from engine.runtime.cfg import DetectorCfg

__all__ = ["create_detector", "get_cfg", "list_detectors", "register_detector"]

EntryPoint = Callable[..., Detector]
_F = TypeVar("_F", bound=EntryPoint)


@dataclass(frozen=True)
class _Entry:
    cfg: DetectorCfg
    entrypoint: EntryPoint


_REGISTRY: dict[str, _Entry] = {}


def register_detector(cfg: DetectorCfg) -> Callable[[_F], _F]:
    """Decorator registering an entrypoint under ``cfg.name`` (the function's own name).

    Raises:
        ValueError: the name is already registered, or differs from the function name.
    """

    def decorate(fn: _F) -> _F:
        if fn.__name__ != cfg.name:
            raise ValueError(f"entrypoint {fn.__name__!r} must be named like its cfg {cfg.name!r}")
        if cfg.name in _REGISTRY:
            raise ValueError(f"detector {cfg.name!r} is already registered")
        _REGISTRY[cfg.name] = _Entry(cfg, fn)
        return fn

    return decorate


def list_detectors(variant: str | None = None) -> list[str]:
    """Registered detector names, sorted; ``variant`` ("cpu" or "full") filters them."""
    return sorted(n for n, e in _REGISTRY.items() if variant is None or e.cfg.variant == variant)


def _entry(name: str) -> _Entry:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownDetectorError(name, list(_REGISTRY)) from None


def get_cfg(name: str) -> DetectorCfg:
    """The code default config of ``name`` (the shipped card may fill in trained values)."""
    return _entry(name).cfg


def create_detector(name: str, **kwargs: Any) -> Detector:
    """Build ``name`` through its entrypoint (keyword arguments are passed on)."""
    return _entry(name).entrypoint(**kwargs)
