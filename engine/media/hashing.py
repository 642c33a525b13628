"""SHA-256 of evidence files, streamed so a 20 GB video never sits in memory.

The hash is what ties an analysis to the exact bytes that were acquired; it is computed on the
original file, opened read-only, and checked again before every analysis.
"""

from __future__ import annotations

import hashlib
import os
import stat
from typing import BinaryIO

from engine.errors import UnreadableMediaError
from engine.jobs import CancelToken, Progress, ProgressSink

__all__ = ["CHUNK_BYTES", "sha256_file"]

# NOTE: 1 MiB chunks: large enough that Python overhead is negligible (hashing runs at disk or
# SHA-256 speed, ~0.5-2 GB/s), small enough that cancellation reacts within milliseconds.
CHUNK_BYTES = 1 << 20


def sha256_file(
    path: str | os.PathLike[str],
    *,
    progress: ProgressSink | None = None,
    cancel: CancelToken | None = None,
) -> str:
    """Return the lowercase hex SHA-256 of the file at ``path``.

    Args:
        path: any file (not only media); it is opened read-only and never modified.
        progress: receives ``Progress("hash", bytes_done, bytes_total)`` after every chunk;
            wrap it in :class:`engine.jobs.ThrottledSink` to limit the rate.
        cancel: checked before every chunk.

    Raises:
        UnreadableMediaError: missing, a folder, or an I/O error while reading.
        JobCancelled: ``cancel`` was set.
    """
    path_str = os.fspath(path)
    try:
        with open(path_str, "rb") as fh:
            if stat.S_ISDIR(os.fstat(fh.fileno()).st_mode):
                raise UnreadableMediaError(path_str, "This is a folder, not a file")
            return _hash_stream(fh, progress, cancel)
    except FileNotFoundError as exc:
        raise UnreadableMediaError(path_str, "File not found") from exc
    except IsADirectoryError as exc:
        raise UnreadableMediaError(path_str, "This is a folder, not a file") from exc
    except OSError as exc:
        raise UnreadableMediaError(path_str, f"Cannot read the file: {exc.strerror}") from exc


def _hash_stream(fh: BinaryIO, progress: ProgressSink | None, cancel: CancelToken | None) -> str:
    digest = hashlib.sha256()
    total = os.fstat(fh.fileno()).st_size
    done = 0
    while True:
        if cancel is not None:
            cancel.raise_if_cancelled()
        chunk = fh.read(CHUNK_BYTES)
        if not chunk:
            break
        digest.update(chunk)
        done += len(chunk)
        if progress is not None:
            progress(Progress("hash", done, max(total, done)))
    if progress is not None and done == 0:
        progress(Progress("hash", 0, 0, "empty file"))
    return digest.hexdigest()
