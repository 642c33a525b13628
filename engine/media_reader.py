"""``engine.api.MediaReader``: probing and frame decoding isolated from the caller.

Kept apart from ``engine.api`` (which re-exports it) so the module stays small; like the API it
imports only the standard library at import time.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from engine.isolation import IsolationSettings
from engine.jobs import CancelToken, JobCancelled
from engine.types import Frame, MediaInfo

__all__ = ["MediaReader"]

_DEFAULT = IsolationSettings()


class MediaReader:
    """Probes files and decodes frames where a decoder crash cannot take the caller with it.

    The app's import, frame view and key frames use it: it runs the same readers as
    :func:`probe_media` and :func:`read_frame` in a worker process of its own, which loads no
    model and is started on first use (and again after a crash, overrun or cancel); with
    ``isolation=None`` it reads in this process. Safe to call from several threads (calls
    wait for the worker in turn).
    """

    def __init__(self, isolation: IsolationSettings | None = _DEFAULT) -> None:
        self.isolation = isolation
        self._lock = threading.Lock()
        self._backend: Any = None
        self._closed = False

    def _get(self) -> Any:
        from engine.analysis.backends import PoolBackend

        with self._lock:
            if self._closed:
                raise JobCancelled
            if self._backend is None and self.isolation is not None:
                self._backend = PoolBackend(None, self.isolation, detector_factory=None,
                                            face_detector=None)
            return self._backend

    def probe(self, path: str | os.PathLike[str], *, cancel: CancelToken | None = None
              ) -> MediaInfo:
        """Like :func:`probe_media` (raises ``MediaError``; ``JobCancelled`` on cancel)."""
        from engine.analysis.backends import in_process_probe

        backend = self._get()
        if backend is None:
            return in_process_probe(os.fspath(path), cancel)
        return backend.probe(os.fspath(path), cancel)  # type: ignore[no-any-return]

    def read_frame(self, path: str | os.PathLike[str], frame_idx: int, *,
                   cancel: CancelToken | None = None) -> Frame:
        """Like :func:`read_frame` (raises ``MediaError``, ``IndexError``, ``JobCancelled``)."""
        from engine.analysis.backends import in_process_frame

        backend = self._get()
        if backend is None:
            return in_process_frame(os.fspath(path), frame_idx, cancel)
        return backend.read_frame(os.fspath(path), frame_idx, cancel)  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop the worker (a read in progress ends with ``JobCancelled``); idempotent."""
        with self._lock:
            self._closed = True
            backend, self._backend = self._backend, None
        if backend is not None:
            backend.close()
