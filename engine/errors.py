"""Typed errors the engine raises, each with a message a person can act on.

Every failure on one input is one of these, so a batch can report it for that item and go on.
"""

from __future__ import annotations

__all__ = [
    "AnalysisAbortedError",
    "CorruptMediaError",
    "EngineError",
    "EvidenceChangedError",
    "EvidenceHashMismatchError",
    "MediaError",
    "MediaTooLargeError",
    "NotMediaError",
    "SynthesisInputError",
    "TruncatedMediaError",
    "UnknownDetectorError",
    "UnreadableMediaError",
    "UnsupportedFormatError",
    "WeightsIntegrityError",
    "ZeroFramesError",
]


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class MediaError(EngineError):
    """A media file could not be used. ``path`` names the file the message is about."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{message} ({path})")
        self.path = path
        self.reason = message

    def __reduce__(self) -> tuple[object, ...]:  # pickles across the worker pool's pipe
        return (type(self), (self.path, self.reason))


class UnreadableMediaError(MediaError):
    """The file does not exist, is a directory, or cannot be opened (permissions, I/O)."""


class NotMediaError(MediaError):
    """The bytes are not an image or video this application understands (text, random data)."""


class UnsupportedFormatError(MediaError):
    """A real media container or codec that is not supported (for example an audio-only file)."""


class TruncatedMediaError(MediaError):
    """The file ends early: headers promise more data than the file holds."""


class CorruptMediaError(MediaError):
    """The container is readable but its data cannot be decoded."""


class ZeroFramesError(MediaError):
    """The container decodes but holds no video frame."""


class MediaTooLargeError(MediaError):
    """The file or its frames exceed the configured limits (pixels per frame, bytes)."""


class AnalysisAbortedError(MediaError):
    """The worker process analysing the file crashed, overran its time budget or its memory
    ceiling (see ``engine.isolation``); the message says which."""


class EvidenceChangedError(MediaError):
    """The file changed (written to, or replaced) while it was being analysed.

    The analysis is refused: its result would not be of the bytes that were hashed.
    """

    def __init__(self, path: str, message: str) -> None:
        if not message.startswith("The file changed"):
            message = (f"The file changed while it was being analysed ({message}); the result "
                       "would not be of the bytes that were hashed, so none is given. Secure the "
                       "file and analyse it again")
        super().__init__(path, message)


class EvidenceHashMismatchError(EngineError):
    """The file's SHA-256 differs from the one recorded when it was acquired."""

    def __init__(self, path: str, expected_sha256: str, actual_sha256: str) -> None:
        super().__init__(
            f"Evidence file changed since acquisition: expected SHA-256 {expected_sha256}, "
            f"found {actual_sha256} ({path})"
        )
        self.path = path
        self.expected_sha256 = expected_sha256
        self.actual_sha256 = actual_sha256

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.path, self.expected_sha256, self.actual_sha256))


class UnknownDetectorError(EngineError, KeyError):
    """A detector name is not registered; the message lists the valid names."""

    def __init__(self, name: str, valid: list[str]) -> None:
        super().__init__(f"Unknown detector {name!r}. Valid detectors: {', '.join(sorted(valid))}")
        self.name = name
        self.valid = sorted(valid)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.name, self.valid))

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return str(self.args[0])


class WeightsIntegrityError(EngineError):
    """A weights file is missing or its SHA-256 does not match the detector config."""


class SynthesisInputError(EngineError, ValueError):
    """A face crop or its landmarks cannot be used to synthesise a training fake."""
