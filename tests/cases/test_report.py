"""The PDF case report: built from the database, verdict separate, provenance and audit shown."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import sqlite3
from pathlib import Path

import pypdf
import pytest

from forensic_gui.cases import CaseStore, EvidenceRecord, KeyFrameImage
from forensic_gui.cases.report_pdf import build_case_report
from tests.cases.fabricate import detector_cards, hash_file, make_result, png_bytes


def _pages(path: Path) -> list[str]:
    reader = pypdf.PdfReader(path)
    # NOTE: collapse whitespace, since pypdf breaks lines wherever the layout wraps them.
    return [re.sub(r"\s+", " ", page.extract_text()) for page in reader.pages]


def test_report_shows_findings_verdict_provenance_and_audit(
    store: CaseStore, analysed: EvidenceRecord, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "report.pdf"
    out.parent.mkdir()
    summary = build_case_report(
        store,
        analysed.case_id,
        out,
        actor="R. Reviewer",
        sha256_fn=hash_file,
        detector_cards=detector_cards(),
    )
    pages = _pages(out)
    text = " ".join(pages)
    assert summary.n_pages == len(pages)
    assert summary.all_evidence_ok
    assert summary.chain.ok
    for i, page in enumerate(pages, start=1):
        assert "Case 2025-017 - Video of the mayor" in page
        assert f"Generated {summary.generated_at_utc:%Y-%m-%d %H:%M:%S} UTC" in page
        assert f"Page {i} of {len(pages)}" in page
    # the analyst's opinion, labelled as such, with the superseded one
    assert "ANALYST'S OPINION - the examiner's own conclusion, not a machine finding" in text
    assert "Verdict: MANIPULATED" in text
    assert "Blending seam at the jaw line in frames 30-70." in text
    assert "Superseded: inconclusive" in text
    # machine findings, provenance and limits
    assert "Machine findings (automated, probabilistic)" in text
    assert "Self-Blended Images (sbi_effl0)" in text
    assert "frame=max over faces; video=mean over frames" in text
    assert hashlib.sha256(b"sbi_effl0").hexdigest()[:32] in text.replace(" ", "")
    assert "weak on fully synthetic (GAN) faces" in text
    assert "this card describes version 0.9.0; the analysis used version 1.0.0" in text
    assert "Frame 30" in text
    assert "Frame with the highest fused score" in text  # key-frame caption from the DB
    # evidence re-verified and the audit chain printed with its status
    assert "OK: matches" in text
    assert "Chain verified" in text
    assert summary.chain.head_hash in text.replace(" ", "")
    assert [e.action for e in store.audit_entries(analysed.case_id)][-2:] == [
        "evidence.verified",
        "report.exported",
    ]
    exported = store.audit_entries(analysed.case_id)[-1]
    assert exported.actor == "R. Reviewer"
    assert (
        exported.payload["sha256"] == summary.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    )
    assert list(out.parent.iterdir()) == [out]  # no temporary file left behind


def test_report_marks_changed_evidence_and_a_broken_chain(
    store: CaseStore, analysed: EvidenceRecord, evidence_file: Path, tmp_path: Path
) -> None:
    with open(evidence_file, "ab") as handle:
        handle.write(b"appended later")
    raw = sqlite3.connect(store.db_path, isolation_level=None)
    raw.execute("DROP TRIGGER audit_events_no_update")
    raw.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
    raw.close()

    out = tmp_path / "report.pdf"
    summary = build_case_report(
        store, analysed.case_id, out, actor="R. Reviewer", sha256_fn=hash_file, detector_cards=[]
    )
    text = " ".join(_pages(out))
    assert not summary.all_evidence_ok
    assert not summary.chain.ok
    assert "MISMATCH: the file content changed since acquisition" in text
    assert "WARNING: at export this file did not match its acquisition hash" in text
    assert "CHAIN VERIFICATION FAILED" in text
    assert "Audit entry #2 (evidence.added by mallory) was edited" in text
    assert "No model card is installed for this detector" in text
    assert store.audit_entries(analysed.case_id)[-2].action == "evidence.hash_mismatch"


def test_report_of_an_unanalysed_item(
    store: CaseStore, added: EvidenceRecord, tmp_path: Path
) -> None:
    out = tmp_path / "report.pdf"
    build_case_report(store, added.case_id, out, actor="B", sha256_fn=hash_file, detector_cards=[])
    text = " ".join(_pages(out))
    assert "This item has not been analysed." in text
    assert "No verdict has been recorded by an analyst." in text


def test_report_for_unknown_case_writes_nothing(store: CaseStore, tmp_path: Path) -> None:
    from forensic_gui.cases import CaseNotFoundError

    with pytest.raises(CaseNotFoundError):
        build_case_report(
            store, 42, tmp_path / "r.pdf", actor="B", sha256_fn=hash_file, detector_cards=[]
        )
    assert not (tmp_path / "r.pdf").exists()


def test_report_layout_names_and_captions(
    store: CaseStore, added: EvidenceRecord, evidence_file: Path, tmp_path: Path
) -> None:
    """No "X (X)" for a card without a display name, no doubled key-frame heading, and the
    first item starts on page 1 under the case summary when it fits."""
    result = make_result(evidence_file, added.sha256)
    caption = "Frame 30 (t = 1.20 s): fused p_fake 0.63, weak support for manipulation."
    frames = [KeyFrameImage(30, caption, png_bytes("f30"), 1.2)]
    store.record_analysis(added.id, result, actor="A. Analyst", key_frames=frames)
    sbi, xray = detector_cards()
    cards = [dataclasses.replace(sbi, display_name=sbi.name), xray]
    out = tmp_path / "report.pdf"
    build_case_report(
        store, added.case_id, out, actor="B", sha256_fn=hash_file, detector_cards=cards
    )
    pages = _pages(out)
    text = " ".join(pages)
    assert "sbi_effl0 (sbi_effl0)" not in text
    assert "Face X-ray (xray_hrnet18)" in text
    assert text.count("Frame 30 (t = 1.20 s)") == 1
    assert "Frame 30, t = 1.20 s" not in text
    assert "Item 1: clip 01.mp4" in pages[0]


def _report_with_finding(store: CaseStore, added: EvidenceRecord, evidence_file: Path,
                         tmp_path: Path, finding: object) -> str:
    """The text of a case report whose one analysis carries ``finding``."""
    result = make_result(evidence_file, added.sha256)
    store.record_analysis(added.id, dataclasses.replace(result, finding=finding),
                          actor="A. Analyst")
    out = tmp_path / "report.pdf"
    build_case_report(store, added.case_id, out, actor="R", sha256_fn=hash_file,
                      detector_cards=detector_cards())
    return " ".join(" ".join(_pages(out)).split())


def test_report_names_the_composites_a_no_support_finding_may_hide(
    store: CaseStore, added: EvidenceRecord, evidence_file: Path, tmp_path: Path,
) -> None:
    """Composites of face parts escape the face-swap detectors
    (engine.evaluation.part_composites): the report says so next to "no support" for a face
    swap."""
    from engine.types import Finding, Grade, KindFinding

    kinds = (KindFinding("face_swap", Grade.NO_SUPPORT, 0.2, ("sbi_effl0",)),)
    text = _report_with_finding(store, added, evidence_file, tmp_path, Finding(
        Grade.NO_SUPPORT, 0.2, ("sbi_effl0",), "test rule", kind="face_swap", kinds=kinds))
    assert "Not seen well" in text
    assert "largely miss a composite of face parts" in text


@pytest.mark.parametrize(("kind", "expected"), [("face_swap", True), ("generated", False)])
def test_report_names_retouching_next_to_a_face_swap_grade(
    store: CaseStore, added: EvidenceRecord, evidence_file: Path, tmp_path: Path,
    kind: str, expected: bool,
) -> None:
    """A face-only beauty filter reads as blending (engine.evaluation.benign_edits): the
    report's findings say so next to a supported face-swap grade, and not for another kind."""
    from engine.types import Finding, Grade

    text = _report_with_finding(store, added, evidence_file, tmp_path, Finding(
        Grade.MODERATE, 0.9, ("sbi_effl0",), "test rule", kind=kind))
    assert ("Also consistent with Retouching of the face alone" in text) is expected
