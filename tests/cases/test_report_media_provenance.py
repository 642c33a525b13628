"""The report's "Media provenance" section: C2PA state, AI declaration, inconsistencies, filters."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pypdf

from engine.api import inspect_provenance
from forensic_gui.cases import CaseStore, EvidenceRecord
from forensic_gui.cases.report_pdf import build_case_report
from tests.cases.fabricate import hash_file, make_result
from tests.provenance_media import (
    jpeg_bytes,
    make_pki,
    sign_jpeg,
    tamper_pixels,
    textured_rgb,
    with_metadata,
    write,
)


def _text(path: Path) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pypdf.PdfReader(path).pages))


def test_section_prints_state_declaration_inconsistencies_and_guidance(
    store: CaseStore, added: EvidenceRecord, evidence_file: Path, tmp_path: Path
) -> None:
    signed = sign_jpeg(with_metadata(jpeg_bytes(textured_rgb(120, 160)), {
        "Exif.Image.Software": "Adobe Photoshop 25.0", "Exif.GPSInfo.GPSLatitudeRef": "N",
        "Exif.GPSInfo.GPSLatitude": "48/1 51/1 0/1", "Exif.GPSInfo.GPSLongitudeRef": "E",
        "Exif.GPSInfo.GPSLongitude": "2/1 21/1 0/1"}), make_pki())
    record = inspect_provenance(write(tmp_path / "photo.jpg", tamper_pixels(signed)))
    result = dataclasses.replace(make_result(evidence_file, added.sha256),
                                 file_provenance=record)
    store.record_analysis(added.id, result, actor="A. Analyst")
    out = tmp_path / "report.pdf"
    build_case_report(store, added.case_id, out, actor="R", sha256_fn=hash_file,
                      detector_cards=[])
    text = _text(out)
    assert "Media provenance" in text
    assert "FAILS VALIDATION" in text
    assert "assertion.dataHash.mismatch" in text
    assert "The manifest declares generative-AI content" in text
    assert "LOOK AT THIS FIRST" in text
    assert "Editing software named in the metadata" in text
    assert "Personal data" in text  # the GPS privacy note
    assert "none ship with this application" in text  # the trust anchors used
    assert "never proof of manipulation" in text
    for title in ("Error level (ELA)", "Noise residual", "JPEG ghosts"):
        assert title in text
    assert "What not to conclude" in text


def test_item_without_provenance_says_so(store: CaseStore, analysed: EvidenceRecord,
                                         tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    build_case_report(store, analysed.case_id, out, actor="R", sha256_fn=hash_file,
                      detector_cards=[])
    assert "made before media provenance was read" in _text(out)
