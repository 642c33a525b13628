"""Hostile command lines through the real CLI (tests/engine/hostile_cli.py), and the JSONL writer.

The checks are the rows of docs/RELIABILITY.md's command-line table; each must pass. The writer
is also tested on its own with a stream that runs out of space in the middle of a line.
"""

from __future__ import annotations

import errno
import io
import json
from pathlib import Path

import pytest

from engine.cli_io import JsonlWriter, OutputError
from engine.inputs import walk_inputs
from tests.engine import hostile_cli


def _failed(checks: list[hostile_cli.Check]) -> str:
    return "\n".join(f"{c.name}: expected {c.expected}; got {c.outcome}"
                     for c in checks if not c.passed)


def test_out_of_range_arguments_are_usage_errors() -> None:
    checks = hostile_cli.argument_checks()
    assert len(checks) == len(hostile_cli.BAD_ARGUMENTS)
    assert all(c.passed for c in checks), _failed(checks)


def test_output_paths_that_would_destroy_an_input_are_refused(tmp_path: Path) -> None:
    checks = hostile_cli.output_path_checks(tmp_path)
    assert all(c.passed for c in checks), _failed(checks)


@pytest.mark.slow
@pytest.mark.weights
def test_full_outputs_broken_pipes_and_ctrl_c(tmp_path: Path) -> None:
    checks = [hostile_cli.dev_full_check(tmp_path), hostile_cli.broken_pipe_check(tmp_path),
              hostile_cli.interrupt_check(tmp_path)]
    assert all(c.passed for c in checks), _failed(checks)


@pytest.mark.slow
@pytest.mark.weights
def test_a_full_file_system_leaves_only_whole_lines(tmp_path: Path) -> None:
    check = hostile_cli.full_disk_check(tmp_path)
    if check.outcome.startswith("not run"):
        pytest.skip(check.outcome)
    assert check.passed, _failed([check])


class _FillsUp(io.RawIOBase):
    """A raw stream on a real file that accepts ``capacity`` bytes, then raises ENOSPC."""

    def __init__(self, path: Path, capacity: int) -> None:
        self._fh = path.open("wb", buffering=0)
        self._left = capacity

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fh.fileno()

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if self._left <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        n = min(len(data), self._left)
        self._fh.write(bytes(data[:n]))
        self._left -= n
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()


def test_a_line_that_does_not_fit_is_cut_back_whole(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    stream = _FillsUp(path, capacity=150)
    writer = JsonlWriter(stream, str(path))  # type: ignore[arg-type]
    writer.write({"path": "a", "pad": "x" * 40})
    writer.write({"path": "b", "pad": "y" * 40})
    with pytest.raises(OutputError, match=r"2 line\(s\) written before are complete"):
        writer.write({"path": "c", "pad": "z" * 40})  # half of it fits
    stream.close()
    lines = path.read_text(encoding="ascii").splitlines(keepends=True)
    assert [json.loads(line)["path"] for line in lines] == ["a", "b"]
    assert all(line.endswith("\n") for line in lines)


def test_lines_are_valid_utf8_and_keep_the_exact_name(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    JsonlWriter(buffer, "memory").write({"path": "/x/clip_\udcff.mp4", "error": "in \udcfe"})
    record = json.loads(buffer.getvalue().decode("utf-8"))
    assert record == {"path": "/x/clip_\\xff.mp4", "error": "in \\xfe"}


def test_a_folder_with_nothing_to_analyse_is_named_and_alone_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An empty folder (or one of hidden files only) gave no line and no word before."""
    from engine.cli import main

    empty = tmp_path / "empty"
    empty.mkdir()
    hidden = tmp_path / "hidden_only"
    (hidden / ".cache").mkdir(parents=True)
    (hidden / ".cache" / "clip.mp4").write_bytes(b"x")
    (hidden / ".notes.jpg").write_bytes(b"x")
    inputs = walk_inputs([str(empty), str(hidden)])
    assert inputs.files == []
    assert inputs.empty == [str(empty), str(hidden)]
    with pytest.raises(SystemExit) as stopped:
        main([str(empty), str(hidden), "--quiet"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"the folder {empty} holds no file to analyse" in err
    assert f"the folder {hidden} holds no file to analyse" in err
    assert "nothing to analyse" in err
