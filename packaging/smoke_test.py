"""Smoke test of the built offline bundle: no torch inside, and the app works with no network.

A bundle that starts on the build machine proves little: the build machine has Python, the
source tree, a network and a warm cache. This script checks what a customer's machine would
show. It inspects the folder (no torch, no torch weights, the models, MediaPipe graphs and
migration scripts present), then runs the bundled executable's ``--self-test`` (create the demo
case, analyse both sample files with the shipped detectors, export the PDF) offscreen inside a
new network namespace (``unshare -rn``: only a down loopback device exists), with HOME and the
XDG folders pointed at a scratch folder so no user settings, database or cache can help it.

It prints the bundle size, the file count and the self-test's step lines, including the time
from process start to the first window. Exit status 0 means every check passed.

Usage::

    python packaging/smoke_test.py --bundle ~/.cache/forensic-face-analyzer/bundle/forensic-gui
    python packaging/smoke_test.py --bundle DIR --runs 2 --out /tmp/smoke
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXE_NAME = "forensic-gui"
REPORT_FILE_NAME = "self_test_report.pdf"  # forensic_gui.selftest.REPORT_FILE_NAME
# Any of these in the bundle means the training stack leaked in.
FORBIDDEN_DIRS = {"torch", "torchvision", "torchaudio", "tensorboard", "triton", "jax", "jaxlib"}
FORBIDDEN_FILES = re.compile(r"^(libtorch.*\.so.*|libc10.*\.so.*|.*\.pt)$")
REQUIRED = (
    "resources/models/*.onnx",
    "resources/models/*.json",
    "resources/models/fusion/fusion.json",
    "resources/models/fusion/reference_null.json",
    "resources/sample/demo_real.mp4",
    "resources/sample/demo_fake.mp4",
    "resources/icons/app.svg",
    "mediapipe/modules/face_detection/face_detection_full_range_cpu.binarypb",
    "mediapipe/modules/face_landmark/face_landmark_front_cpu.binarypb",
    "forensic_gui/cases/migrations/env.py",
    "forensic_gui/cases/migrations/versions/*.py",
    "PySide6/Qt/plugins/platforms/libqoffscreen.so",
    "PySide6/Qt/plugins/platforms/libqxcb.so",
    # media provenance: the C2PA library (loaded with ctypes), exiv2's extension and library
    "c2pa/libs/libc2pa_c.so",
    "exiv2/_image*.so",
)
_FIRST_WINDOW = re.compile(r"first window shown after ([0-9.]+) s since (process|self-test) start")


class SmokeTestError(Exception):
    """A check failed; the message says which."""


def bundle_root(bundle: Path) -> Path:
    """Where the data files are: ``_internal`` since PyInstaller 6, else the folder itself."""
    internal = bundle / "_internal"
    return internal if internal.is_dir() else bundle


def check_contents(bundle: Path) -> list[str]:
    """Problems with the bundle's contents (empty when it is complete and torch-free)."""
    problems = []
    for path in bundle.rglob("*"):
        if path.is_dir() and path.name in FORBIDDEN_DIRS:
            problems.append(f"forbidden folder {path.relative_to(bundle)}")
        elif path.is_file() and FORBIDDEN_FILES.match(path.name):
            problems.append(f"forbidden file {path.relative_to(bundle)}")
    root = bundle_root(bundle)
    for pattern in REQUIRED:
        if not list(root.glob(pattern)):
            problems.append(f"missing {pattern}")
    onnx = {p.stem for p in root.glob("resources/models/*.onnx")}
    cards = {p.stem for p in root.glob("resources/models/*.json")}
    if onnx != cards:
        problems.append(f"models without a card or card without a model: {sorted(onnx ^ cards)}")
    return problems


def bundle_size(bundle: Path) -> tuple[int, int, int]:
    """``(apparent bytes, bytes on disk, files)`` of the bundle (symbolic links not followed)."""
    apparent = on_disk = n_files = 0
    for path in bundle.rglob("*"):
        if path.is_file() and not path.is_symlink():
            st = path.stat()
            apparent += st.st_size
            on_disk += st.st_blocks * 512
            n_files += 1
    return apparent, on_disk, n_files


def check_no_network() -> None:
    """Make sure ``unshare -rn`` works here and leaves only the loopback device."""
    if shutil.which("unshare") is None:
        raise SmokeTestError("unshare is not installed (util-linux), so the app cannot be run "
                             "without a network here; install util-linux or run on Linux")
    # NOTE: /proc/net/dev lists the devices of the reader's network namespace (/sys/class/net
    # would show the host's, since sysfs is not remounted).
    probe = subprocess.run(["unshare", "-rn", "cat", "/proc/net/dev"], capture_output=True,
                           text=True, check=False)
    if probe.returncode != 0:
        raise SmokeTestError("unshare -rn failed (user namespaces disabled?): "
                             f"{probe.stderr.strip()}")
    devices = [line.split(":")[0].strip() for line in probe.stdout.splitlines()[2:]]
    if devices != ["lo"]:
        raise SmokeTestError(f"the new network namespace still has devices {devices}")


def _scratch_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "QT_"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"),
               XDG_DATA_HOME=str(home / "data"), XDG_STATE_HOME=str(home / "state"),
               XDG_CACHE_HOME=str(home / "cache"), QT_QPA_PLATFORM="offscreen")
    env.pop("FORENSIC_MODELS_DIR", None)  # the bundled models must be the ones used
    return env


def run_self_test(exe: Path, out_dir: Path, timeout_s: float) -> tuple[float, float]:
    """Run the bundle's self-test without a network; ``(first window s, wall s)``."""
    home = out_dir / "home"
    home.mkdir(parents=True)
    cmd = ["unshare", "-rn", str(exe), "--self-test", str(out_dir / "self_test"),
           "--self-test-timeout", str(timeout_s), "--log-level", "WARNING"]
    print("running:", " ".join(cmd))
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_scratch_env(home),
                          cwd=home, timeout=timeout_s + 60, check=False)
    wall_s = time.monotonic() - t0
    (out_dir / "stderr.log").write_text(proc.stderr, encoding="utf-8")
    for line in proc.stdout.splitlines():
        print("   ", line)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.splitlines()[-25:])
        raise SmokeTestError(f"the self-test exited with {proc.returncode}; last stderr lines:"
                             f"\n{tail}\n(full log: {out_dir / 'stderr.log'})")
    pdf = out_dir / "self_test" / REPORT_FILE_NAME
    if not pdf.is_file() or not pdf.read_bytes().startswith(b"%PDF-"):
        raise SmokeTestError(f"the self-test passed but {pdf} is not a PDF")
    match = _FIRST_WINDOW.search(proc.stdout)
    if match is None:
        raise SmokeTestError("the self-test did not report when the first window was shown")
    return float(match.group(1)), wall_s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, required=True,
                        help="the bundle folder (the one holding the forensic-gui executable)")
    parser.add_argument("--out", type=Path, default=None,
                        help="scratch folder for the runs (default: a new temporary folder)")
    parser.add_argument("--runs", type=int, default=1,
                        help="self-test runs (the first right after a build is the cold start)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    args = parser.parse_args(argv)
    exe = args.bundle / EXE_NAME
    try:
        if not exe.is_file():
            raise SmokeTestError(f"no {EXE_NAME} executable in {args.bundle}")
        problems = check_contents(args.bundle)
        if problems:
            raise SmokeTestError("bad bundle contents:\n  " + "\n  ".join(problems))
        print("contents: complete; no torch, torchvision, libtorch or *.pt weights")
        apparent, on_disk, n_files = bundle_size(args.bundle)
        print(f"bundle size: {apparent / 1e6:.0f} MB ({on_disk / 2**20:.0f} MiB on disk, "
              f"du), {n_files} files")
        check_no_network()
        print("network: unshare -rn leaves only the loopback device")
        out = args.out or Path(tempfile.mkdtemp(prefix="forensic-smoke-"))
        for run in range(1, args.runs + 1):
            first_window_s, wall_s = run_self_test(exe, out / f"run{run}", args.timeout)
            # NOTE: run 1 is a cold start only on the first smoke test after a build; the OS
            # file cache is never dropped (that needs root).
            kind = "first run" if run == 1 else "file cache warm"
            print(f"run {run} ({kind}): first window after {first_window_s:.2f} s, "
                  f"whole self-test {wall_s:.1f} s")
    except SmokeTestError as exc:
        print(f"SMOKE TEST FAILED: {exc}", file=sys.stderr)
        return 1
    print("SMOKE TEST PASSED")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
