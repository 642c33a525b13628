"""An analysis's media provenance, kept in its own column with its own SHA-256.

``MediaResult.file_provenance`` (metadata, Content Credentials, inconsistencies; see
``engine.provenance``) is stored apart from the result JSON, in ``analyses.file_provenance_json``,
like the heatmaps are in their blob: the result JSON keeps the numbers the findings are
re-checked from, the provenance column can be read on its own (a report section, a case-wide
list of Content Credentials states with SQLite's ``json_extract``), and analyses stored before
revision 0003 simply have ``NULL``. Its SHA-256 is logged in the analysis's audit entry, so an
edited record is reported by the audit verification like an edited result.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from engine.api import file_provenance_from_dict
from engine.types import MediaResult

__all__ = [
    "ProvenanceRecordError",
    "provenance_sha256",
    "split_file_provenance",
    "with_file_provenance",
]

_KEY = "file_provenance"


class ProvenanceRecordError(ValueError):
    """A stored provenance record cannot be read (damaged, or from another version)."""


def split_file_provenance(result_dict: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """``(result dict without the provenance, provenance JSON or None)`` for storing."""
    rest = {k: v for k, v in result_dict.items() if k != _KEY}
    record = result_dict.get(_KEY)
    if record is None:
        return rest, None
    return rest, json.dumps(record, sort_keys=True, ensure_ascii=False, allow_nan=False)


def provenance_sha256(text: str | None) -> str | None:
    """Lowercase hex SHA-256 of the stored JSON text (``None`` for none)."""
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


def with_file_provenance(result: MediaResult, text: str | None) -> MediaResult:
    """``result`` with the stored provenance put back (unchanged for ``None``).

    Raises:
        ProvenanceRecordError: the JSON cannot be parsed or does not fit the record type.
    """
    if text is None:
        return result
    try:
        record = file_provenance_from_dict(json.loads(text))
    except (ValueError, TypeError) as exc:
        raise ProvenanceRecordError(f"the stored media provenance cannot be read: {exc}") from exc
    return dataclasses.replace(result, file_provenance=record)
