"""The orchestrator's one doorway to ``engine.media``: hash, probe and the frames to analyse.

A still image is one frame (index 0 at 0 s); a video is sampled by ``engine.media``: N evenly
spaced frames, or F per second (at most N when both are given). Keeping these calls in one
module keeps the orchestrator independent of how the media package is laid out.

Every file is read through one guarded descriptor (:mod:`engine.media.fileguard`): only a
regular file is opened, it is hashed from that descriptor, and the readers open it by the
descriptor's name (``/proc/self/fd/N``), never by the file's own name. So a FIFO or a device
is refused before anything reads it, a name with non-UTF-8 bytes never reaches a native
decoder, and the frames decoded are those of the inode that was hashed. Errors and
``MediaInfo.path`` name the file as the caller gave it.
"""

from __future__ import annotations

import contextvars
import dataclasses
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from engine.errors import MediaError
from engine.jobs import CancelToken, ProgressSink
from engine.media.fileguard import GuardedFile, open_regular
from engine.types import Frame, MediaInfo

if TYPE_CHECKING:
    from engine.media import DecodeReport

__all__ = [
    "Evidence",
    "describe_sampling",
    "hash_file",
    "iter_frames",
    "new_decode_report",
    "open_evidence",
    "planned_frame_count",
    "probe",
    "read_one_frame",
]

_T = TypeVar("_T")
# decoder path -> the caller's path, for the files this thread has open (see _NameCallerPath)
_OPEN_NAMES: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("_OPEN_NAMES")


class _NameCallerPath(logging.Filter):
    """Log records of ``engine.media`` name the file as the caller did, not ``/proc/self/fd/N``."""

    def filter(self, record: logging.LogRecord) -> bool:
        names = _OPEN_NAMES.get(None)
        if names and isinstance(record.args, tuple):
            record.args = tuple(_renamed(a, names) for a in record.args)
        return True


def _renamed(arg: Any, names: dict[str, str]) -> Any:
    return names.get(arg, arg) if isinstance(arg, str) else arg


_FILTER = _NameCallerPath()


def _filter_media_loggers() -> None:
    """Add the filter to every ``engine.media`` logger (a logger's filters see only its own
    records, so each module's logger needs it; new ones are picked up on the next file)."""
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if (name == "engine.media" or name.startswith("engine.media.")) and isinstance(
            logger, logging.Logger
        ) and _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


class Evidence:
    """One opened evidence file: hash it, probe it, decode it, check it did not change."""

    def __init__(self, guarded: GuardedFile) -> None:
        self._guarded = guarded
        _filter_media_loggers()

    @property
    def path(self) -> str:
        """The file as the caller named it."""
        return self._guarded.path

    def sha256(self, progress: ProgressSink, cancel: CancelToken | None) -> str:
        """Lowercase hex SHA-256 of the opened file, streamed, with progress and cancellation."""
        from engine.media.hashing import sha256_guarded

        return sha256_guarded(self._guarded, progress=progress, cancel=cancel)

    def probe(self) -> MediaInfo:
        """What the file is (raises ``engine.errors.MediaError`` subclasses)."""
        from engine.media import probe as media_probe

        info = self._call(lambda path: media_probe(path))
        return dataclasses.replace(info, path=self.path)

    def read_frame(self, frame_idx: int) -> Frame:
        """One decoded frame (frame 0 of a still image)."""
        from engine.media import read_frame

        return self._call(lambda path: read_frame(path, frame_idx))

    def frames(
        self,
        *,
        n_frames: int | None,
        fps: float | None,
        cancel: CancelToken | None,
        report: DecodeReport | None = None,
    ) -> Iterator[Frame]:
        """The frames to analyse, decoded one at a time, in increasing ``frame_idx``.

        ``report`` (an ``engine.media.DecodeReport``) is filled while decoding: damaged frames
        skipped or replaced, resolution changes, a header whose frame count disagrees; its
        ``cautions()`` are sentences for the analyst.
        """
        from engine.media import sample_frames

        decoder_path = self._decoder_path()
        iterator = self._call(
            lambda _path: sample_frames(
                decoder_path, n_frames=n_frames, fps=fps, cancel=cancel, report=report
            )
        )
        while True:
            frame = self._call(lambda _path: next(iterator, None))
            if frame is None:
                return
            yield frame

    @property
    def decoder_path(self) -> str:
        """The name readers open the descriptor by (``/proc/self/fd/N``), never the file's."""
        return self._guarded.decoder_path

    def check_unchanged(self) -> None:
        """Raise ``EvidenceChangedError`` if the file was written to or replaced since opened."""
        self._guarded.check_unchanged()

    def _decoder_path(self) -> str:
        return self._guarded.decoder_path

    def _call(self, fn: Callable[[str], _T]) -> _T:
        """Run a reader on the descriptor's path; its errors and logs name the caller's path."""
        decoder_path = self._decoder_path()
        names = {**_OPEN_NAMES.get({}), decoder_path: self.path}
        token = _OPEN_NAMES.set(names)
        try:
            return fn(decoder_path)
        except MediaError as exc:
            if exc.path == self.path:
                raise
            raise type(exc)(self.path, exc.reason) from exc
        finally:
            _OPEN_NAMES.reset(token)


@contextmanager
def open_evidence(path: str) -> Iterator[Evidence]:
    """Open ``path`` once for hashing, probing and decoding (see the module docstring).

    Raises:
        UnreadableMediaError: missing, unreadable, a folder, a FIFO, a device or a socket.
    """
    with open_regular(path) as guarded:
        yield Evidence(guarded)


def hash_file(path: str, progress: ProgressSink, cancel: CancelToken | None) -> str:
    """Lowercase hex SHA-256 of the file, streamed, with progress and cancellation."""
    with open_evidence(path) as evidence:
        return evidence.sha256(progress, cancel)


def probe(path: str) -> MediaInfo:
    """What the file is (raises ``engine.errors.MediaError`` subclasses)."""
    with open_evidence(path) as evidence:
        return evidence.probe()


def read_one_frame(path: str, frame_idx: int) -> Frame:
    """One decoded frame (frame 0 of a still image)."""
    with open_evidence(path) as evidence:
        return evidence.read_frame(frame_idx)


def iter_frames(
    path: str,
    *,
    n_frames: int | None,
    fps: float | None,
    cancel: CancelToken | None,
    report: DecodeReport | None = None,
) -> Iterator[Frame]:
    """The frames to analyse, decoded one at a time (the file is held open until the last).

    The pipeline uses :meth:`Evidence.frames` on the descriptor it hashed; this is for callers
    that only decode.
    """
    with open_evidence(path) as evidence:
        yield from evidence.frames(n_frames=n_frames, fps=fps, cancel=cancel, report=report)


def new_decode_report() -> DecodeReport:
    """An empty ``engine.media.DecodeReport`` to pass to :meth:`Evidence.frames`."""
    from engine.media import DecodeReport

    return DecodeReport()


def planned_frame_count(info: MediaInfo, *, n_frames: int | None, fps: float | None) -> int:
    """How many frames :meth:`Evidence.frames` plans to yield (the container's frame count)."""
    if info.kind == "image":
        return 1
    from engine.media import plan_frame_indices

    video_fps = info.fps if info.fps and info.fps > 0 else 25.0  # only used with fps sampling
    return len(plan_frame_indices(info.n_frames, video_fps, n_frames=n_frames, fps=fps))


def describe_sampling(info: MediaInfo | None, *, n_frames: int | None, fps: float | None) -> str:
    """The sampling rule in words, for provenance."""
    if info is not None and info.kind == "image":
        return "still image: its one frame"
    from engine.media import describe_sampling as media_describe

    return f"video frames: {media_describe(n_frames=n_frames, fps=fps)}"

