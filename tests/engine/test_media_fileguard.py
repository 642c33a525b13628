"""The file guard: special files are refused before anything reads them, changes are caught.

Every special file here is made by the test (FIFO, socket, symlink to /dev/zero); the hashing
and probing calls run in a worker thread with a deadline, so a regression that blocks shows up
as a failure instead of a hung test run.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.analysis import media_io
from engine.errors import EvidenceChangedError, UnreadableMediaError
from engine.media import sha256_file
from engine.media.fileguard import open_regular, refuse_special
from tests.engine.bad_media import write_video

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX special files")

_DEADLINE_S = 10.0


def _within_deadline(fn: Callable[[], object]) -> BaseException | object:
    """Run ``fn`` in a thread; its return value or exception, or fail after the deadline."""
    box: list[object] = []

    def run() -> None:
        try:
            box.append(fn())
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(_DEADLINE_S)
    assert not thread.is_alive(), "the call blocked: a special file was read"
    return box[0]


@pytest.fixture
def special_files(tmp_path: Path) -> Iterator[dict[str, Path]]:
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.mp4"
    zero.symlink_to("/dev/zero")
    sock_path = tmp_path / "sock.mp4"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(sock_path))
    folder = tmp_path / "folder.jpg"
    folder.mkdir()
    try:
        yield {"fifo": fifo, "zero": zero, "socket": sock_path, "folder": folder,
               "null": Path("/dev/null")}
    finally:
        sock.close()


@pytest.mark.parametrize(
    ("name", "words"),
    [("fifo", "named pipe"), ("zero", "character device"), ("socket", "socket"),
     ("folder", "folder"), ("null", "character device")],
)
@pytest.mark.parametrize(
    "reader",
    [sha256_file, media_io.probe, lambda p: media_io.read_one_frame(p, 0),
     lambda p: media_io.hash_file(p, lambda _p: None, None)],
    ids=["sha256_file", "probe", "read_frame", "hash_file"],
)
def test_special_files_are_refused_without_reading(
    special_files: dict[str, Path], name: str, words: str, reader: Callable[[str], object]
) -> None:
    outcome = _within_deadline(lambda: reader(str(special_files[name])))
    assert isinstance(outcome, UnreadableMediaError), outcome
    assert words in outcome.reason
    assert outcome.path == str(special_files[name])


def test_a_fifo_swapped_in_after_the_stat_is_still_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race: stat sees a regular file, open gets a FIFO; O_NONBLOCK and fstat catch it."""
    path = tmp_path / "swap.jpg"
    path.write_bytes(b"x")

    def stat_then_swap(p: str) -> os.stat_result:
        st = os.stat(p)
        os.unlink(p)
        os.mkfifo(p)
        return st

    monkeypatch.setattr("engine.media.fileguard.refuse_special", stat_then_swap)
    outcome = _within_deadline(lambda: open_regular(str(path)))
    assert isinstance(outcome, UnreadableMediaError)
    assert "named pipe" in outcome.reason


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableMediaError, match="File not found"):
        refuse_special(str(tmp_path / "nothing.mp4"))


def test_non_utf8_name_decodes_through_the_descriptor(tmp_path: Path) -> None:
    """A name with non-UTF-8 bytes used to segfault cv2.VideoCapture; it is never passed now."""
    plain = write_video(tmp_path / "plain.mp4")
    odd = os.path.join(os.fsencode(tmp_path), b"clip\xff\xfe.mp4")
    os.replace(plain, odd)
    path = os.fsdecode(odd)
    info = media_io.probe(path)
    assert info.path == path
    assert info.n_frames == 16
    assert media_io.read_one_frame(path, 5).rgb_u8.shape == (48, 64, 3)
    with media_io.open_evidence(path) as evidence:
        assert len(list(evidence.frames(n_frames=4, fps=None, cancel=None))) == 4
        evidence.check_unchanged()


def test_errors_name_the_callers_path_not_the_descriptor(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("not a video\n" * 20)
    with pytest.raises(Exception, match="text file") as info:
        media_io.probe(str(path))
    assert info.value.path == str(path)  # type: ignore[attr-defined]
    assert "/proc/self/fd" not in str(info.value)


def test_a_file_written_to_while_open_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    write_video(path)
    with media_io.open_evidence(str(path)) as evidence:
        evidence.sha256(lambda _p: None, None)
        with path.open("r+b") as fh:  # same size, same inode: only the times move
            fh.seek(100)
            fh.write(b"\x00")
        with pytest.raises(EvidenceChangedError, match="changed while it was being analysed"):
            evidence.check_unchanged()


def test_a_file_replaced_while_open_is_decoded_as_hashed_and_then_refused(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    write_video(path, n_frames=16)
    other = write_video(tmp_path / "other.mp4", n_frames=8)
    with media_io.open_evidence(str(path)) as evidence:
        evidence.sha256(lambda _p: None, None)
        os.replace(other, path)  # the name now leads to an 8-frame video
        assert evidence.probe().n_frames == 16  # still the bytes that were hashed
        with pytest.raises(EvidenceChangedError, match="replaced"):
            evidence.check_unchanged()


def test_media_log_records_name_the_callers_path(tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    import logging

    path = write_video(tmp_path / "clip.mp4")
    with media_io.open_evidence(str(path)) as evidence:
        evidence._call(lambda p: logging.getLogger("engine.media.video_io").warning(
            "%s: the file lists %d frames", p, 3))
    assert f"{path}: the file lists 3 frames" in caplog.text
    assert "/proc/self/fd" not in caplog.text
