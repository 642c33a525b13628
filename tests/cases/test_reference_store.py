"""Reference comparisons in the case store: made from the stored analyses, kept whole, audited,
never changed, and named when edited behind the app's back."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from engine.api import ReferenceComparison
from engine.fusion.reference import ReferenceNull
from engine.types import MediaResult
from forensic_gui.cases import CaseStore, EvidenceRecord
from forensic_gui.cases.errors import CaseStoreError, ReferenceRefusedError
from forensic_gui.cases.report_pdf import build_case_report
from tests.cases.fabricate import hash_file, make_result


def _with_kinds(result: MediaResult) -> MediaResult:
    """The fabricated result with both detectors declaring the face-swap kind."""
    prov = result.provenance
    assert prov is not None
    detectors = tuple(dataclasses.replace(d, looks_for="face_swap") for d in prov.detectors)
    return dataclasses.replace(result, provenance=dataclasses.replace(prov, detectors=detectors))


@pytest.fixture
def null(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ReferenceNull:
    """A made-up null for the fabricated detectors, installed where the engine looks."""
    prov = make_result(Path(__file__), "0" * 64).provenance
    assert prov is not None
    samples = [{"kind:face_swap": d, "sbi_effl0": d, "xray_hrnet18": d}
               for d in np.linspace(-1.0, 1.0, 20)]
    made = ReferenceNull("test null", "made up", "none", 10, 12, tuple(samples),
                         {d.name: d.weights_sha256 for d in prov.detectors})
    path = tmp_path / "null.json"
    path.write_text(json.dumps(made.to_dict()), encoding="utf-8")
    monkeypatch.setattr("engine.fusion.reference.null_file", lambda: path)
    return made


def _add_video(store: CaseStore, case_id: int, folder: Path, name: str, seed: int, *,
               n_frames: int = 32, shift: float = 0.0) -> tuple[EvidenceRecord, int]:
    path = folder / name
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    item = store.hash_and_add_evidence(case_id, path, actor="A. Analyst", sha256_fn=hash_file)
    result = _with_kinds(make_result(path, item.sha256, n_frames=n_frames, seed=seed))
    if shift:
        frames = tuple(dataclasses.replace(f, scores=tuple(
            dataclasses.replace(s, p_fake=None if s.p_fake is None
                                else float(np.clip(s.p_fake + shift, 0.0, 1.0)))
            for s in f.scores)) for f in result.frames)
        result = dataclasses.replace(result, frames=frames)
    analysis = store.record_analysis(item.id, result, actor="A. Analyst")
    return item, analysis.id


@pytest.fixture
def case_id(store: CaseStore) -> int:
    return store.create_case(number="2026-5", title="Stream clip", analyst="A. Analyst",
                             actor="A. Analyst").id


def test_a_comparison_is_made_from_the_stored_analyses_kept_whole_and_audited(
        store: CaseStore, case_id: int, tmp_path: Path, null: ReferenceNull) -> None:
    suspect_item, suspect_id = _add_video(store, case_id, tmp_path, "suspect.mp4", 1,
                                          shift=-0.2)
    reference_item, reference_id = _add_video(store, case_id, tmp_path, "genuine.mp4", 2,
                                              shift=-0.5)
    record = store.record_reference_comparison(suspect_id, reference_id, actor="A. Analyst")
    assert (record.suspect_file_name, record.reference_file_name) == ("suspect.mp4",
                                                                       "genuine.mp4")
    face_swap = record.comparison.deltas[0]
    assert face_swap.name == "kind:face_swap"
    assert face_swap.delta > 0
    assert record.comparison.null == null
    assert "a face swap or blend" in record.statement
    (stored,) = store.reference_comparisons(case_id)
    assert stored == record
    assert store.reference_comparisons(case_id, suspect_evidence_id=suspect_item.id) == (record,)
    assert store.reference_comparisons(case_id, suspect_evidence_id=reference_item.id) == ()
    assert isinstance(stored.comparison, ReferenceComparison)
    entry = store.audit_entries(case_id)[-1]
    assert entry.action == "reference.compared"
    assert entry.payload["statement"] == record.statement
    assert entry.payload["reference_sha256"] == record.comparison.reference_sha256
    report = store.verify_audit_chain()
    assert report.ok, report


def test_what_cannot_be_compared_is_refused_and_nothing_is_stored(
        store: CaseStore, case_id: int, tmp_path: Path, null: ReferenceNull) -> None:
    _, suspect_id = _add_video(store, case_id, tmp_path, "suspect.mp4", 1)
    _, short_id = _add_video(store, case_id, tmp_path, "short.mp4", 3, n_frames=6)
    other_case = store.create_case(number="2026-6", title="Other", analyst="B", actor="B").id
    _, foreign_id = _add_video(store, other_case, tmp_path, "elsewhere.mp4", 4)
    n_entries = len(store.audit_entries())
    with pytest.raises(ReferenceRefusedError, match="cannot be its own reference"):
        store.record_reference_comparison(suspect_id, suspect_id, actor="A. Analyst")
    with pytest.raises(ReferenceRefusedError, match="belong to different cases"):
        store.record_reference_comparison(suspect_id, foreign_id, actor="A. Analyst")
    with pytest.raises(ReferenceRefusedError, match="at least 12 scored frames"):
        store.record_reference_comparison(suspect_id, short_id, actor="A. Analyst")
    assert store.reference_comparisons(case_id) == ()
    assert len(store.audit_entries()) == n_entries


def test_a_comparison_cannot_be_changed_or_deleted_and_an_edit_is_named(
        store: CaseStore, case_id: int, tmp_path: Path, null: ReferenceNull) -> None:
    _, suspect_id = _add_video(store, case_id, tmp_path, "suspect.mp4", 1)
    _, reference_id = _add_video(store, case_id, tmp_path, "genuine.mp4", 2)
    record = store.record_reference_comparison(suspect_id, reference_id, actor="A. Analyst")
    with closing(sqlite3.connect(store.db_path, isolation_level=None)) as raw:
        for statement in ("UPDATE reference_comparisons SET statement = 'fine'",
                          "DELETE FROM reference_comparisons"):
            with pytest.raises(sqlite3.DatabaseError, match="reference comparisons are kept"):
                raw.execute(statement)
        raw.execute("DROP TRIGGER reference_comparisons_no_update")
        raw.execute("UPDATE reference_comparisons SET comparison_json = "
                    "replace(comparison_json, 'kind:face_swap', 'kind:temporal')")
    (altered,) = store.reference_comparisons(case_id)  # read as it now is, like an analysis
    assert altered.comparison.deltas[0].name == "kind:temporal"
    report = store.verify_audit_chain()  # and named by the verification every report prints
    assert not report.ok
    assert any(f"Reference comparison #{record.id} was edited" in p and "comparison changed" in p
               for p in report.problems)
    with closing(sqlite3.connect(store.db_path, isolation_level=None)) as raw:
        raw.execute("UPDATE reference_comparisons SET comparison_json = '[1, 2]'")
    with pytest.raises(CaseStoreError, match="cannot be read"):
        store.reference_comparisons(case_id)
    out = tmp_path / "report.pdf"  # one unreadable row never stops the report
    summary = build_case_report(store, case_id, out, actor="A. Analyst", sha256_fn=hash_file,
                                detector_cards=[])
    assert not summary.chain.ok
    assert out.stat().st_size > 0


def test_the_report_prints_each_comparison_under_its_suspect_with_its_count_and_limits(
        store: CaseStore, case_id: int, tmp_path: Path, null: ReferenceNull) -> None:
    import pypdf

    _, suspect_id = _add_video(store, case_id, tmp_path, "suspect.mp4", 1, shift=0.2)
    _, reference_id = _add_video(store, case_id, tmp_path, "genuine.mp4", 2, shift=-0.3)
    record = store.record_reference_comparison(suspect_id, reference_id, actor="A. Analyst")
    out = tmp_path / "report.pdf"
    build_case_report(store, case_id, out, actor="A. Analyst", sha256_fn=hash_file,
                      detector_cards=[])
    text = " ".join(" ".join((page.extract_text() or "").split())
                    for page in pypdf.PdfReader(out).pages)
    assert text.count("Comparison with reference footage") == 1  # under the suspect only
    assert "Set against genuine.mp4" in text
    face_swap = record.comparison.deltas[0]
    assert f"{face_swap.null_at_least} of {face_swap.null_n}" in text
    assert "not how much footage of another day, camera or encoding does" in text
    assert " ".join(record.statement.split()[:8]) in text
