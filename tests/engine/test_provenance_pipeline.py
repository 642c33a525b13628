"""The metadata step inside an analysis: on the hashed bytes, stored, never fatal; the CSV."""

from __future__ import annotations

import csv
import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.api import AnalysisOptions, Analyzer, result_from_dict, result_to_dict
from engine.cli import result_record
from engine.triage_csv import COLUMNS, TriageCsv, triage_row
from engine.types import MediaResult
from tests.engine.analysis_fakes import FakeDetector, FakeFaceFinder, fake_factory
from tests.provenance_media import jpeg_bytes, make_pki, sign_jpeg, textured_rgb, write


def _analyze(path: Path, trust: Path | None = None) -> MediaResult:
    factory, _ = fake_factory(FakeDetector("a"))
    options = AnalysisOptions(detectors=("a",), c2pa_trust_list=None if trust is None
                              else str(trust))
    with Analyzer(options, detector_factory=factory,  # type: ignore[arg-type]
                  face_detector=FakeFaceFinder(n_faces=1), isolation=None) as analyzer:
        return analyzer.analyze(path)


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("pipe")
    pki = make_pki()
    photo = write(folder / "signed.jpg", sign_jpeg(jpeg_bytes(textured_rgb(300, 400)), pki))
    return photo, write(folder / "root.pem", pki.root_pem)


def test_analysis_reads_provenance_of_the_hashed_bytes(signed: tuple[Path, Path]) -> None:
    photo, root = signed
    result = _analyze(photo, root)
    assert result.status == "ok"
    prov = result.file_provenance
    assert prov is not None
    assert prov.sha256 == result.sha256
    assert "hash to the analysed SHA-256" in prov.same_bytes
    assert prov.c2pa.state == "trusted"
    assert prov.c2pa.trust is not None
    assert prov.c2pa.trust.source == "root.pem"
    assert result.provenance is not None
    stages = [stage for stage, _ in result.provenance.timings_s]
    assert stages.index("hash") < stages.index("metadata") < stages.index("probe")


def test_unreadable_trust_list_is_a_note_not_a_failure(signed: tuple[Path, Path],
                                                       tmp_path: Path) -> None:
    result = _analyze(signed[0], tmp_path / "gone.pem")
    assert result.status == "ok"
    assert result.file_provenance is not None
    assert result.file_provenance.c2pa.state == "valid"
    assert any("checked without trust anchors" in n for n in result.file_provenance.notes)


def test_hostile_metadata_never_stops_the_analysis(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.fromarray(textured_rgb(200, 200)).save(buf, "PNG")
    body = b"Comment\x00\x00" + zlib.compress(b"A" * 3_000_000, 9)
    chunk = struct.pack(">I", len(body)) + b"zTXt" + body + struct.pack(
        ">I", zlib.crc32(b"zTXt" + body))
    png = buf.getvalue()
    result = _analyze(write(tmp_path / "bomb.png", png[:33] + chunk + png[33:]))
    assert result.file_provenance is not None  # present whether the pixels decode or not
    assert any("inflates past 1 MB" in note for note in result.file_provenance.notes)
    assert result.sha256 == result.file_provenance.sha256


def test_stored_result_round_trips_and_old_results_still_load(signed: tuple[Path, Path]
                                                               ) -> None:
    result = _analyze(*signed)
    data = json.loads(json.dumps(result_to_dict(result), allow_nan=False))
    assert result_from_dict(data).file_provenance == result.file_provenance
    del data["file_provenance"]  # a result stored before this feature
    assert result_from_dict(data).file_provenance is None
    record = result_record(result)
    assert record["file_provenance"]["c2pa"]["state"] == "trusted"


def test_triage_row_and_formula_safety(signed: tuple[Path, Path], tmp_path: Path) -> None:
    result = _analyze(*signed)
    row = triage_row(result)
    assert row["c2pa_state"] == "trusted"
    assert row["c2pa_ai_declared"] == "yes"
    assert row["top_inconsistencies"].startswith(
        "[look at this first] Content Credentials declare generative AI")
    assert row["overall_reason"].startswith("Score ")  # engine.fusion.explain, the leading kind
    assert "bounds" in row["overall_reason"]  # and which of them held the grade
    assert row["per_kind_grades"] == "; ".join(
        f"{k.kind}={k.grade.name}" for k in result.finding.kinds)  # type: ignore[union-attr]
    hostile = MediaResult(path="=HYPERLINK(\"http://x\")", status="error", sha256=None,
                          media=None, error="-cmd")
    out = io.StringIO()
    table = TriageCsv(out.write)
    table.write(result)
    table.write(hostile)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == COLUMNS
    assert rows[1]["path"].startswith("'=")
    assert rows[1]["error"] == "'-cmd"
    assert rows[1]["c2pa_state"] == "not read"
    assert np.isclose(float(rows[0]["overall_p_fake"]), result.finding.p_fake or 0.0,
                      atol=1e-3)
