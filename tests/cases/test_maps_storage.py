"""Heatmaps stored with an analysis: round trip, tamper evidence, damage, and the 0001 upgrade."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from engine.types import MediaResult
from forensic_gui.cases.errors import CaseStoreError
from forensic_gui.cases.maps_blob import has_maps, pack_maps, unpack_maps, with_maps
from forensic_gui.cases.records import EvidenceRecord
from forensic_gui.cases.repository import CaseStore
from tests.cases.fabricate import hash_file, make_result
from tests.cases.raw_db import database_at_revision, run_sql


def _with_random_maps(result: MediaResult, seed: int = 0) -> MediaResult:
    """``result`` with an X-ray-sized and a Grad-CAM-sized map on every face."""
    rng = np.random.default_rng(seed)
    frames = tuple(
        dataclasses.replace(frame, faces=tuple(
            dataclasses.replace(face, maps={
                "xray_hrnet18": rng.random((64, 64), dtype=np.float32),
                "sbi_effl0": rng.random((6, 6), dtype=np.float32),
            }) for face in frame.faces))
        for frame in result.frames
    )
    return dataclasses.replace(result, frames=frames)


def _assert_same_maps(got: MediaResult, want: MediaResult) -> None:
    for frame_got, frame_want in zip(got.frames, want.frames, strict=True):
        for face_got, face_want in zip(frame_got.faces, frame_want.faces, strict=True):
            assert set(face_got.maps) == set(face_want.maps)
            for name, heat in face_want.maps.items():
                assert face_got.maps[name].shape == heat.shape
                np.testing.assert_allclose(face_got.maps[name], heat, atol=0.5 / 255 + 1e-6)


def test_maps_survive_a_pack_and_unpack(evidence_file: Path) -> None:
    result = _with_random_maps(make_result(evidence_file, "ab" * 32))
    blob = pack_maps(result)
    assert blob is not None
    assert len(unpack_maps(blob)) == 2 * sum(len(f.faces) for f in result.frames)
    without = dataclasses.replace(result, frames=tuple(
        dataclasses.replace(f, faces=tuple(dataclasses.replace(x, maps={}) for x in f.faces))
        for f in result.frames))
    assert not has_maps(without)
    assert pack_maps(without) is None
    _assert_same_maps(with_maps(without, blob), result)


def test_a_reopened_analysis_has_its_maps(store: CaseStore, added: EvidenceRecord,
                                          evidence_file: Path) -> None:
    result = _with_random_maps(make_result(evidence_file, added.sha256))
    store.record_analysis(added.id, result, actor="A. Analyst")
    path = store.db_path
    store.close()
    with CaseStore.open(path) as reopened:
        record = reopened.latest_analysis(added.id)
        assert record is not None
        _assert_same_maps(record.result, result)
        assert reopened.verify_audit_chain().ok


def _stored(store: CaseStore, added: EvidenceRecord, evidence_file: Path) -> Path:
    store.record_analysis(added.id, _with_random_maps(make_result(evidence_file, added.sha256)),
                          actor="A. Analyst")
    path = store.db_path
    store.close()
    return path


def test_edited_or_removed_maps_are_reported(store: CaseStore, added: EvidenceRecord,
                                             evidence_file: Path) -> None:
    path = _stored(store, added, evidence_file)
    other = pack_maps(_with_random_maps(make_result(evidence_file, added.sha256), seed=1))
    assert other is not None
    run_sql(path, f"UPDATE analyses SET maps_npz = x'{other.hex()}'")
    with CaseStore.open(path) as tampered:
        report = tampered.verify_audit_chain()
        assert not report.ok
        assert any("stored heatmaps" in p for p in report.problems)
    run_sql(path, "UPDATE analyses SET maps_npz = NULL, maps_sha256 = NULL")
    with CaseStore.open(path) as emptied:
        assert any("stored heatmaps" in p for p in emptied.verify_audit_chain().problems)


def test_a_damaged_blob_is_a_clear_error_not_a_crash(store: CaseStore, added: EvidenceRecord,
                                                     evidence_file: Path) -> None:
    path = _stored(store, added, evidence_file)
    run_sql(path, "UPDATE analyses SET maps_npz = x'504b0304deadbeef'")
    with CaseStore.open(path) as damaged, pytest.raises(CaseStoreError, match="heatmaps"):
        damaged.latest_analysis(added.id)


def test_a_revision_0001_database_upgrades_and_keeps_its_analyses(
    tmp_path: Path, evidence_file: Path
) -> None:
    path = tmp_path / "old.sqlite3"
    database_at_revision(path, "0001")
    with CaseStore.open(path) as store:  # upgrades to head
        case = store.create_case(number="C-1", title="old", analyst="A. Analyst",
                                 actor="A. Analyst")
        item = store.hash_and_add_evidence(case.id, evidence_file, actor="A. Analyst",
                                           sha256_fn=hash_file)
        result = make_result(evidence_file, item.sha256)  # no maps, as before 0002
        store.record_analysis(item.id, result, actor="A. Analyst")
        record = store.latest_analysis(item.id)
        assert record is not None
        assert not has_maps(record.result)
        assert store.verify_audit_chain().ok
