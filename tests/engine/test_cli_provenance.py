"""forensic-analyze --csv and --c2pa-trust: the triage table and trust anchors from the CLI."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from engine.cli import main
from tests.provenance_media import (
    jpeg_bytes,
    make_pki,
    sign_jpeg,
    tamper_pixels,
    textured_rgb,
    write,
)


def test_unusable_trust_list_is_a_usage_error(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    bad = write(tmp_path / "bad.pem", b"not a certificate")
    with pytest.raises(SystemExit) as stopped:
        main([str(tmp_path), "--c2pa-trust", str(bad)])
    assert stopped.value.code == 2
    assert "--c2pa-trust" in capsys.readouterr().err


@pytest.mark.slow
def test_csv_and_json_carry_provenance(tmp_path: Path) -> None:
    folder = tmp_path / "evidence"
    folder.mkdir()
    pki = make_pki()
    signed = sign_jpeg(jpeg_bytes(textured_rgb(240, 320)), pki)
    write(folder / "a_signed.jpg", signed)
    write(folder / "b_tampered.jpg", tamper_pixels(signed))
    write(folder / "c_notes.txt", b"not media\n")
    root = write(tmp_path / "root.pem", pki.root_pem)
    out, table = tmp_path / "out.jsonl", tmp_path / "triage.csv"
    assert main([str(folder), "--quiet", "--frames", "2", "--jsonl", str(out), "--csv",
                 str(table), "--c2pa-trust", str(root)]) == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    states = [line["file_provenance"]["c2pa"]["state"] for line in lines]
    assert states == ["trusted", "invalid", "not_checked"]
    rows = list(csv.DictReader(io.StringIO(table.read_text(encoding="utf-8"))))
    assert [Path(r["path"]).name for r in rows] == ["a_signed.jpg", "b_tampered.jpg",
                                                    "c_notes.txt"]
    assert [r["c2pa_state"] for r in rows] == states
    assert rows[1]["top_inconsistencies"].startswith(
        "[look at this first] Content Credentials fail validation")
    assert rows[2]["status"] == "error"
    assert all(len(r["sha256"]) == 64 for r in rows)


def test_the_triage_table_has_reference_columns_only_with_a_reference() -> None:
    from engine.triage_csv import COLUMNS, REFERENCE_COLUMNS, TriageCsv, reference_cells

    plain: list[str] = []
    TriageCsv(plain.append)
    assert plain == [",".join(COLUMNS) + "\n"]  # the table of a run without --reference
    with_ref: list[str] = []
    TriageCsv(with_ref.append, with_reference=True)
    assert with_ref == [",".join(COLUMNS + REFERENCE_COLUMNS) + "\n"]
    assert reference_cells("suspect", {"statement": "s", "cautions": ["a", "b"]}) == {
        "role": "suspect", "reference_statement": "s", "reference_cautions": "a | b"}
    assert reference_cells("suspect", {"error": "too short"})["reference_statement"] == (
        "not compared: too short")
