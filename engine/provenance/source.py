"""The bytes the provenance is read from, tied to the SHA-256 the analysis hashed.

A file up to :data:`IN_MEMORY_MAX_BYTES` (every photo, short clips) is read once into memory and
hashed again; every reader then works on those bytes, so the metadata is provably of the hashed
file, and a file that changed between the two reads is reported instead of described. A larger
file (long videos) is read from disk through one open handle, and its size, modification time
and inode are compared before and after: a change is reported, but a change that keeps all
three cannot be seen without hashing the file a second time (which would double the cost of a
20 GB video). Readers never receive a path string: exiv2 and FFmpeg would treat a path that
looks like a URL as one and go to the network.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from dataclasses import dataclass
from typing import BinaryIO

__all__ = [
    "IN_MEMORY_MAX_BYTES",
    "SourceError",
    "SourceFile",
    "family_of",
    "open_source",
]

# NOTE: 128 MiB holds every camera and phone photo (a 48 MP HEIC is 10-20 MB, a 100 MP JPEG
# about 60 MB) and a minute or two of phone video, at most three files in flight (384 MiB).
IN_MEMORY_MAX_BYTES = 128 * 2**20

_FAMILY_OF_FORMAT = {
    "jpeg": "jpeg", "png": "png", "gif": "gif", "webp": "webp", "tiff": "tiff", "bmp": "bmp",
    "heif": "heif", "heic": "heif", "avif": "heif",
    "mp4": "mp4", "mov": "mov", "avi": "avi", "mkv": "matroska", "webm": "matroska",
    "flv": "flv", "asf": "asf", "mpeg": "mpeg", "mpegts": "mpegts",
}
IMAGE_FAMILIES = frozenset({"jpeg", "png", "gif", "webp", "tiff", "bmp", "heif"})
VIDEO_FAMILIES = frozenset({"mp4", "mov", "avi", "matroska", "flv", "asf", "mpeg", "mpegts"})
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif"}


class SourceError(Exception):
    """The file cannot be read, or changed after it was hashed (the message says which)."""


@dataclass(frozen=True, eq=False)
class SourceFile:
    """One evidence file opened for the metadata readers.

    Attributes:
        path: the file, for messages only.
        size_bytes: its size.
        family: the format family (see :func:`family_of`), ``"unknown"`` if not recognised.
        data: the whole file when it was read into memory, else ``None``.
        sha256: SHA-256 of ``data`` (in memory), else the analysis's hash as given.
        same_bytes: how the read is tied to the hashed bytes, in words.
        family_note: why the format was not recognised, if it was not.
    """

    path: str
    size_bytes: int
    family: str
    data: bytes | None
    sha256: str | None
    same_bytes: str
    family_note: str | None
    _stat_key: tuple[int, int, int]

    @property
    def is_image(self) -> bool:
        """A still-image family (exiv2 reads its metadata)."""
        return self.family in IMAGE_FAMILIES

    @property
    def is_video(self) -> bool:
        """A video container family (PyAV and the box walker read it)."""
        return self.family in VIDEO_FAMILIES

    def open_stream(self) -> BinaryIO:
        """A fresh, seekable, read-only stream of the bytes (close it when done)."""
        if self.data is not None:
            return io.BytesIO(self.data)
        return open(self.path, "rb")

    def changed_on_disk(self) -> bool:
        """For a file read from disk: size, mtime or inode differ from when it was opened."""
        if self.data is not None:
            return False
        try:
            return _stat_key(os.stat(self.path)) != self._stat_key
        except OSError:
            return True


def open_source(path: str, expected_sha256: str | None) -> SourceFile:
    """Open ``path`` for the readers (see the module docstring).

    Raises:
        SourceError: missing, not a regular file, unreadable, or (in memory) its SHA-256
            differs from ``expected_sha256``.
    """
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise SourceError("not a regular file (a folder, device, pipe or socket)")
            header = fh.read(64)
            data = None
            if st.st_size <= IN_MEMORY_MAX_BYTES:
                fh.seek(0)
                data = fh.read(IN_MEMORY_MAX_BYTES + 1)
    except OSError as exc:
        raise SourceError(f"cannot read the file: {exc.strerror or exc}") from exc
    family, note = family_of(path, header)
    if data is not None:
        actual = hashlib.sha256(data).hexdigest()
        if expected_sha256 is not None and actual != expected_sha256.strip().lower():
            raise SourceError(
                "the file changed between hashing and the metadata read (SHA-256 "
                f"{actual} instead of {expected_sha256}); its metadata is not shown"
            )
        same = ("read once into memory; these bytes hash to the analysed SHA-256"
                if expected_sha256 else "read once into memory and hashed")
        return SourceFile(path, len(data), family, data, actual, same, note, _stat_key(st))
    same = ("read from the file on disk after hashing (too large to hold in memory); its size "
            "and modification time are checked before and after the read")
    return SourceFile(path, st.st_size, family, None, expected_sha256, same, note, _stat_key(st))


def family_of(path: str, header: bytes) -> tuple[str, str | None]:
    """``(family, note)``: the format family from the first bytes, never the extension.

    Uses the media layer's sniffer; HEIF/HEIC/AVIF stills are recognised here too (their
    metadata is readable even where their pixels are not). ``note`` says why a file is
    ``"unknown"``.
    """
    from engine.errors import MediaError
    from engine.media.sniff import sniff_bytes

    if len(header) >= 12 and header[4:8] == b"ftyp" and header[8:12] in _HEIF_BRANDS:
        return "heif", None
    try:
        _kind, format_name = sniff_bytes(path, header)
    except MediaError as exc:
        return "unknown", exc.reason
    return _FAMILY_OF_FORMAT.get(format_name, "unknown"), None


def _stat_key(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ino)
