"""The case store's public API end to end: case -> evidence -> analysis -> verdict -> audit."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from engine.api import result_to_dict
from forensic_gui.cases import (
    AnalystVerdict,
    CaseDbError,
    CaseStatus,
    CaseStore,
    DuplicateCaseNumberError,
    EvidenceRecord,
    InvalidFieldError,
    KeyFrameImage,
    RecordNotFoundError,
)
from tests.cases.fabricate import hash_file, make_result, png_bytes


def test_workflow_records_everything_and_the_chain_verifies(
    store: CaseStore, analysed: EvidenceRecord, evidence_file: Path
) -> None:
    analysis = store.latest_analysis(analysed.id)
    assert analysis is not None
    expected = make_result(evidence_file, analysed.sha256)
    assert result_to_dict(analysis.result) == result_to_dict(expected)
    assert analysis.detectors == ("sbi_effl0", "xray_hrnet18")
    assert analysis.runtime == "onnx"
    assert analysis.elapsed_s == pytest.approx(4.7)

    per_frame = [s for s in store.frame_scores(analysis.id) if s.track_id is None]
    assert len(per_frame) == 12 * 2
    gaps = [s for s in per_frame if s.p_fake is None]
    assert {(s.frame_idx, s.detector, s.reason) for s in gaps} == {
        (50, "xray_hrnet18", "face too small"),
        (60, "xray_hrnet18", "face too small"),
    }
    per_face = [s for s in store.frame_scores(analysis.id) if s.track_id is not None]
    assert {s.track_id for s in per_face} == {0, 1}
    first_face = per_face[0]
    assert first_face.frame_idx is not None
    assert first_face.t_sec == pytest.approx(first_face.frame_idx / 25.0)

    media_finding = [f for f in store.findings(analysis.id) if f.scope == "media"]
    assert len(media_finding) == 1
    assert expected.finding is not None
    assert media_finding[0].grade == expected.finding.grade
    assert [k.frame_idx for k in store.key_frames(analysis.id)] == [30, 60]
    assert store.key_frames(analysis.id)[0].mime == "image/png"

    verdicts = store.verdicts(analysed.id)
    assert [v.verdict for v in verdicts] == [
        AnalystVerdict.INCONCLUSIVE,
        AnalystVerdict.MANIPULATED,
    ]
    assert [v.is_current for v in verdicts] == [False, True]
    assert verdicts[1].supersedes_id == verdicts[0].id

    actions = [e.action for e in store.audit_entries(analysed.case_id)]
    assert actions == [
        "case.created",
        "evidence.added",
        "analysis.recorded",
        "verdict.recorded",
        "verdict.recorded",
    ]
    chain = store.verify_audit_chain()
    assert chain.ok, chain.problems
    assert chain.n_entries == 5


def test_records_are_frozen(store: CaseStore, added: EvidenceRecord) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        added.sha256 = "0" * 64  # type: ignore[misc]


def test_analysis_is_one_transaction(
    store: CaseStore, added: EvidenceRecord, evidence_file: Path
) -> None:
    result = make_result(evidence_file, added.sha256)
    bad_frame = result.frames[3]
    bad_score = dataclasses.replace(bad_frame.scores[0], p_fake=1.5)  # violates a CHECK
    broken = dataclasses.replace(
        result,
        frames=(
            *result.frames[:3],
            dataclasses.replace(bad_frame, scores=(bad_score,)),
            *result.frames[4:],
        ),
    )
    n_before = len(store.audit_entries())
    with pytest.raises(CaseDbError, match="could not be written"):
        store.record_analysis(added.id, broken, actor="A. Analyst")
    assert store.latest_analysis(added.id) is None
    assert len(store.audit_entries()) == n_before
    assert store.verify_audit_chain().ok


def test_key_frame_must_be_an_image(
    store: CaseStore, added: EvidenceRecord, evidence_file: Path
) -> None:
    result = make_result(evidence_file, added.sha256)
    frames = [KeyFrameImage(0, "ok", png_bytes()), KeyFrameImage(10, "bad", b"not an image")]
    with pytest.raises(InvalidFieldError, match="Key frame 10"):
        store.record_analysis(added.id, result, actor="A. Analyst", key_frames=frames)
    assert store.latest_analysis(added.id) is None


def test_committed_verdicts_survive_a_new_store(tmp_path: Path, evidence_file: Path) -> None:
    db_path = tmp_path / "cases.sqlite3"
    with CaseStore.open(db_path) as first:
        case = first.create_case(number="C-1", title="t", analyst="B", actor="B")
        item = first.hash_and_add_evidence(case.id, evidence_file, actor="B", sha256_fn=hash_file)
        first.record_verdict(
            item.id,
            analyst="B",
            verdict=AnalystVerdict.AUTHENTIC,
            rationale="Consistent compression throughout.",
            actor="B",
        )
    with CaseStore.open(db_path) as second:
        verdicts = second.verdicts(item.id)
        assert [(v.verdict, v.rationale) for v in verdicts] == [
            (AnalystVerdict.AUTHENTIC, "Consistent compression throughout.")
        ]
        assert second.verify_audit_chain().ok


def test_update_case_logs_old_and_new_values(store: CaseStore) -> None:
    case = store.create_case(number="C-1", title="old", analyst="B", actor="B")
    updated = store.update_case(case.id, actor="C", title="new", status="closed")
    assert (updated.title, updated.status) == ("new", CaseStatus.CLOSED)
    entry = store.audit_entries(case.id)[-1]
    assert (entry.action, entry.actor) == ("case.updated", "C")
    assert entry.payload == {"changes": {"title": ["old", "new"], "status": ["open", "closed"]}}
    assert store.get_case(case.id) == updated


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"colour": "red"}, InvalidFieldError),
        ({"status": "lost"}, InvalidFieldError),
        ({"title": "  "}, InvalidFieldError),
        ({"number": "C-2"}, DuplicateCaseNumberError),
    ],
)
def test_update_case_refuses_bad_fields(
    store: CaseStore, fields: dict[str, str], error: type[Exception]
) -> None:
    case = store.create_case(number="C-1", title="t", analyst="B", actor="B")
    store.create_case(number="C-2", title="t", analyst="B", actor="B")
    with pytest.raises(error):
        store.update_case(case.id, actor="B", **fields)
    assert store.get_case(case.id).title == "t"


def test_duplicate_number_and_unknown_ids(store: CaseStore) -> None:
    store.create_case(number="C-1", title="t", analyst="B", actor="B")
    with pytest.raises(DuplicateCaseNumberError, match="C-1"):
        store.create_case(number="C-1", title="other", analyst="B", actor="B")
    with pytest.raises(RecordNotFoundError):
        store.get_case(99)
    with pytest.raises(RecordNotFoundError):
        store.verdicts(99)


def test_verdict_must_be_from_the_fixed_set(store: CaseStore, added: EvidenceRecord) -> None:
    with pytest.raises(InvalidFieldError, match="'authentic', 'manipulated', 'inconclusive'"):
        store.record_verdict(
            added.id, analyst="B", verdict="probably fake", rationale="r", actor="B"
        )
    with pytest.raises(InvalidFieldError, match="rationale"):
        store.record_verdict(added.id, analyst="B", verdict="authentic", rationale=" ", actor="B")
    assert store.verdicts(added.id) == ()


def test_actor_is_required(store: CaseStore) -> None:
    with pytest.raises(InvalidFieldError, match="actor"):
        store.create_case(number="C-1", title="t", analyst="B", actor="")
    assert store.list_cases() == ()


def test_no_face_result_keeps_not_applicable(
    store: CaseStore, added: EvidenceRecord, evidence_file: Path
) -> None:
    result = dataclasses.replace(
        make_result(evidence_file, added.sha256, n_frames=1),
        status="no_face",
        frames=(),
        tracks=(),
        scores=(),
        finding=None,
    )
    record = store.record_analysis(added.id, result, actor="B")
    assert record.status == "no_face"
    assert store.scores(record.id) == ()
    rebuilt = store.latest_analysis(added.id)
    assert rebuilt is not None
    assert rebuilt.result.finding is None
