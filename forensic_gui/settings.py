"""Application settings: one frozen dataclass, read once at start from a TOML file.

``app.main`` loads the settings and passes them down explicitly; nothing reads them from a module
global. A missing file means the defaults. A file that exists but is malformed, has an unknown
key, or a value of the wrong type is an error with a message naming the file and the key, so a
typo never silently runs with a default.

Example ``settings.toml`` (in the platformdirs config dir, see :func:`default_settings_path`)::

    analyst = "J. Doe"
    db_path = "/cases/unit7.sqlite3"
    detectors = ["sbi_effl0", "xray_hrnet18"]
    runtime = "onnx"
    n_frames = 32
    max_faces = 4
    key_frames = 3
    c2pa_trust_list = "/cases/trust/c2pa_anchors.pem"
"""

from __future__ import annotations

import getpass
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import platformdirs

from engine.api import AnalysisOptions

__all__ = [
    "APP_NAME",
    "Settings",
    "SettingsError",
    "default_log_dir",
    "default_settings_path",
    "default_trust_list_path",
    "load_settings",
]

APP_NAME = "forensic-face-analyzer"
_RUNTIMES = ("auto", "onnx", "torch")


class SettingsError(Exception):
    """The settings file cannot be used; the message names the file and what is wrong."""


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (some containers)
        return "analyst"


@dataclass(frozen=True)
class Settings:
    """What the analyst may configure. Every field has a working default.

    Attributes:
        analyst: name recorded as the actor in the audit log and prefilled in the verdict form.
        db_path: case database file; ``None`` means ``forensic_gui.cases.db.default_db_path()``.
            The ``--db`` argument wins over both.
        detectors: detector ids to run; ``None`` means every shipped detector.
        runtime: ``"auto"``, ``"onnx"`` or ``"torch"`` (see ``engine.api.AnalysisOptions``).
        n_frames: frames sampled evenly per video; ``None`` when ``fps`` is used.
        fps: frames sampled per second of video; exclusive with ``n_frames``.
        max_faces: most faces analysed per frame.
        key_frames: how many frames (highest fused ``p_fake`` first) are rendered with their
            overlays into the case when an analysis is recorded.
        c2pa_trust_list: the PEM file of C2PA trust anchors; ``None`` means the file that
            *Provenance > Import C2PA trust list* writes (:func:`default_trust_list_path`),
            used when it exists. None are shipped (docs/PROVENANCE.md).
    """

    analyst: str = ""
    db_path: Path | None = None
    detectors: tuple[str, ...] | None = None
    runtime: str = "auto"
    n_frames: int | None = 32
    fps: float | None = None
    max_faces: int = 4
    key_frames: int = 3
    c2pa_trust_list: Path | None = None

    def __post_init__(self) -> None:
        if not self.analyst:
            object.__setattr__(self, "analyst", _login_name())
        if self.runtime not in _RUNTIMES:
            raise SettingsError(
                f"runtime must be one of {', '.join(_RUNTIMES)}, got {self.runtime!r}")
        if self.fps is not None and self.n_frames is not None:
            raise SettingsError("set either n_frames or fps, not both (n_frames defaults to 32; "
                                "write fps alone to sample per second)")
        if self.n_frames is not None and self.n_frames < 1:
            raise SettingsError(f"n_frames must be at least 1, got {self.n_frames}")
        if self.fps is not None and self.fps <= 0:
            raise SettingsError(f"fps must be positive, got {self.fps}")
        if self.max_faces < 1 or self.key_frames < 0:
            raise SettingsError("max_faces must be at least 1 and key_frames at least 0")

    def analysis_options(self) -> AnalysisOptions:
        """The engine options for an analysis; maps are always wanted (overlays, key frames)."""
        return AnalysisOptions(
            detectors=self.detectors,
            runtime=self.runtime,
            n_frames=self.n_frames,
            fps=self.fps,
            want_maps=True,
            max_faces=self.max_faces,
            c2pa_trust_list=self._trust_list_option(),
        )

    def _trust_list_option(self) -> str | None:
        # NOTE: a file named in settings.toml is passed even if missing (every analysis then
        # says so); the default file only once the analyst has imported one.
        if self.c2pa_trust_list is not None:
            return str(self.c2pa_trust_list)
        path = default_trust_list_path()
        return str(path) if path.is_file() else None


def default_settings_path() -> Path:
    """``settings.toml`` in the per-user config dir (``~/.config/forensic-face-analyzer``)."""
    return platformdirs.user_config_path(APP_NAME) / "settings.toml"


def default_trust_list_path() -> Path:
    """``c2pa_trust_anchors.pem`` in the per-user config dir (written by the import action)."""
    return platformdirs.user_config_path(APP_NAME) / "c2pa_trust_anchors.pem"


def default_log_dir() -> Path:
    """Where the application log goes (``~/.local/state/forensic-face-analyzer/log``)."""
    return platformdirs.user_log_path(APP_NAME)


def load_settings(path: Path) -> Settings:
    """Read the settings from ``path``; a missing file gives the defaults.

    Raises:
        SettingsError: the file is not valid TOML, has an unknown key or a wrongly typed value.
    """
    if not path.exists():
        return Settings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"Cannot read the settings file {path}: {exc}") from exc
    try:
        return Settings(**_convert(raw))
    except SettingsError as exc:
        raise SettingsError(f"Settings file {path}: {exc}") from exc


def _convert(raw: dict[str, Any]) -> dict[str, Any]:
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise SettingsError(f"unknown key(s) {', '.join(unknown)}; valid keys: "
                            f"{', '.join(sorted(known))}")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        out[key] = _CONVERTERS[key](key, value)
    if "fps" in out and "n_frames" not in out:
        out["n_frames"] = None  # writing fps alone switches off the n_frames default
    return out


def _expect(key: str, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    # NOTE: bool is an int subclass; "n_frames = true" must not read as 1.
    if isinstance(value, bool) or not isinstance(value, kind):
        raise SettingsError(f"{key} must be {what}, got {value!r}")
    return value


def _to_path(key: str, value: Any) -> Path:
    return Path(_expect(key, value, str, "a path string")).expanduser()


def _to_detectors(key: str, value: Any) -> tuple[str, ...]:
    items = _expect(key, value, list, "a list of detector ids")
    if not items or not all(isinstance(v, str) and v for v in items):
        raise SettingsError(f"{key} must be a non-empty list of detector ids, got {value!r}")
    return tuple(items)


_CONVERTERS = {
    "analyst": lambda k, v: _expect(k, v, str, "a name"),
    "db_path": _to_path,
    "detectors": _to_detectors,
    "runtime": lambda k, v: _expect(k, v, str, "a string"),
    "n_frames": lambda k, v: _expect(k, v, int, "a whole number"),
    "fps": lambda k, v: float(_expect(k, v, (int, float), "a number")),
    "max_faces": lambda k, v: _expect(k, v, int, "a whole number"),
    "key_frames": lambda k, v: _expect(k, v, int, "a whole number"),
    "c2pa_trust_list": _to_path,
}
