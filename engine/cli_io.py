"""What ``forensic-analyze`` reads and writes around the analyses: inputs, outputs, lines.

- The inputs themselves are walked by :func:`engine.inputs.walk_inputs` (shared with the app's
  import); a folder that cannot be read becomes an error line, not silence.
- :func:`check_output_paths`: ``--jsonl`` and ``--maps`` are checked before any work. The
  JSONL file must not be, or alias (symlink, hard link), an input file, and must not lie in a
  walked folder (a later run would analyse it, and this run truncated something it read); it
  must not be a folder, and must be writable. ``--maps`` must be a folder (created if missing)
  that can be written. A mistake costs a usage error, not the evidence or the results.
- :class:`JsonlWriter`: every line is written whole. The complete line is written with
  unbuffered writes; if the write fails (disk full, ``/dev/full``, I/O error) the file is cut
  back to the end of the previous line, so no partial line is left, and the run stops with
  one clear message (:class:`OutputError`). Policy: a line is on disk (in the OS's cache) once
  written, so every line already written survives a crash or kill of this process; the file
  is fsynced when the run ends (or is interrupted), so the whole output is durable when the
  command returns. A reader that goes away (``| head -1``) raises ``BrokenPipeError``, which
  the CLI turns into a quiet exit.
- :func:`json_safe`: every string of a record as valid UTF-8 text (undecodable bytes of a file
  name written ``\\xNN``); the record's ``path_bytes_b64`` then holds the exact name.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import stat
from pathlib import Path
from typing import Any, BinaryIO

from engine.inputs import Inputs
from engine.pathtext import path_b64, printable, printable_tree

__all__ = [
    "JsonlWriter",
    "OutputError",
    "UsageProblem",
    "check_output_paths",
    "int_in",
    "json_safe",
    "number_in",
    "open_jsonl",
    "with_exact_path",
]


class UsageProblem(Exception):
    """An argument that cannot be used; the message is for ``parser.error``."""


class OutputError(Exception):
    """The output could not be written; the message says what and what is still complete."""


def check_output_paths(
    jsonl: Path | None, maps_dir: Path | None, inputs: Inputs, csv: Path | None = None
) -> None:
    """Refuse output paths that would lose results or change an input (module docstring).

    Raises:
        UsageProblem: with the sentence to show.
    """
    files = [(flag, target) for flag, target in (("--jsonl", jsonl), ("--csv", csv)) if target]
    for flag, target in files:
        _check_output_file(flag, target, inputs)
    if len(files) == 2 and _same_target(files[0][1], files[1][1]):
        raise UsageProblem("--jsonl and --csv name the same file; give each its own")
    if maps_dir is not None:
        _check_maps_dir(maps_dir)


def _same_target(a: Path, b: Path) -> bool:
    return os.path.realpath(a) == os.path.realpath(b) or (a.exists() and _same_file(a, str(b)))


def _check_output_file(flag: str, target: Path, inputs: Inputs) -> None:
    name = printable(str(target))
    if target.is_dir():
        raise UsageProblem(f"{flag} {name} is a folder; name a file to write to")
    if not target.parent.is_dir():
        raise UsageProblem(f"{flag} {name}: the folder {printable(str(target.parent))} does "
                           "not exist")
    if target.exists():
        same = next((p for p in inputs.files if _same_file(target, p)), None)
        if same is not None:
            raise UsageProblem(f"{flag} {name} is the input file {printable(same)} (or a link "
                               "to it): writing the results would destroy that evidence")
    real = os.path.realpath(target)
    for folder in inputs.folders:
        root = os.path.realpath(folder)
        if os.path.commonpath([real, root]) == root:
            raise UsageProblem(f"{flag} {name} lies inside the folder {printable(folder)} that "
                               "is being analysed; write the results outside it")


def _same_file(a: Path, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _check_maps_dir(folder: Path) -> None:
    name = printable(str(folder))
    if folder.exists() and not folder.is_dir():
        raise UsageProblem(f"--maps {name} is a file, not a folder; the heatmaps are written "
                           "as one PNG per detector into a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageProblem(f"cannot create the --maps folder {name}: {exc.strerror}") from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageProblem(f"cannot write into the --maps folder {name}: permission denied")


def open_jsonl(target: Path) -> BinaryIO:
    """Open the ``--jsonl`` file for writing, unbuffered, without truncating it yet.

    Opening it before the models load proves it can be written; an existing file is emptied
    only when the run starts (``JsonlWriter(truncate=True)``).

    Raises:
        UsageProblem: it cannot be opened for writing.
    """
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(target, flags, 0o666)
    except OSError as exc:
        raise UsageProblem(f"cannot write --jsonl {printable(str(target))}: "
                           f"{exc.strerror}") from exc
    return os.fdopen(fd, "wb", buffering=0)


def int_in(low: int, high: int) -> Any:
    """An argparse type: an integer in ``[low, high]`` (anything else is a usage error)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, got {text}")
        return value

    return parse


def number_in(low: float, high: float, unit: str) -> Any:
    """An argparse type: a finite number in ``(low, high]`` (inf and nan are usage errors)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
        if not math.isfinite(value) or not low < value <= high:
            raise argparse.ArgumentTypeError(
                f"must be a finite number of {unit} above {low:g} and at most {high:g}, "
                f"got {text}"
            )
        return value

    return parse


def json_safe(value: Any) -> Any:
    """``value`` with every string made valid UTF-8 text (see :func:`engine.pathtext.printable`)."""
    return printable_tree(value)


def with_exact_path(record: dict[str, Any], path: str) -> dict[str, Any]:
    """``record`` plus ``path_bytes_b64`` when ``path`` is not valid UTF-8 (see module doc)."""
    encoded = path_b64(path)
    return record if encoded is None else {**record, "path_bytes_b64": encoded}


class JsonlWriter:
    """Writes whole lines (JSON records, or any text line such as the triage CSV's) to a binary
    stream (see the module docstring for the policy)."""

    def __init__(self, stream: BinaryIO, name: str, *, truncate: bool = False) -> None:
        self._stream = stream
        self._name = printable(name)
        self.n_lines = 0
        try:
            self._fd: int | None = stream.fileno()
            self._regular = stat.S_ISREG(os.fstat(self._fd).st_mode)
        except (OSError, ValueError, AttributeError):
            self._fd, self._regular = None, False
        if truncate and self._regular and self._fd is not None:
            os.ftruncate(self._fd, 0)

    def write(self, record: dict[str, Any]) -> None:
        """Write one record as one complete JSON line.

        Raises:
            OutputError: the line could not be written; nothing of it is left in the file.
            BrokenPipeError: the reader went away.
        """
        self.write_line(json.dumps(json_safe(record), allow_nan=False) + "\n")

    def write_line(self, line: str) -> None:
        """Write one complete text line (ending in a newline), UTF-8, whole or not at all.

        Raises:
            OutputError: the line could not be written; nothing of it is left in the file.
            BrokenPipeError: the reader went away.
        """
        data = line.encode("utf-8")
        start = os.lseek(self._fd, 0, os.SEEK_CUR) if self._regular and self._fd else None
        try:
            self._write_all(data)
        except BrokenPipeError:
            raise
        except OSError as exc:
            self._cut_back(start)
            raise OutputError(self._failure(exc)) from exc
        self.n_lines += 1

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = self._stream.write(view)
            view = view[len(view) if written is None else written :]
        self._stream.flush()

    def _cut_back(self, start: int | None) -> None:
        if start is None or self._fd is None:
            return
        try:
            os.ftruncate(self._fd, start)
            os.lseek(self._fd, start, os.SEEK_SET)
        except OSError:
            pass  # the failure message below still says how many lines are complete

    def _failure(self, exc: OSError) -> str:
        return (f"cannot write to {self._name}: {exc.strerror or exc}; stopped. The "
                f"{self.n_lines} line(s) written before are complete, and no partial line "
                "was left")

    def finish(self) -> None:
        """Make the lines durable (fsync a regular file).

        Raises:
            OutputError: the data could not be written out.
        """
        try:
            self._stream.flush()
            if self._regular and self._fd is not None:
                os.fsync(self._fd)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputError(self._failure(exc)) from exc
