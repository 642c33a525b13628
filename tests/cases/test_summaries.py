"""The cheap ``latest_analysis_summaries`` agrees with ``latest_analysis``."""

from __future__ import annotations

from pathlib import Path

import pytest

from forensic_gui.cases import AnalysisSummary, CaseNotFoundError, CaseStore, EvidenceRecord
from tests.cases.fabricate import FAILED_ANALYSIS_MESSAGE, mixed_case


def _expected(store: CaseStore, evidence_id: int) -> AnalysisSummary | None:
    analysis = store.latest_analysis(evidence_id)
    if analysis is None:
        return None
    finding = analysis.result.finding
    return AnalysisSummary(
        analysis_id=analysis.id,
        created_at_utc=analysis.created_at_utc,
        grade=None if finding is None else finding.grade,
        p_fake=None if finding is None else finding.p_fake,
        status=analysis.status,
        error=analysis.result.error,
    )


def test_summaries_agree_with_latest_analysis(store: CaseStore, tmp_path: Path) -> None:
    items = mixed_case(store, tmp_path)
    twice, no_face, failed, _never = items

    summaries = store.latest_analysis_summaries(twice.case_id)

    assert set(summaries) == {twice.id, no_face.id, failed.id}
    for item in items:
        assert summaries.get(item.id) == _expected(store, item.id)
    recorded = [int(e.object_id) for e in store.audit_entries() if e.action == "analysis.recorded"]
    assert summaries[twice.id].analysis_id == recorded[1]  # the second analysis of ``twice``
    assert summaries[twice.id].grade is not None
    assert summaries[twice.id].p_fake is not None
    assert summaries[failed.id].error == FAILED_ANALYSIS_MESSAGE
    assert summaries[no_face.id].grade is None


def test_summaries_are_per_case(store: CaseStore, analysed: EvidenceRecord) -> None:
    other = store.create_case(number="S-2", title="other", analyst="A", actor="A")
    assert store.latest_analysis_summaries(other.id) == {}
    assert set(store.latest_analysis_summaries(analysed.case_id)) == {analysed.id}
    with pytest.raises(CaseNotFoundError):
        store.latest_analysis_summaries(other.id + 100)
