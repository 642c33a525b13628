"""Media provenance stored with an analysis: round trip, audit hash, tamper evidence, upgrade."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.api import inspect_provenance
from engine.types import MediaResult
from forensic_gui.cases import db as case_db
from forensic_gui.cases.errors import CaseStoreError
from forensic_gui.cases.records import EvidenceRecord
from forensic_gui.cases.repository import CaseStore
from tests.cases.fabricate import hash_file, make_result
from tests.cases.raw_db import database_at_revision, run_sql
from tests.provenance_media import jpeg_bytes, make_pki, sign_jpeg, textured_rgb, write


@pytest.fixture(scope="module")
def signed_record(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    photo = write(tmp_path_factory.mktemp("sig") / "signed.jpg",
                  sign_jpeg(jpeg_bytes(textured_rgb(120, 160)), make_pki()))
    return inspect_provenance(photo)


def _result(evidence_file: Path, sha256: str, record: object) -> MediaResult:
    return dataclasses.replace(make_result(evidence_file, sha256), file_provenance=record)


def test_provenance_is_stored_apart_and_comes_back(store: CaseStore, added: EvidenceRecord,
                                                   evidence_file: Path, signed_record) -> None:
    result = _result(evidence_file, added.sha256, signed_record)
    analysis = store.record_analysis(added.id, result, actor="A. Analyst")
    path = store.db_path
    store.close()
    engine = case_db.create_db_engine(path)
    try:
        with engine.connect() as connection:
            row = connection.execute(text(
                "SELECT result_json, file_provenance_json, file_provenance_sha256 FROM analyses "
                "WHERE id = :id"), {"id": analysis.id}).one()
            payload = json.loads(connection.execute(text(
                "SELECT payload_json FROM audit_events WHERE action = 'analysis.recorded'"))
                .scalar_one())
    finally:
        engine.dispose()
    assert "file_provenance" not in json.loads(row.result_json)
    assert json.loads(row.file_provenance_json)["c2pa"]["state"] == "valid"
    assert payload["file_provenance_sha256"] == row.file_provenance_sha256
    with CaseStore.open(path) as reopened:
        record = reopened.latest_analysis(added.id)
        assert record is not None
        assert record.result.file_provenance == signed_record
        assert reopened.verify_audit_chain().ok


def test_edited_provenance_is_reported(store: CaseStore, added: EvidenceRecord,
                                       evidence_file: Path, signed_record) -> None:
    store.record_analysis(added.id, _result(evidence_file, added.sha256, signed_record),
                          actor="A. Analyst")
    path = store.db_path
    store.close()
    run_sql(path, "UPDATE analyses SET file_provenance_json = "
               "replace(file_provenance_json, '\"valid\"', '\"trusted\"')")
    with CaseStore.open(path) as tampered:
        report = tampered.verify_audit_chain()
        assert not report.ok
        assert any("stored media provenance" in p for p in report.problems)
    run_sql(path, "UPDATE analyses SET file_provenance_json = NULL, file_provenance_sha256 = NULL")
    with CaseStore.open(path) as emptied:
        assert any("stored media provenance" in p for p in emptied.verify_audit_chain().problems)


def test_a_damaged_record_is_a_clear_error(store: CaseStore, added: EvidenceRecord,
                                           evidence_file: Path, signed_record) -> None:
    store.record_analysis(added.id, _result(evidence_file, added.sha256, signed_record),
                          actor="A. Analyst")
    path = store.db_path
    store.close()
    run_sql(path, "UPDATE analyses SET file_provenance_json = '{\"schema\": 1}'")
    with CaseStore.open(path) as damaged, pytest.raises(CaseStoreError,
                                                        match="media provenance"):
        damaged.latest_analysis(added.id)


def test_a_revision_0002_database_upgrades_and_keeps_its_analyses(
    tmp_path: Path, evidence_file: Path
) -> None:
    path = tmp_path / "old.sqlite3"
    database_at_revision(path, "0002")
    with CaseStore.open(path) as store:  # upgrades to head
        case = store.create_case(number="C-1", title="old", analyst="A", actor="A")
        item = store.hash_and_add_evidence(case.id, evidence_file, actor="A",
                                           sha256_fn=hash_file)
        store.record_analysis(item.id, make_result(evidence_file, item.sha256), actor="A")
        record = store.latest_analysis(item.id)
        assert record is not None
        assert record.result.file_provenance is None
        assert store.verify_audit_chain().ok
