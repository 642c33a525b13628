"""Tamper evidence beyond ``test_audit.py``: what an attacker with the files could do is reported.

``test_audit.py`` covers an edited entry, an edit with a recomputed hash, a deleted middle
entry and a deleted last entry. Here: the chain head itself attacked, the whole log truncated,
a forged entry appended, the records (evidence hash, analysis, verdicts) edited behind the
log's back, the verification status the PDF report prints, and swapped model files refused by
the engine and the CLI with the file and both hashes named. Every attack goes through a raw
``sqlite3`` connection or the file system, with the guard triggers dropped where they would
refuse it, as an attacker with the files would.

The app's message boxes for the same failures are checked in ``tests/gui/test_tamper_gui.py``.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pypdf
import pytest

from engine.errors import WeightsIntegrityError
from engine.runtime.weights import WeightsStore, default_models_dir, sha256_file
from forensic_gui.cases import CaseStore, EvidenceRecord
from forensic_gui.cases.audit import entry_hash
from forensic_gui.cases.report_pdf import build_case_report
from tests.cases.fabricate import detector_cards, hash_file
from tests.conftest import REPO_ROOT

# The ``analysed`` fixture's log: 1 case.created, 2 evidence.added, 3 analysis.recorded,
# 4 verdict.recorded (verdict 1), 5 verdict.recorded (verdict 2, current).


def _attack(store: CaseStore, *statements: str, drop: tuple[str, ...] = ()) -> None:
    with closing(sqlite3.connect(store.db_path, isolation_level=None)) as raw:
        for trigger in drop:
            raw.execute(f"DROP TRIGGER {trigger}")
        for statement in statements:
            raw.execute(statement)


# -- the log and its head --------------------------------------------------------------------


@pytest.mark.usefixtures("analysed")
def test_untouched_store_verifies_records_included(store: CaseStore) -> None:
    report = store.verify_audit_chain()
    assert report.ok, report.problems
    assert report.n_entries == 5


@pytest.mark.usefixtures("analysed")
@pytest.mark.parametrize(
    ("statements", "drop", "expected"),
    [
        pytest.param(
            ("DELETE FROM audit_head",),
            ("audit_head_no_delete",),
            "The audit chain head is missing: it was deleted.",
            id="head-deleted",
        ),
        pytest.param(
            ("DELETE FROM audit_events",),
            ("audit_events_no_delete",),
            "The audit chain head records 5 entries up to #5, but the log ends at #0: the "
            "newest entries were deleted.",
            id="whole-log-deleted",
        ),
        pytest.param(
            ("DELETE FROM audit_events WHERE seq >= 4",),
            ("audit_events_no_delete",),
            "The audit chain head records 5 entries up to #5, but the log ends at #3: the "
            "newest entries were deleted.",
            id="last-two-deleted",
        ),
        pytest.param(
            # NOTE: the real hash starts with "ab" one time in 256; the edit must change it
            ("UPDATE audit_head SET last_hash = CASE WHEN last_hash LIKE 'ab%' THEN 'cd' "
             "ELSE 'ab' END || substr(last_hash, 3)",),
            ("audit_head_matches_log",),
            "The audit chain head (#5, ",
            id="head-hash-edited",
        ),
    ],
)
def test_attacks_on_the_log_and_head_are_named(
    store: CaseStore, statements: tuple[str, ...], drop: tuple[str, ...], expected: str
) -> None:
    _attack(store, *statements, drop=drop)
    report = store.verify_audit_chain()
    assert not report.ok
    assert any(problem.startswith(expected) for problem in report.problems), report.problems


@pytest.mark.usefixtures("analysed")
def test_forged_entry_appended_without_the_head_is_named(store: CaseStore) -> None:
    last = store.audit_entries()[-1]
    fields = {
        "seq": 6, "ts_utc": "2030-01-01T00:00:00.000000Z", "actor": "mallory",
        "action": "verdict.recorded", "object_type": "analyst_verdict", "object_id": "2",
        "case_id": last.case_id, "payload_json": "{}", "prev_hash": last.hash,
    }
    forged = entry_hash(fields)
    with closing(sqlite3.connect(store.db_path, isolation_level=None)) as raw:
        for trigger in ("audit_events_in_order", "audit_events_advance_head"):
            raw.execute(f"DROP TRIGGER {trigger}")
        raw.execute("INSERT INTO audit_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (*fields.values(), forged))
    report = store.verify_audit_chain()
    assert report.problems == (
        f"The audit chain head (#5, {last.hash[:12]}...) does not match the last entry "
        f"(#6, {forged[:12]}...): the head or the log was edited.",
    )


@pytest.mark.usefixtures("analysed")
def test_consistent_rewrite_of_the_tail_is_caught_only_by_the_printed_anchor(
    store: CaseStore,
) -> None:
    """The documented limit: deleting the newest entry AND rewinding the head cannot be seen in
    the file alone; the head hash printed in an earlier report no longer matches."""
    anchor = store.verify_audit_chain().head_hash
    entry_4 = store.audit_entries()[3]
    _attack(
        store,
        "DELETE FROM audit_events WHERE seq = 5",
        "DELETE FROM analyst_verdicts WHERE id = 2",
        f"UPDATE audit_head SET n_entries = 4, last_seq = 4, last_hash = '{entry_4.hash}'",
        drop=("audit_events_no_delete", "analyst_verdicts_no_delete", "audit_head_matches_log"),
    )
    report = store.verify_audit_chain()
    assert report.ok  # nothing inside the file contradicts the rewrite ...
    assert report.head_hash != anchor  # ... but the report printed earlier does


# -- the records behind the log --------------------------------------------------------------


@pytest.mark.parametrize(
    ("statements", "drop", "expected"),
    [
        pytest.param(
            ("UPDATE evidence SET sha256 = '" + "0" * 64 + "' WHERE id = 1",),
            (),
            "Evidence item #1 (clip 01.mp4) was edited: it no longer matches audit entry #2 "
            "(sha256 changed).",
            id="evidence-hash-rewritten",
        ),
        pytest.param(
            ("UPDATE analyst_verdicts SET verdict = 'authentic', rationale = 'fine' WHERE id = 2",),
            ("analyst_verdicts_no_update",),
            "Analyst verdict #2 was edited: it no longer matches audit entry #5 (verdict, "
            "rationale changed).",
            id="verdict-rewritten",
        ),
        pytest.param(
            ("DELETE FROM analyst_verdicts WHERE id = 2",),
            ("analyst_verdicts_no_delete",),
            "Audit entry #5 (verdict.recorded) names analyst verdict #2, which is no longer in "
            "the database: it was deleted.",
            id="verdict-deleted",
        ),
        pytest.param(
            ("INSERT INTO analyst_verdicts (evidence_id, analyst, verdict, rationale, "
             "created_at_utc, supersedes_id) VALUES (1, 'mallory', 'authentic', 'x', "
             "'2030-01-01 00:00:00.000000', 2)",),
            (),
            "Analyst verdict #3 has no audit entry: it was written into the database outside "
            "the application.",
            id="verdict-inserted",
        ),
        pytest.param(
            ("UPDATE analyses SET result_json = replace(result_json, '\"ok\"', '\"no_face\"')",),
            (),
            "Analysis #1 was edited: it no longer matches audit entry #3 (stored result changed).",
            id="result-rewritten",
        ),
        pytest.param(
            ("UPDATE key_frames SET image_bytes = (SELECT image_bytes FROM key_frames "
             "WHERE id = 2), image_sha256 = (SELECT image_sha256 FROM key_frames WHERE id = 2) "
             "WHERE id = 1",),
            (),
            "Analysis #1 was edited: it no longer matches audit entry #3 (key frames changed).",
            id="key-frame-swapped",
        ),
    ],
)
def test_records_edited_behind_the_log_are_named(
    store: CaseStore, analysed: EvidenceRecord, statements: tuple[str, ...],
    drop: tuple[str, ...], expected: str,
) -> None:
    _attack(store, *statements, drop=drop)
    report = store.verify_audit_chain()
    assert not report.ok
    assert expected in report.problems, report.problems


def test_evidence_swapped_with_its_hash_rewritten_is_still_reported(
    store: CaseStore, analysed: EvidenceRecord, evidence_file: Path
) -> None:
    """Modify the file and set its recorded hash to match: the re-check passes, the log does not."""
    evidence_file.write_bytes(b"a different clip")
    forged = hash_file(evidence_file)
    _attack(store, f"UPDATE evidence SET sha256 = '{forged}', size_bytes = 16 WHERE id = 1")
    assert store.verify_evidence(analysed.id, actor="A", sha256_fn=hash_file).ok  # fooled ...
    report = store.verify_audit_chain()  # ... but not the records check
    assert "Evidence item #1 (clip 01.mp4) was edited: it no longer matches audit entry #2 " \
        "(size_bytes, sha256 changed)." in report.problems
    assert "Analysis #1 was edited: it no longer matches audit entry #3 (evidence item changed)." \
        in report.problems


def _pdf_text(path: Path) -> str:
    pages = pypdf.PdfReader(path).pages
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in pages))


@pytest.mark.usefixtures("analysed")
def test_report_prints_the_failed_verification(store: CaseStore, tmp_path: Path) -> None:
    _attack(store, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 4",
            drop=("audit_events_no_update",))
    out = tmp_path / "report.pdf"
    summary = build_case_report(store, 1, out, actor="R", sha256_fn=hash_file,
                                detector_cards=detector_cards())
    assert not summary.chain.ok
    text = _pdf_text(out)
    assert "CHAIN VERIFICATION FAILED (1 problem(s))" in text
    assert "Audit entry #4 (verdict.recorded by mallory) was edited" in text


# -- swapped model files ---------------------------------------------------------------------


def make_swapped_models(folder: Path) -> tuple[Path, str, str]:
    """A copy of the shipped models (links) in ``folder`` with gan_effl0.onnx replaced by
    another model; returns the swapped file, the card's SHA-256 and the swapped file's."""
    shipped = default_models_dir()
    folder.mkdir()
    for path in shipped.iterdir():
        (folder / path.name).symlink_to(path)
    swapped = folder / "gan_effl0.onnx"
    swapped.unlink()
    shutil.copyfile(shipped / "xray_effl0.onnx", swapped)
    expected = WeightsStore(folder).cfg("gan_effl0").onnx_sha256
    assert expected
    return swapped, expected, sha256_file(swapped)


@pytest.fixture
def swapped_models(tmp_path: Path) -> tuple[Path, str, str]:
    """See :func:`make_swapped_models`."""
    return make_swapped_models(tmp_path / "models")


@pytest.mark.weights
def test_engine_refuses_a_swapped_model_naming_file_and_hashes(
    swapped_models: tuple[Path, str, str],
) -> None:
    from engine.runtime import load_detector

    swapped, expected, found = swapped_models
    with pytest.raises(WeightsIntegrityError) as caught:
        load_detector("gan_effl0", runtime="onnx", models_dir=swapped.parent)
    message = str(caught.value)
    assert f"expected SHA-256 {expected}, found {found}" in message
    assert str(swapped) in message
    load_detector("relation_effl0", runtime="onnx", models_dir=swapped.parent)  # others load


@pytest.mark.weights
def test_cli_reports_a_swapped_model_as_a_setup_error(
    swapped_models: tuple[Path, str, str],
) -> None:
    swapped, expected, found = swapped_models
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", "--quiet",
         str(REPO_ROOT / "resources" / "sample" / "demo_real.mp4")],
        capture_output=True, text=True, check=False, timeout=120,
        env={**_clean_env(), "FORENSIC_MODELS_DIR": str(swapped.parent)},
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""  # no result line pretends the file was analysed
    assert "Traceback" not in done.stderr
    assert "forensic-analyze: cannot load the detectors: onnx weights of 'gan_effl0' fail the " \
        f"integrity check: expected SHA-256 {expected}, found {found}" in done.stderr
    assert str(swapped) in done.stderr


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "FORENSIC_MODELS_DIR"}
