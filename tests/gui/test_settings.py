"""Settings: defaults, TOML loading, and clear errors for every kind of bad file."""

from __future__ import annotations

from pathlib import Path

import pytest

from forensic_gui.settings import Settings, SettingsError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_file_gives_defaults(tmp_path):
    settings = load_settings(tmp_path / "absent.toml")
    assert settings.n_frames == 32
    assert settings.fps is None
    assert settings.runtime == "auto"
    assert settings.analyst  # the login name
    assert settings.analysis_options().want_maps is True


def test_values_are_read_and_converted(tmp_path):
    path = write(tmp_path, 'analyst = "J. Doe"\ndb_path = "~/c.sqlite3"\n'
                           'detectors = ["sbi_effl0"]\nruntime = "onnx"\nfps = 2\nkey_frames = 0\n')
    settings = load_settings(path)
    assert settings.analyst == "J. Doe"
    assert settings.db_path == Path("~/c.sqlite3").expanduser()
    assert settings.detectors == ("sbi_effl0",)
    assert settings.fps == 2.0
    assert settings.n_frames is None
    options = settings.analysis_options()
    assert options.detectors == ("sbi_effl0",)
    assert options.runtime == "onnx"


@pytest.mark.parametrize(("text", "needle"), [
    ("analysts = 'x'\n", "unknown key(s) analysts"),
    ("n_frames = 'many'\n", "n_frames must be a whole number"),
    ("n_frames = true\n", "n_frames must be a whole number"),
    ("runtime = 'gpu'\n", "runtime must be one of auto, onnx, torch"),
    ("n_frames = 8\nfps = 2\n", "either n_frames or fps"),
    ("detectors = []\n", "non-empty list"),
    ("analyst = \n", "Cannot read the settings file"),
])
def test_bad_files_name_the_file_and_the_problem(tmp_path, text, needle):
    path = write(tmp_path, text)
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    assert needle in str(info.value)
    assert str(path) in str(info.value)


def test_settings_are_frozen():
    settings = Settings(analyst="a")
    with pytest.raises(AttributeError):
        settings.analyst = "b"  # type: ignore[misc]
