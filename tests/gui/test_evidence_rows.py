"""The evidence table's rows, read from the summaries, say what the full results would say."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.types import Grade
from forensic_gui.cases import db as case_db
from forensic_gui.cases.repository import CaseStore
from forensic_gui.evidence_rows import _finding_text, build_evidence_rows, finding_summary
from forensic_gui.tasks import StoreAccess
from tests.cases.fabricate import FAILED_ANALYSIS_MESSAGE, mixed_case


def test_rows_match_the_rebuilt_results(store: CaseStore, tmp_path: Path) -> None:
    items = mixed_case(store, tmp_path)

    texts = [row.finding_text for row in build_evidence_rows(store, items[0].case_id)]

    expected = []
    for item in items:
        analysis = store.latest_analysis(item.id)
        expected.append(finding_summary(None if analysis is None else analysis.result))
    assert texts == expected
    assert texts[1:] == [
        "no face found",
        f"analysis failed: {FAILED_ANALYSIS_MESSAGE}",
        "not analysed",
    ]
    assert texts[0].endswith(")")  # a graded finding with its p_fake


def test_a_fused_p_fake_just_below_a_band_edge_is_not_shown_on_it() -> None:
    # 0.4990 is "no support" (the weak band starts at 0.50); two decimals printed "(0.50)".
    text = _finding_text("ok", None, Grade.NO_SUPPORT, 0.4990)
    assert text == f"{Grade.NO_SUPPORT.value} (0.499)"


def test_a_picture_without_a_face_shows_its_whole_picture_finding() -> None:
    """Generated-image detectors score whole pictures: a faceless picture still has a finding."""
    text = _finding_text("no_face", None, Grade.STRONG, 0.97, "generated")
    assert text == "strong support for a fully generated face or image (0.970; no face)"
    assert _finding_text("no_face", None, Grade.NOT_APPLICABLE, None) == "no face found"
    assert _finding_text("no_face", None, None, None) == "no face found"


def test_worker_stores_skip_the_integrity_check(
    store: CaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_args: object) -> None:
        raise AssertionError("quick_check ran for a worker's store")

    monkeypatch.setattr(case_db, "_integrity_check", fail)
    with StoreAccess(store.db_path, "A").open() as worker_store:
        assert worker_store.list_cases() == ()


def test_the_list_names_the_kind_of_manipulation_the_finding_supports() -> None:
    from forensic_gui.cases.records import AnalysisSummary
    from forensic_gui.evidence_rows import summary_text

    when = datetime(2026, 1, 1, tzinfo=UTC)
    swap = AnalysisSummary(1, when, Grade.MODERATE, 0.8123, "ok", kind="face_swap")
    assert summary_text(swap) == "moderate support for a face swap or blend (0.812)"
    old = AnalysisSummary(2, when, Grade.WEAK, 0.61, "ok")  # fusion v1: no kind was named
    assert summary_text(old) == "weak support for manipulation (0.610)"
    none = AnalysisSummary(3, when, Grade.NO_SUPPORT, 0.2, "ok", kind="generated")
    assert summary_text(none) == "no support for manipulation (0.200)"
