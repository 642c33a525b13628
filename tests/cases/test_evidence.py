"""Evidence integrity: files are never modified, and a changed file is caught and logged."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from engine.errors import EvidenceHashMismatchError
from forensic_gui.cases import CaseStore, EvidenceFileError, EvidenceRecord, InvalidFieldError
from tests.cases.fabricate import hash_file, make_result


def test_adding_and_verifying_never_touches_the_file(
    store: CaseStore, added: EvidenceRecord, evidence_file: Path
) -> None:
    before = (evidence_file.read_bytes(), evidence_file.stat().st_mtime_ns)
    check = store.verify_evidence(added.id, actor="B", sha256_fn=hash_file)
    assert check.ok
    assert check.actual == check.expected == added.sha256
    check.raise_for_mismatch()
    assert (evidence_file.read_bytes(), evidence_file.stat().st_mtime_ns) == before
    assert added.original_path == str(evidence_file)
    assert added.size_bytes == len(before[0])
    assert store.audit_entries(added.case_id)[-1].action == "evidence.verified"


def test_hash_mismatch_is_caught_recorded_and_blocks_analysis(
    store: CaseStore, evidence_file: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.mp4"
    shutil.copyfile(evidence_file, copy)
    case = store.create_case(number="C-9", title="t", analyst="B", actor="B")
    item = store.hash_and_add_evidence(case.id, copy, actor="B", sha256_fn=hash_file)
    with open(copy, "r+b") as handle:  # one flipped byte in the copy
        handle.seek(1000)
        byte = handle.read(1)
        handle.seek(1000)
        handle.write(bytes([byte[0] ^ 0xFF]))

    check = store.verify_evidence(item.id, actor="B", sha256_fn=hash_file)
    assert not check.ok
    assert check.actual == hash_file(copy) != item.sha256
    with pytest.raises(EvidenceHashMismatchError, match="changed since acquisition"):
        check.raise_for_mismatch()
    entry = store.audit_entries(case.id)[-1]
    assert entry.action == "evidence.hash_mismatch"
    assert entry.payload["actual_sha256"] == check.actual
    assert entry.payload["expected_sha256"] == item.sha256

    changed = make_result(copy, hash_file(copy))
    with pytest.raises(EvidenceHashMismatchError):
        store.record_analysis(item.id, changed, actor="B")
    assert store.latest_analysis(item.id) is None
    assert store.audit_entries(case.id)[-1].action == "analysis.refused"
    assert store.verify_audit_chain().ok


def test_missing_file_is_recorded_as_unreadable(
    store: CaseStore, evidence_file: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "gone.mp4"
    shutil.copyfile(evidence_file, copy)
    case = store.create_case(number="C-9", title="t", analyst="B", actor="B")
    item = store.hash_and_add_evidence(case.id, copy, actor="B", sha256_fn=hash_file)
    os.remove(copy)
    check = store.verify_evidence(item.id, actor="B", sha256_fn=hash_file)
    assert not check.ok
    assert check.actual is None
    assert "cannot read the file" in (check.problem or "")
    assert store.audit_entries(case.id)[-1].action == "evidence.unreadable"
    with pytest.raises(EvidenceHashMismatchError):
        check.raise_for_mismatch()


def test_add_evidence_validates_what_the_worker_measured(
    store: CaseStore, evidence_file: Path, tmp_path: Path
) -> None:
    case = store.create_case(number="C-9", title="t", analyst="B", actor="B")
    digest = hash_file(evidence_file)
    size = evidence_file.stat().st_size
    with pytest.raises(EvidenceFileError, match="changed while being added"):
        store.add_evidence(
            case.id, evidence_file, sha256=digest, size_bytes=size + 1, media_info=None, actor="B"
        )
    with pytest.raises(InvalidFieldError, match="SHA-256"):
        store.add_evidence(
            case.id, evidence_file, sha256="abc", size_bytes=size, media_info=None, actor="B"
        )
    with pytest.raises(EvidenceFileError, match="Cannot read"):
        store.add_evidence(
            case.id,
            tmp_path / "nope.mp4",
            sha256=digest,
            size_bytes=size,
            media_info=None,
            actor="B",
        )
    item = store.add_evidence(
        case.id,
        evidence_file,
        sha256=digest.upper(),
        size_bytes=size,
        media_info={"kind": "video", "fps": 25.0},
        actor="B",
    )
    assert item.sha256 == digest
    assert item.media_info == {"kind": "video", "fps": 25.0}
    assert store.list_evidence(case.id) == (item,)


def test_default_hasher_is_the_engines(
    store: CaseStore, added: EvidenceRecord, evidence_file: Path
) -> None:
    assert store.verify_evidence(added.id, actor="B").ok  # engine.api.sha256_file
    evidence_file.unlink()
    check = store.verify_evidence(added.id, actor="B")
    assert not check.ok
    assert check.actual is None
    assert store.audit_entries(added.case_id)[-1].action == "evidence.unreadable"
