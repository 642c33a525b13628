"""Evidence whose file name is not valid UTF-8: stored, verified, analysed and reported.

Such a name used to make the whole folder import add nothing (SQLite text cannot hold it). The
store keeps the printable form (``\\xNN`` for each undecodable byte) as the text everyone sees,
and the exact bytes beside it to open the file again; the audit chain and the report work.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pypdf

from forensic_gui.cases import CaseStore, KeyFrameImage
from forensic_gui.cases.report_pdf import build_case_report
from tests.cases.fabricate import detector_cards, hash_file, make_result, png_bytes


def _odd_file(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    raw = os.path.join(os.fsencode(folder), b"clip_\xff\xfe_caf\xe9.mp4")
    with open(raw, "wb") as fh:
        fh.write(np.random.default_rng(3).integers(0, 256, 30_000, np.uint8).tobytes())
    return Path(os.fsdecode(raw))


def test_a_non_utf8_name_is_stored_opened_verified_and_reported(store: CaseStore,
                                                                tmp_path: Path) -> None:
    path = _odd_file(tmp_path / "evidence")
    case = store.create_case(number="U-1", title="Bytes", analyst="A", actor="A")
    item = store.hash_and_add_evidence(case.id, path, actor="A", sha256_fn=hash_file)
    assert item.file_name == "clip_\\xff\\xfe_caf\\xe9.mp4"
    assert item.original_path.endswith(item.file_name)
    assert item.open_path == str(path)  # the exact bytes: the file opens again
    assert store.verify_evidence(item.id, actor="A").ok
    result = make_result(path, item.sha256)
    store.record_analysis(item.id, result, actor="A",
                          key_frames=[KeyFrameImage(1, "key", png_bytes("k"), 0.1)])
    assert store.latest_analysis(item.id).result.path == item.original_path
    assert store.verify_audit_chain().ok
    out = tmp_path / "report.pdf"
    summary = build_case_report(store, case.id, out, actor="A", sha256_fn=hash_file,
                                detector_cards=detector_cards())
    assert all(check.ok for check in summary.evidence_checks)
    text = " ".join(re.sub(r"\s+", " ", p.extract_text()) for p in pypdf.PdfReader(out).pages)
    assert "clip_\\xff\\xfe_caf\\xe9.mp4" in text


def test_the_exact_name_survives_a_reopen(tmp_path: Path) -> None:
    path = _odd_file(tmp_path / "evidence")
    db = tmp_path / "cases.sqlite3"
    with CaseStore.open(db) as store:
        case = store.create_case(number="U-2", title="Bytes", analyst="A", actor="A")
        item_id = store.hash_and_add_evidence(case.id, path, actor="A", sha256_fn=hash_file).id
    with CaseStore.open(db) as store:
        assert os.fsencode(store.get_evidence(item_id).open_path) == os.fsencode(path)
        assert store.verify_audit_chain().ok
