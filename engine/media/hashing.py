"""SHA-256 of evidence files, streamed so a 20 GB video never sits in memory.

The hash is what ties an analysis to the exact bytes that were acquired; it is computed on the
original file, opened read-only, and checked again before every analysis.
"""

from __future__ import annotations

import hashlib
import os
from typing import BinaryIO

from engine.errors import UnreadableMediaError
from engine.jobs import CancelToken, Progress, ProgressSink
from engine.media.fileguard import GuardedFile, open_regular

__all__ = ["CHUNK_BYTES", "sha256_file", "sha256_guarded"]

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

    Only a regular file is read (see :mod:`engine.media.fileguard`): a FIFO, a device such as
    ``/dev/zero`` (also behind a symlink), a socket or a folder is refused before anything is
    read, so hashing can neither block nor run forever.

    Args:
        path: any file (not only media); it is opened read-only and never modified.
        progress: receives ``Progress("hash", bytes_done, bytes_total)`` after every chunk;
            wrap it in :class:`engine.jobs.ThrottledSink` to limit the rate.
        cancel: checked before every chunk.

    Raises:
        UnreadableMediaError: missing, a folder, a special file, or an I/O error while reading.
        JobCancelled: ``cancel`` was set.
    """
    with open_regular(path) as guarded:
        return sha256_guarded(guarded, progress=progress, cancel=cancel)


def sha256_guarded(
    guarded: GuardedFile,
    *,
    progress: ProgressSink | None = None,
    cancel: CancelToken | None = None,
) -> str:
    """SHA-256 of a file opened with :func:`engine.media.fileguard.open_regular`, from its start.

    At most the size the file had when it was opened is read, so a file that keeps growing
    cannot keep the hash running; a file that changed while it was read is refused.

    Raises:
        UnreadableMediaError: an I/O error while reading.
        EvidenceChangedError: the file was written to or replaced while it was read.
        JobCancelled: ``cancel`` was set.
    """
    try:
        with guarded.reader() as fh:
            digest = _hash_stream(fh, guarded.size_bytes, progress, cancel)
    except OSError as exc:
        raise UnreadableMediaError(guarded.path, f"Cannot read the file: {exc.strerror}") from exc
    guarded.check_unchanged()
    return digest


def _hash_stream(
    fh: BinaryIO, total: int, progress: ProgressSink | None, cancel: CancelToken | None
) -> str:
    digest = hashlib.sha256()
    done = 0
    while done < total:
        if cancel is not None:
            cancel.raise_if_cancelled()
        chunk = fh.read(min(CHUNK_BYTES, total - done))
        if not chunk:
            break
        digest.update(chunk)
        done += len(chunk)
        if progress is not None:
            progress(Progress("hash", done, max(total, done)))
    if progress is not None and done == 0:
        progress(Progress("hash", 0, 0, "empty file"))
    return digest.hexdigest()
