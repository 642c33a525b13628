"""The metadata step of an analysis: what the file says about its origin, never fatal.

It runs right after the hash and before any frame is decoded, on the file the hash was
computed on (``engine.provenance.source`` ties the read to that SHA-256). The trust list for
C2PA signatures is read again for every file, so a list the analyst imports takes effect at the
next analysis without reloading the models; a trust list that cannot be read is a note in the
result (and the signatures are checked without anchors), never a failed analysis.
"""

from __future__ import annotations

import logging

from engine.provenance.model import ContentCredentials, FileProvenance

__all__ = ["read_file_provenance"]

log = logging.getLogger(__name__)


def read_file_provenance(path: str, sha256: str | None,
                         trust_list_path: str | None) -> FileProvenance:
    """The file's provenance record; every failure becomes a note in it."""
    from engine.provenance.inspect import inspect_file
    from engine.provenance.trust import TrustListError, load_trust_list

    trust, trust_note = None, None
    if trust_list_path is not None:
        try:
            trust = load_trust_list(trust_list_path)
        except TrustListError as exc:
            trust_note = f"{exc}; Content Credentials were checked without trust anchors."
    try:
        record = inspect_file(path, sha256=sha256, trust=trust)
    except Exception as exc:  # inspect_file never raises by contract; this is the last guard
        log.exception("metadata step failed on %s", path)
        c2pa = ContentCredentials("not_checked", "Content Credentials were not checked.")
        record = FileProvenance(sha256, 0, "unknown", "not read", c2pa,
                                notes=(f"The metadata step failed: {exc!r}",))
    if trust_note is not None:
        from dataclasses import replace

        record = replace(record, notes=(*record.notes, trust_note))
    return record
