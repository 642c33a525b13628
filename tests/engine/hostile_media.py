"""Hostile and unlucky inputs (issue #18), added to the corpus of ``tests/engine/bad_media.py``.

What a hostile or careless user can put in a folder of evidence: special files that block or
never end (a FIFO, ``/dev/zero`` behind a ``.mp4`` link, a socket), links that go nowhere or in
a circle, file names whose bytes are not UTF-8 (they segfaulted the video decoder), names with
a newline or a leading dash, and images wider or taller than OpenCV's 32767 px (the face
pipeline aborted the process). Each case says what the CLI, the engine and the app must give;
:data:`CORPUS` is the whole corpus the tests and ``scripts/reliability_report.py`` run.

POSIX only (FIFOs, sockets, byte names); generated, nothing binary is committed.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import numpy as np
from PIL import Image

from engine.errors import UnreadableMediaError
from tests.engine import face_media
from tests.engine.bad_media import CASES, Case, write_video

__all__ = ["CORPUS", "HOSTILE_CASES", "make_corpus"]

_RGB = (64, 48)


def _fifo(out_dir: Path, _rng: np.random.Generator) -> Path:
    path = out_dir / "named_pipe.mp4"
    os.mkfifo(path)
    return path


def _dev_zero_link(out_dir: Path, _rng: np.random.Generator) -> Path:
    path = out_dir / "endless.mp4"
    path.symlink_to("/dev/zero")
    return path


def _socket(out_dir: Path, _rng: np.random.Generator) -> Path:
    """A Unix socket file (it stays after the socket is closed)."""
    path = out_dir / "listening.jpg"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(path))
    finally:
        sock.close()
    return path


def _dangling_link(out_dir: Path, _rng: np.random.Generator) -> Path:
    path = out_dir / "moved_away.jpg"
    path.symlink_to(out_dir / "no_such_target.jpg")
    return path


def _link_loop(out_dir: Path, _rng: np.random.Generator) -> Path:
    path = out_dir / "loop.mp4"
    path.symlink_to(path.name)
    return path


def _byte_name(out_dir: Path, stem: bytes, suffix: str) -> Path:
    """``out_dir/stem+suffix`` as a path whose name holds the given (non-UTF-8) bytes."""
    return Path(os.fsdecode(os.path.join(os.fsencode(out_dir), stem + suffix.encode())))


def _non_utf8_video(out_dir: Path, _rng: np.random.Generator) -> Path:
    plain = write_video(out_dir / "_plain_bytes.mp4", fps=14)
    target = _byte_name(out_dir, b"clip_\xff\xfe_latin1_\xe9", ".mp4")
    os.replace(plain, target)
    return target


def _non_utf8_image(out_dir: Path, _rng: np.random.Generator) -> Path:
    rgb = np.zeros((_RGB[1], _RGB[0], 3), np.uint8)
    rgb[:, :, 2] = 200
    target = _byte_name(out_dir, b"photo_\x80\x81", ".png")
    Image.fromarray(rgb).save(target)
    return target


def _newline_name(out_dir: Path, _rng: np.random.Generator) -> Path:
    path = out_dir / "two\nlines.png"
    Image.new("RGB", _RGB, (30, 160, 90)).save(path)
    return path


def _dash_name(out_dir: Path, _rng: np.random.Generator) -> Path:
    path = out_dir / "-rf --jsonl x.png"
    Image.new("RGB", _RGB, (160, 30, 90)).save(path)
    return path


def _panorama_with_faces(out_dir: Path, _rng: np.random.Generator) -> Path:
    """36000x1300 (46.8 MP, under the 50 MP limit) with three faces across its width."""
    width, height = 36000, 1300
    canvas = np.full((height, width, 3), 118, np.uint8)
    face = face_media.demo_frames_rgb()[5]
    for x in (400, width // 2, width - 700):
        canvas[500 : 500 + face.shape[0], x : x + face.shape[1]] = face
    path = out_dir / "panorama_36000x1300.jpg"
    Image.fromarray(canvas).save(path, quality=88)
    return path


def _flat_image(name: str, size_wh: tuple[int, int], grey: int) -> object:
    def make(out_dir: Path, _rng: np.random.Generator) -> Path:
        path = out_dir / name
        Image.new("L", size_wh, grey).save(path)
        return path

    return make


# fmt: off
HOSTILE_CASES: tuple[Case, ...] = (
    Case("fifo_as_mp4", _fifo, UnreadableMediaError,
         "a named pipe (FIFO) named .mp4: reading it blocks forever"),
    Case("dev_zero_link", _dev_zero_link, UnreadableMediaError,
         "symlink to /dev/zero named .mp4: reading it never ends"),
    Case("socket_file", _socket, UnreadableMediaError, "a Unix socket named .jpg"),
    Case("dangling_link", _dangling_link, UnreadableMediaError, "symlink to a missing file"),
    Case("link_loop", _link_loop, UnreadableMediaError, "symlink to itself"),
    Case("non_utf8_video", _non_utf8_video, None,
         "video whose name holds bytes that are not UTF-8 (segfaulted the decoder)"),
    Case("non_utf8_image", _non_utf8_image, None, "image whose name is not UTF-8"),
    Case("newline_name", _newline_name, None, "a newline in the file name"),
    Case("dash_name", _dash_name, None, "a name that looks like options: '-rf --jsonl x.png'"),
    Case("panorama_faces", _panorama_with_faces, None,
         "36000x1300 panorama, three faces (aborted the process in OpenCV's remap)", "ok", 3),
    Case("tall_image", _flat_image("tall_1000x40000.png", (1000, 40000), 90), None,
         "1000x40000 image, no face (past the 32767 px limit the other way)"),
    Case("wide_no_face", _flat_image("wide_24000x2000.png", (24000, 2000), 150), None,
         "24000x2000, no face (the no-face retry padded it past 32767 px: abort)"),
)
# fmt: on

CORPUS: tuple[Case, ...] = (*CASES, *HOSTILE_CASES)
"""Every case: the issue-7 corpus and the hostile cases above."""


def make_corpus(out_dir: Path, rng: np.random.Generator) -> dict[str, Path]:
    """Write every case of :data:`CORPUS` into ``out_dir``; name -> path (see ``make_all``)."""
    from tests.engine.bad_media import make_all

    paths = make_all(out_dir, rng)
    for case in HOSTILE_CASES:
        paths[case.name] = case.make(out_dir, rng)
    for helper in out_dir.glob("_*"):
        helper.unlink()
    return paths
