"""Hostile command lines for the real ``forensic-analyze`` (issue #18), judged case by case.

Shared by tests/engine/test_cli_hostile.py and scripts/reliability_report.py. Each check runs
the CLI as a user would (a subprocess; ``python -m engine.cli``) and returns a :class:`Check`:
what was expected, what was seen, and whether it passed. The classes: argument values out of
range, output paths that would destroy an input or lose the results, an output that fills up
(``/dev/full``, a full file system), a reader that goes away (``| head -1``), and Ctrl-C in the
middle of a batch.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BAD_ARGUMENTS", "Check", "all_cli_checks", "make_inputs"]

_REPO = Path(__file__).resolve().parents[2]
_FAST = ("--quiet", "--detectors", "sbi_effl0", "--frames", "4")

BAD_ARGUMENTS: tuple[tuple[str, ...], ...] = (
    ("--fps", "inf"), ("--fps", "nan"), ("--fps", "0"), ("--fps", "-2"), ("--fps", "1e400"),
    ("--fps", "5000"), ("--frames", "0"), ("--frames", "-1"), ("--frames", "99999999999"),
    ("--frames", "2.5"), ("--max-faces", "0"), ("--max-faces", "1000"), ("--workers", "0"),
    ("--timeout", "inf"), ("--timeout", "-1"), ("--max-memory-gb", "0"),
    ("--max-memory-gb", "nan"),
)


@dataclass(frozen=True)
class Check:
    """One row of a checks table."""

    name: str
    expected: str
    outcome: str
    passed: bool
    seconds: float | None


def _env() -> dict[str, str]:
    python_path = os.pathsep.join(filter(None, [str(_REPO), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": python_path}


def _cli(args: Sequence[str], *, timeout_s: float = 300.0, **kw: object
         ) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True,
                          text=True, timeout=timeout_s, env=_env(), cwd=_REPO, check=False, **kw)
    return done, time.perf_counter() - start


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if not ln.startswith(("W0000", "INFO:",
                                                                         "WARNING: All"))]
    return lines[-1] if lines else "nothing"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_inputs(folder: Path, n_images: int = 12) -> list[Path]:
    """``n_images`` small distinct PNGs (no face) in ``folder``."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n_images):
        path = folder / f"image_{i:02d}.png"
        Image.new("RGB", (48, 40), (10 + 20 * i, 90, 200 - 10 * i)).save(path)
        paths.append(path)
    return paths


def argument_checks() -> list[Check]:
    """Every value of :data:`BAD_ARGUMENTS` is a usage error before anything is read."""
    checks = []
    for args in BAD_ARGUMENTS:
        done, seconds = _cli(["nothing.jpg", *args, "--quiet"], timeout_s=60.0)
        said = _last_line(done.stderr)
        passed = done.returncode == 2 and "error:" in said and "Traceback" not in done.stderr
        checks.append(Check(f"`{' '.join(args)}`", "usage error: exit 2, one line",
                            f"exit {done.returncode}; {said}", passed, seconds))
    return checks


def output_path_checks(work: Path) -> list[Check]:
    """``--jsonl``/``--maps`` that would destroy an input or lose the results are refused."""
    inputs = make_inputs(work / "evidence", 2)
    target = inputs[0]
    (work / "hard.jsonl").unlink(missing_ok=True)
    os.link(target, work / "hard.jsonl")
    (work / "soft.jsonl").unlink(missing_ok=True)
    (work / "soft.jsonl").symlink_to(target)
    cases = [
        ("--jsonl is an input file", [str(target), "--jsonl", str(target)]),
        ("--jsonl is a hard link to an input", [str(target), "--jsonl", str(work / "hard.jsonl")]),
        ("--jsonl is a symlink to an input", [str(target), "--jsonl", str(work / "soft.jsonl")]),
        ("--jsonl inside a walked folder", [str(work / "evidence"), "--jsonl",
                                            str(work / "evidence" / "out.jsonl")]),
        ("--jsonl is a folder", [str(target), "--jsonl", str(work)]),
        ("--maps is a file", [str(target), "--maps", str(inputs[1])]),
    ]
    before = {p: _digest(p) for p in inputs}
    checks = []
    for name, args in cases:
        done, seconds = _cli([*args, "--quiet"], timeout_s=60.0)
        unchanged = all(_digest(p) == d for p, d in before.items())
        said = _last_line(done.stderr)
        passed = done.returncode == 2 and unchanged and "Traceback" not in done.stderr
        checks.append(Check(name, "usage error before any work, inputs unchanged",
                            f"exit {done.returncode}; inputs unchanged: {unchanged}; {said}",
                            passed, seconds))
    return checks


def _whole_lines(text: str) -> tuple[int, bool]:
    """(number of lines, whether every line is a complete JSON object ending in a newline)."""
    if not text:
        return 0, True
    lines = text.split("\n")
    whole = lines[-1] == ""
    try:
        for line in lines[:-1]:
            json.loads(line)
    except ValueError:
        whole = False
    return len(lines) - 1, whole


def dev_full_check(work: Path) -> Check:
    inputs = make_inputs(work / "devfull", 2)
    done, seconds = _cli([*map(str, inputs), "--jsonl", "/dev/full", *_FAST])
    said = _last_line(done.stderr)
    passed = (done.returncode == 74 and "No space left" in said
              and "Traceback" not in done.stderr)
    return Check("`--jsonl /dev/full`", "exit 74, one clear line, no traceback",
                 f"exit {done.returncode}; {said}", passed, seconds)


def full_disk_check(work: Path) -> Check:
    """A 16 KiB file system fills up after a few lines: the file keeps only whole lines."""
    unshare = shutil.which("unshare")
    name, expected = "`--jsonl` on a full file system (16 KiB tmpfs)", (
        "exit 74, the file holds only whole lines")
    if unshare is None:
        return Check(name, expected, "not run: no unshare", False, None)
    inputs = make_inputs(work / "fulldisk", 30)
    mount, copy = work / "tiny_fs", work / "tiny_fs_copy.jsonl"
    mount.mkdir(exist_ok=True)
    script = ('mount -t tmpfs -o size=16k tmpfs "$0" || exit 97; "$@"; rc=$?; '
              'cp "$0/out.jsonl" "$0.copy"; exit $rc')
    command = [unshare, "--mount", "--propagation", "private", "sh", "-c", script, str(mount),
               sys.executable, "-m", "engine.cli", str(inputs[0].parent), "--jsonl",
               str(mount / "out.jsonl"), *_FAST]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=_env(),
                          cwd=_REPO, check=False)
    seconds = time.perf_counter() - start
    if done.returncode == 97:
        return Check(name, expected, "not run: cannot mount a tmpfs here", False, seconds)
    shutil.move(f"{mount}.copy", copy)
    n_lines, whole = _whole_lines(copy.read_text(encoding="ascii"))
    said = _last_line(done.stderr)
    passed = done.returncode == 74 and whole and 0 < n_lines < len(inputs)
    return Check(name, expected, f"exit {done.returncode}; {n_lines} whole lines of "
                 f"{len(inputs)}, no partial line: {whole}; {said}", passed, seconds)


def broken_pipe_check(work: Path) -> Check:
    """``forensic-analyze FOLDER | head -1``: the reader leaves after one line."""
    inputs = make_inputs(work / "pipe", 12)
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "engine.cli", str(inputs[0].parent),
                              *_FAST], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=_env(), cwd=_REPO)
    first = child.stdout.readline()  # type: ignore[union-attr]
    child.stdout.close()  # type: ignore[union-attr]
    stderr = child.stderr.read().decode(errors="replace")  # type: ignore[union-attr]
    child.stderr.close()  # type: ignore[union-attr]
    returncode = child.wait(timeout=300)
    seconds = time.perf_counter() - start
    first_whole = first.endswith(b"}\n")
    passed = returncode == 141 and "Traceback" not in stderr and first_whole
    return Check("`forensic-analyze FOLDER | head -1`", "exit 141, quiet (no traceback)",
                 f"exit {returncode}; first line whole: {first_whole}; "
                 f"traceback: {'Traceback' in stderr}", passed, seconds)


def interrupt_check(work: Path) -> Check:
    """Ctrl-C (SIGINT to the process group) after the first line: whole lines, exit 130."""
    inputs = make_inputs(work / "interrupt", 150)
    out = work / "interrupted.jsonl"
    start = time.perf_counter()
    # NOTE: SIGINT back to its default in the child: a shell's background job (nohup ... &)
    # starts with it ignored, and Python then never turns it into KeyboardInterrupt.
    child = subprocess.Popen([sys.executable, "-m", "engine.cli", str(inputs[0].parent),
                              "--jsonl", str(out), *_FAST], stderr=subprocess.PIPE,
                             env=_env(), cwd=_REPO, start_new_session=True,
                             preexec_fn=_default_sigint)
    while time.perf_counter() - start < 300 and (not out.exists() or not out.stat().st_size):
        time.sleep(0.01)
    os.killpg(child.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole group
    stderr = child.stderr.read().decode(errors="replace")  # type: ignore[union-attr]
    child.stderr.close()  # type: ignore[union-attr]
    returncode = child.wait(timeout=120)
    seconds = time.perf_counter() - start
    n_lines, whole = _whole_lines(out.read_text(encoding="ascii"))
    passed = (returncode == 130 and whole and 0 < n_lines < len(inputs)
              and "Traceback" not in stderr)
    return Check("Ctrl-C in the middle of a batch", "exit 130, only whole lines",
                 f"exit {returncode}; {n_lines} of {len(inputs)} lines, all whole: {whole}; "
                 f"{_last_line(stderr)}",
                 passed, seconds)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def all_cli_checks(work: Path) -> list[Check]:
    """Every check above, in table order."""
    work.mkdir(parents=True, exist_ok=True)
    return [*argument_checks(), *output_path_checks(work), dev_full_check(work),
            full_disk_check(work), broken_pipe_check(work), interrupt_check(work)]
