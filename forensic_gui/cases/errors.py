"""Typed errors of the case store, each with a message an analyst can act on.

The GUI shows ``str(error)`` as is, so every message names the file, case or evidence item it is
about and says what to do. Evidence that changed since acquisition raises the engine's
:class:`engine.errors.EvidenceHashMismatchError`, so engine and store report it the same way.
"""

from __future__ import annotations

__all__ = [
    "CaseDbCorruptError",
    "CaseDbError",
    "CaseDbForeignError",
    "CaseDbLocationError",
    "CaseNotFoundError",
    "CaseStoreError",
    "DuplicateCaseNumberError",
    "EvidenceFileError",
    "InvalidFieldError",
    "RecordNotFoundError",
    "ReferenceRefusedError",
]


class CaseStoreError(Exception):
    """Base class of every error the case store raises on purpose."""


class CaseDbError(CaseStoreError):
    """The case database could not be opened, migrated or written."""


class CaseDbForeignError(CaseDbError):
    """The file is not a case database of this application (another program's, or not SQLite);
    it is refused before anything writes to it."""


class CaseDbLocationError(CaseDbError):
    """The database folder does not exist and cannot be created, or is not writable."""


class CaseDbCorruptError(CaseDbError):
    """SQLite's integrity check failed: the file is damaged and must be restored from a backup."""


class RecordNotFoundError(CaseStoreError, LookupError):
    """A case, evidence item or analysis id does not exist in this database."""


class CaseNotFoundError(RecordNotFoundError):
    """No case has the given id."""


class DuplicateCaseNumberError(CaseStoreError):
    """Another case already uses this case number."""


class InvalidFieldError(CaseStoreError, ValueError):
    """A field value is empty, unknown or outside its allowed set."""


class EvidenceFileError(CaseStoreError):
    """The evidence file is missing, not a regular file, or not the size the caller measured."""


class ReferenceRefusedError(CaseStoreError, ValueError):
    """Two analyses cannot be set against each other (not both videos with faces, other
    detectors, too few frames, other cases); the message says which and what to do."""
