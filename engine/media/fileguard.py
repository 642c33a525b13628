"""Open evidence so that only a regular file is ever read, and read it through one descriptor.

Why this exists:

- A FIFO blocks ``open()`` until some writer appears (forever, in practice); ``/dev/zero`` or
  ``/dev/urandom`` linked as ``clip.mp4`` reads without end; opening a tape or watchdog device
  has side effects; a socket cannot be opened at all. Checking with ``os.stat`` and then
  opening the path is racy (the name can be swapped in between). So :func:`open_regular` stats
  the path first (a special file is refused without being opened), then opens it with
  ``O_NONBLOCK | O_NOCTTY`` (a FIFO swapped in meanwhile opens at once instead of blocking)
  and checks the *opened descriptor* with ``fstat``: anything but a regular file is refused
  before a byte is read.
- Native decoders (OpenCV's FFmpeg, PyAV) are given :attr:`GuardedFile.decoder_path`, a name of
  the open descriptor (``/proc/self/fd/N`` on Linux, ``/dev/fd/N`` on macOS). It is ASCII
  whatever the file is called (``cv2.VideoCapture`` segfaults on a ``str`` path that holds
  non-UTF-8 bytes as surrogates), and it opens the inode that was hashed, even if the name is
  replaced by another file meanwhile.
- :meth:`GuardedFile.check_unchanged` compares device, inode, size, modification and
  status-change times (``st_ctime_ns`` cannot be set back by a user) of the descriptor and of
  the path with those taken when the file was opened, so a file modified in place or replaced
  while it was analysed is refused instead of giving a result of other bytes than were hashed.

Readers that open an evidence path themselves should use :func:`open_regular` (or at least
:func:`refuse_special`) and pass :attr:`GuardedFile.decoder_path` to native code.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from typing import BinaryIO

from engine.closing import Closing
from engine.errors import EvidenceChangedError, UnreadableMediaError

__all__ = ["FileIdentity", "GuardedFile", "describe_special", "open_regular", "refuse_special"]

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)

_SPECIAL_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device (such as /dev/zero or a terminal)"),
    (stat.S_ISBLK, "a block device (a disk or partition)"),
    (stat.S_ISSOCK, "a socket"),
)


@dataclass(frozen=True)
class FileIdentity:
    """What identifies one version of one file: where it is and when it last changed."""

    dev: int
    ino: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileIdentity:
        """The identity in a stat result."""
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def describe_special(mode: int) -> str | None:
    """What kind of non-regular file ``mode`` is, in words; ``None`` for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    return next((words for test, words in _SPECIAL_KINDS if test(mode)), "not a regular file")


def _refusal(path: str, mode: int) -> UnreadableMediaError:
    kind = describe_special(mode)
    if kind == "a folder":
        return UnreadableMediaError(path, "This is a folder, not a file")
    return UnreadableMediaError(path, f"This is {kind}, not a regular file; only regular "
                                "files are read")


def refuse_special(path: str) -> os.stat_result:
    """``os.stat(path)``, raising for anything that is not a regular file.

    Raises:
        UnreadableMediaError: missing, not accessible, a folder, a FIFO, a device or a socket.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError as exc:
        raise UnreadableMediaError(path, "File not found") from exc
    except OSError as exc:
        raise UnreadableMediaError(path, f"Cannot access the file: {exc.strerror}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise _refusal(path, st.st_mode)
    return st


class GuardedFile(Closing):
    """A regular file opened read-only; see the module docstring. Use :func:`open_regular`."""

    def __init__(self, path: str, fd: int, identity: FileIdentity) -> None:
        self.path = path
        self.fd = fd
        self.identity = identity

    @property
    def size_bytes(self) -> int:
        """The file's size when it was opened."""
        return self.identity.size

    @property
    def decoder_path(self) -> str:
        """A path that opens this descriptor's file, for native decoders.

        Raises:
            UnreadableMediaError: the system has no descriptor paths and the file name cannot
                be encoded for a native library.
        """
        for template in ("/proc/self/fd/{}", "/dev/fd/{}"):
            candidate = template.format(self.fd)
            if sys.platform != "win32" and os.path.exists(candidate):
                return candidate
        try:
            self.path.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise UnreadableMediaError(
                self.path, "The file name holds bytes that are not valid text, and this system "
                "cannot pass the open file to the video decoder; rename the file"
            ) from exc
        return self.path

    def reader(self) -> BinaryIO:
        """A buffered reader on the descriptor from its start (closing it keeps the fd open)."""
        fh = open(self.fd, "rb", closefd=False)  # noqa: SIM115 - the caller closes it
        fh.seek(0)
        return fh

    def check_unchanged(self) -> None:
        """Raise if the file was modified, or its name now leads elsewhere, since it was opened.

        Raises:
            EvidenceChangedError: the descriptor's identity or the path's changed.
        """
        now_fd = FileIdentity.of(os.fstat(self.fd))
        try:
            now_path: FileIdentity | None = FileIdentity.of(os.stat(self.path))
        except OSError:
            now_path = None
        if now_path is None:
            raise EvidenceChangedError(self.path, "it was deleted or moved")
        if (now_path.dev, now_path.ino) != (self.identity.dev, self.identity.ino):
            raise EvidenceChangedError(self.path, "its name now leads to another file "
                                       "(replaced)")
        if now_fd != self.identity or now_path != self.identity:
            raise EvidenceChangedError(self.path, _what_changed(self.identity, now_fd))

    def close(self) -> None:
        """Close the descriptor (idempotent)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _what_changed(before: FileIdentity, after: FileIdentity) -> str:
    if before.size != after.size:
        return f"its size went from {before.size} to {after.size} bytes"
    return "it was written to (its modification or status-change time moved)"


def open_regular(path: str | os.PathLike[str]) -> GuardedFile:
    """Open ``path`` read-only if, and only if, it is a regular file (see module docstring).

    Raises:
        UnreadableMediaError: missing, unreadable, a folder, a FIFO, a device or a socket.
    """
    path_str = os.fspath(path)
    refuse_special(path_str)
    try:
        fd = os.open(path_str, _OPEN_FLAGS)
    except FileNotFoundError as exc:
        raise UnreadableMediaError(path_str, "File not found") from exc
    except OSError as exc:
        raise UnreadableMediaError(path_str, f"Cannot read the file: {exc.strerror}") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _refusal(path_str, st.st_mode)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # regular files ignore it; restore ordinary reads anyway
    except BaseException:
        os.close(fd)
        raise
    return GuardedFile(path_str, fd, FileIdentity.of(st))
