"""Provenance records <-> JSON-safe dicts, driven by the records' own type hints.

One generic codec instead of a hand-written pair per record: a field added to a record is
stored and read back without touching this module. It understands exactly what the records
use: nested frozen dataclasses, ``tuple[X, ...]``, ``X | None``, ``Literal[...]``, ``str``,
``int``, ``float`` and ``bool``. Reading is strict: an unknown key, a missing required key or a
value of the wrong kind raises ``ValueError`` naming the place, so a damaged stored record is
reported instead of being half-read.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any, TypeVar

__all__ = ["from_plain", "to_plain"]

T = TypeVar("T")


def to_plain(value: Any) -> Any:
    """A JSON-safe copy of ``value`` (dataclasses become dicts, tuples become lists).

    Raises:
        ValueError: a float is NaN or infinite (JSON cannot hold it).
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [to_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"cannot store the non-finite number {value!r}")
    return value


def from_plain(cls: type[T], data: Any, where: str = "provenance") -> T:
    """Rebuild an instance of the dataclass ``cls`` from :func:`to_plain` output.

    Raises:
        ValueError: unknown or missing keys, or a value that does not fit its field's type.
    """
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}")
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        if name in data:
            kwargs[name] = _decode(hints[name], data[name], f"{where}.{name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ValueError(f"{where}: missing key {name!r}")
    return cls(**kwargs)


def _decode(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        (inner,) = [o for o in options if o is not type(None)]
        return _decode(inner, value, where)
    if origin is tuple:
        inner = typing.get_args(hint)[0]
        if not isinstance(value, list):
            raise ValueError(f"{where}: expected a list, got {type(value).__name__}")
        return tuple(_decode(inner, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is typing.Literal:
        if value not in typing.get_args(hint):
            raise ValueError(f"{where}: {value!r} is not one of {typing.get_args(hint)}")
        return value
    if dataclasses.is_dataclass(hint):
        return from_plain(hint, value, where)  # type: ignore[arg-type]
    return _scalar(hint, value, where)


def _scalar(hint: Any, value: Any, where: str) -> Any:
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    # NOTE: bool is an int subclass; an int field must not accept true/false.
    if hint is int and isinstance(value, bool):
        raise ValueError(f"{where}: expected a whole number, got {value!r}")
    if hint in (str, int, bool) and isinstance(value, hint):
        return value
    raise ValueError(f"{where}: expected {getattr(hint, '__name__', hint)}, got {value!r}")
