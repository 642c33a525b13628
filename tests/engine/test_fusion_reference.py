"""Reference comparisons: a suspect video against genuine footage of its source, counted against
genuine-vs-genuine differences (engine.fusion.reference, engine.evaluation.reference_null)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import shutil
from pathlib import Path

import pytest

from engine.api import compare_to_reference, reference_comparison_from_dict
from engine.evaluation.reference_null import measure_null, split_halves
from engine.fusion.reference import (
    ReferenceComparison,
    ReferenceError,
    ReferenceNull,
    load_null,
    null_file,
)
from engine.types import (
    DetectorProvenance,
    DetectorScore,
    Finding,
    FrameResult,
    Grade,
    MediaInfo,
    MediaResult,
    Provenance,
)

REPO = Path(__file__).resolve().parents[2]
KINDS = {"sbi": "face_swap", "xray": "face_swap", "gan": "generated"}
WEIGHTS = {name: name[0] * 64 for name in KINDS}


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _video(sha: str, logits: dict[str, list[float]], *, kind: str = "video",
           weights: dict[str, str] | None = None) -> MediaResult:
    """A video whose frame ``i`` scores ``sigmoid(logits[name][i])`` for each detector."""
    n = len(next(iter(logits.values())))
    frames = tuple(
        FrameResult(i, i / 25.0, (), tuple(DetectorScore(name, _sigmoid(v[i]), None)
                                         for name, v in logits.items()),
                    Finding(Grade.NO_SUPPORT, 0.1, (), "test rule"))
        for i in range(n))
    detectors = tuple(DetectorProvenance(name, "1", (weights or WEIGHTS)[name], 0.5, "platt",
                                         KINDS[name]) for name in logits)
    prov = Provenance("test", detectors, "onnx", "cpu", f"{n} evenly spaced", "rule",
                      tuple(range(n)), ())
    info = MediaInfo(f"{sha}.mp4", kind, "mp4", 1, 64, 64, n)  # type: ignore[arg-type]
    return MediaResult(f"{sha}.mp4", "ok", sha, info, frames=frames, provenance=prov)


def _null(samples: list[dict[str, float]], *, min_frames: int = 4) -> ReferenceNull:
    return ReferenceNull("test null", "made up", "none", len(samples) // 2, min_frames,
                         tuple(samples), dict(WEIGHTS))


def _flat(value: float, n: int = 8) -> list[float]:
    return [value] * n


def test_deltas_are_mean_frame_logits_and_a_kind_is_the_mean_of_its_detectors() -> None:
    suspect = _video("s", {"sbi": [1.0, 3.0] * 4, "xray": _flat(2.0), "gan": _flat(0.0)})
    reference = _video("r", {"sbi": _flat(0.5), "xray": _flat(-1.0), "gan": _flat(0.5)})
    null = _null([{"kind:face_swap": d, "kind:generated": d, "sbi": d, "xray": d, "gan": d}
                  for d in (-1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5)])
    comparison = compare_to_reference(suspect, reference, null=null)
    by_name = {d.name: d for d in comparison.deltas}
    assert by_name["sbi"].delta == pytest.approx(1.5)  # mean of 1 and 3, minus 0.5
    assert by_name["xray"].delta == pytest.approx(3.0)
    assert by_name["kind:face_swap"].delta == pytest.approx(2.25)
    assert by_name["kind:generated"].delta == pytest.approx(-0.5)
    assert (by_name["kind:face_swap"].null_at_least, by_name["kind:face_swap"].null_n) == (3, 10)
    assert (by_name["xray"].null_at_least, by_name["xray"].null_n) == (2, 10)
    assert [d.name for d in comparison.deltas][:2] == ["kind:face_swap", "kind:generated"]
    assert comparison.suspect_frames == comparison.reference_frames == 8
    assert "a face swap or blend" in comparison.statement
    assert "+2.25" in comparison.statement


def test_the_statement_counts_genuine_comparisons_that_stood_out_on_any_kind() -> None:
    # Two kinds, each with one extreme genuine comparison: a new file at the top of one kind
    # is matched by both, so picking the most unusual kind is not free.
    samples = [{"kind:face_swap": 0.1 * i, "kind:generated": -0.1 * i} for i in range(10)]
    null = _null(samples)
    assert null.headline_at_least({"kind:face_swap": 100.0, "kind:generated": -100.0}) == (2, 10)
    assert null.headline_at_least({"kind:face_swap": -100.0, "kind:generated": -100.0}) == (10, 10)
    suspect = _video("s", {"sbi": _flat(5.0), "gan": _flat(-5.0)})
    reference = _video("r", {"sbi": _flat(0.0), "gan": _flat(0.0)})
    comparison = compare_to_reference(suspect, reference, null=null)
    assert (comparison.headline_at_least, comparison.headline_n) == (2, 10)
    assert "on some kind, in 2 of 10 comparisons" in comparison.statement


def test_a_file_no_higher_than_its_reference_says_so() -> None:
    null = _null([{"kind:face_swap": float(d)} for d in range(-3, 4)])
    comparison = compare_to_reference(_video("s", {"sbi": _flat(-1.0)}),
                                      _video("r", {"sbi": _flat(0.0)}), null=null)
    assert comparison.statement.startswith("No kind of evidence is higher")


def test_a_detector_measured_with_other_weights_gets_no_count_nor_does_its_kind() -> None:
    other = {**WEIGHTS, "xray": "z" * 64}
    suspect = _video("s", {"sbi": _flat(2.0), "xray": _flat(2.0), "gan": _flat(2.0)},
                     weights=other)
    reference = _video("r", {"sbi": _flat(0.0), "xray": _flat(0.0), "gan": _flat(0.0)},
                       weights=other)
    null = _null([{"kind:face_swap": 0.0, "kind:generated": 0.0, "sbi": 0.0, "xray": 0.0,
                   "gan": 0.0}] * 4)
    by_name = {d.name: d for d in compare_to_reference(suspect, reference, null=null).deltas}
    assert by_name["xray"].null_n is None
    assert by_name["kind:face_swap"].null_n is None
    assert by_name["sbi"].null_n == 4
    assert by_name["kind:generated"].null_n == 4
    assert by_name["xray"].delta == pytest.approx(2.0)  # the delta itself is still shown


@pytest.mark.parametrize(("case", "message"), [
    ("image", "videos only"),
    ("same bytes", "same bytes"),
    ("other weights", "different detectors or weights"),
    ("too few frames", "at least 4 scored frames"),
    ("no face", "no analysed face"),
])
def test_what_cannot_be_compared_is_refused_in_words(case: str, message: str) -> None:
    logits = {"sbi": _flat(1.0), "gan": _flat(0.0)}
    suspect, reference = _video("s", logits), _video("r", logits)
    if case == "image":
        suspect = _video("s", logits, kind="image")
    elif case == "same bytes":
        reference = _video("s", logits)
    elif case == "other weights":
        reference = _video("r", logits, weights={**WEIGHTS, "sbi": "q" * 64})
    elif case == "too few frames":
        reference = _video("r", {"sbi": _flat(1.0, 3), "gan": _flat(0.0, 3)})
    else:
        suspect = MediaResult("s.mp4", "no_face", "s", suspect.media)
    with pytest.raises(ReferenceError, match=message):
        compare_to_reference(suspect, reference, null=_null([{"sbi": 0.0}] * 2))


def test_a_comparison_survives_a_json_round_trip_and_a_bad_record_is_refused() -> None:
    suspect = _video("s", {"sbi": _flat(2.0), "xray": _flat(1.0), "gan": _flat(0.0)})
    reference = _video("r", {"sbi": _flat(0.0), "xray": _flat(0.0), "gan": _flat(0.0)})
    null = _null([{"kind:face_swap": 0.1 * i, "sbi": 0.1 * i} for i in range(6)])
    comparison = compare_to_reference(suspect, reference, null=null)
    stored = reference_comparison_from_dict(json.loads(json.dumps(comparison.to_dict())))
    assert stored == comparison
    broken = comparison.to_dict()
    del broken["null"]["samples"]
    with pytest.raises(ValueError, match="not a reference"):
        ReferenceComparison.from_dict(broken)


def test_split_halves_give_each_video_two_opposite_deltas() -> None:
    genuine = {
        "a": _video("a", {"sbi": [0.0] * 8 + [1.0] * 8, "gan": _flat(0.0, 16)}),
        "b": _video("b", {"sbi": [2.0] * 8 + [1.0] * 8, "gan": _flat(0.0, 16)}),
        "short": _video("c", {"sbi": _flat(0.0, 5), "gan": _flat(0.0, 5)}),
    }
    first, second = split_halves(genuine["a"])
    assert [f.frame_idx for f in first.frames] == list(range(8))
    assert first.sha256 != second.sha256
    null, skipped = measure_null(genuine, min_frames=4, null_id="t", measured_on="t",
                                 command="t")
    assert null.n_videos == 2
    assert len(skipped) == 1
    assert "short" in skipped[0]
    assert null.values("sbi") == pytest.approx([-1.0, -1.0, 1.0, 1.0])
    assert null.weights_sha256 == {k: WEIGHTS[k] for k in ("sbi", "gan")}  # as recorded
    assert ReferenceNull.from_dict(json.loads(json.dumps(null.to_dict()))) == null


@pytest.mark.weights
def test_the_shipped_null_was_measured_with_the_shipped_weights() -> None:
    from engine.runtime.weights import WeightsStore

    null = load_null()
    store = WeightsStore()
    shipped = {name: store.cfg(name).onnx_sha256 for name in store.names()}
    # After shipping new weights:
    #   python -m engine.evaluation.reference_null --install --record-cards
    assert null.weights_sha256 == shipped
    assert null.n_videos >= 30
    assert null.min_frames >= 8
    assert {"kind:face_swap", "kind:generated", "kind:temporal"} <= set(null.names())


def test_a_missing_or_broken_null_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReferenceError, match="no reference null is installed"):
        load_null(tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text("{\"samples\": 3}", encoding="utf-8")
    with pytest.raises(ReferenceError, match="cannot read the reference null"):
        load_null(tmp_path / "bad.json")
    assert null_file(tmp_path) == tmp_path / "fusion" / "reference_null.json"


@pytest.mark.weights
def test_the_command_measures_a_null_and_checks_pairs_with_the_app_analyzer(
        tmp_path: Path, demo_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.evaluation import reference_null

    (tmp_path / "pairs.csv").write_text(
        "suspect,reference\ndemo_fake.mp4,demo_real.mp4\ngone.mp4,demo_real.mp4\n"
        "demo_real.mp4,demo_fake.mp4\n", encoding="utf-8")
    installed = tmp_path / "models" / "fusion" / "reference_null.json"
    monkeypatch.setattr("engine.fusion.reference.null_file", lambda: installed)
    # NOTE: the null goes to tmp_path through the patched null_file, so the guard against a
    # scratch report writing into the shipped folder (tested below) stands aside here.
    monkeypatch.setattr(reference_null, "install_refusal", lambda **_: None)
    report = tmp_path / "reference.md"
    argv = ["--index", str(tmp_path / "index.csv"), "--pairs", str(tmp_path / "pairs.csv"),
            "--report", str(report), "--cache", str(tmp_path / "cache"), "--install"]
    assert reference_null.main(argv) == 0
    null = load_null(installed)
    assert null.n_videos == 1
    assert len(null.values("kind:face_swap")) == 2
    text = report.read_text(encoding="utf-8")
    assert "| demo_fake.mp4 | demo_real.mp4 |" in text
    assert "pairs row 3 skipped: not an item of the index" in text
    assert "pairs row 4 skipped: needs a video and a real_video" in text


@pytest.mark.weights
def test_the_cli_sets_every_video_against_the_reference_and_says_why_not(
        tmp_path: Path) -> None:
    from engine.cli import main

    sample = REPO / "resources" / "sample"
    fake, real = (shutil.copy(sample / n, tmp_path / n) for n in ("demo_fake.mp4",
                                                                  "demo_real.mp4"))
    notes = tmp_path / "notes.txt"
    notes.write_text("not media\n", encoding="utf-8")
    out, table = tmp_path / "out.jsonl", tmp_path / "triage.csv"
    argv = [str(fake), str(real), str(notes), "--reference", str(real), "--jsonl", str(out),
            "--csv", str(table), "--quiet", "--workers", "1"]
    assert main(argv) == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    rows = list(csv.DictReader(io.StringIO(table.read_text(encoding="utf-8"))))
    assert [(Path(r["path"]).name, r["role"]) for r in rows] == [
        ("demo_real.mp4", "reference"), ("demo_fake.mp4", "suspect"),
        ("demo_real.mp4", "suspect"), ("notes.txt", "suspect")]
    assert rows[0]["reference_statement"] == ""
    assert rows[1]["reference_statement"] == lines[1]["reference_comparison"]["statement"]
    assert rows[2]["reference_statement"] == (
        "not compared: the suspect and the reference are the same bytes")
    assert [(Path(r["path"]).name, r.get("role")) for r in lines] == [
        ("demo_real.mp4", "reference"), ("demo_fake.mp4", None), ("demo_real.mp4", None),
        ("notes.txt", None)]
    comparison = lines[1]["reference_comparison"]
    assert comparison["reference_sha256"] == lines[0]["sha256"]
    assert comparison["deltas"][0]["name"] == "kind:face_swap"
    assert "samples" not in comparison["null"]  # named, not repeated on every line
    assert lines[2]["reference_comparison"] == {
        "error": "the suspect and the reference are the same bytes"}
    assert lines[3]["reference_comparison"] == {
        "error": "the suspect could not be analysed: nothing to compare"}


@pytest.mark.parametrize("which", ["missing", "overwritten"])
def test_a_bad_reference_is_a_usage_error(tmp_path: Path, which: str) -> None:
    from engine.cli import main

    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\0" * 64)
    reference = tmp_path / "genuine.mp4"
    argv = [str(video), "--reference", str(reference), "--quiet"]
    if which == "overwritten":
        reference.write_bytes(b"\1" * 64)
        argv += ["--jsonl", str(reference)]  # would destroy the reference
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert reference.exists() == (which == "overwritten")
    if which == "overwritten":
        assert reference.read_bytes() == b"\1" * 64


def test_differences_the_null_does_not_cover_become_cautions() -> None:
    logits = {"sbi": _flat(1.0), "gan": _flat(0.0)}
    suspect, reference = _video("s", logits), _video("r", logits)
    null = _null([{"kind:face_swap": 0.0}] * 4)
    assert compare_to_reference(suspect, reference, null=null).cautions == ()
    other = MediaInfo("r.mp4", "video", "mp4", 10_000, 256, 256, 8, 25.0, 0.32, 0, "hevc")
    reference = dataclasses.replace(reference, media=other)
    suspect = dataclasses.replace(suspect, media=MediaInfo(
        "s.mp4", "video", "mp4", 40_000, 64, 64, 8, 25.0, 0.32, 0, "h264"))
    (caution,) = compare_to_reference(suspect, reference, null=null).cautions
    assert "codec: h264 here, hevc in the reference" in caution
    assert "resolution: 64 px short side here, 256 px in the reference" in caution
    assert "compression:" in caution
    assert "frame rate" not in caution


def test_the_summary_rows_count_fakes_against_genuine_and_render_in_a_card() -> None:
    from engine.evaluation.reference_null import summarize
    from engine.training.card import _reference_lines

    null = _null([{"kind:face_swap": d / 10, "sbi": d / 10} for d in range(20)])  # 0.0-1.9
    fakes = [compare_to_reference(_video(f"s{i}", {"sbi": _flat(v)}),
                                  _video(f"r{i}", {"sbi": _flat(0.0)}), null=null)
             for i, v in enumerate((5.0, 1.85, 0.3))]  # beyond all, 1 of 20, 17 of 20
    rows = summarize(null, fakes)
    assert rows["sbi"]["genuine_max"] == pytest.approx(1.9)
    assert rows["sbi"]["genuine_q95"] == pytest.approx(1.805)
    assert (rows["sbi"]["n_fakes"], rows["sbi"]["fakes_at_5pct"],
            rows["sbi"]["fakes_at_1pct"]) == (3, 2, 1)
    text = "\n".join(_reference_lines({"command": "cmd", "detector": rows["sbi"],
                                       "kind": {"name": "face_swap",
                                                **rows["kind:face_swap"]}}))
    assert "| this detector | +1.81 / +1.90 | 2 / 1 of 3 |" in text
    assert "| its kind (face_swap) |" in text


@pytest.mark.parametrize("flag", ["--install", "--record-cards"])
def test_a_scratch_report_cannot_install_a_null_into_the_shipped_models(
        tmp_path: Path, demo_index: Path, monkeypatch: pytest.MonkeyPatch, capsys,
        flag: str) -> None:
    from engine.evaluation import reference_null

    monkeypatch.delenv("FORENSIC_MODELS_DIR", raising=False)
    shipped = Path(__file__).resolve().parents[2] / "resources" / "models"
    before = {p: p.stat().st_mtime_ns for p in shipped.rglob("*") if p.is_file()}
    argv = ["--index", str(demo_index), "--report", str(tmp_path / "reference.md"),
            "--cache", str(tmp_path / "cache"), flag]
    with pytest.raises(SystemExit) as exc:
        reference_null.main(argv)
    assert exc.value.code == 2
    assert "--models-dir COPY" in capsys.readouterr().err
    assert not (tmp_path / "reference.md").exists()
    assert {p: p.stat().st_mtime_ns for p in shipped.rglob("*") if p.is_file()} == before
