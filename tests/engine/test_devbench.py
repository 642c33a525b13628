"""The real-media benchmark: index checks, a calibration split that keeps sources and pairs
together, the fitted rule's false-alarm design, and the command end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.evaluation.bench_index import BenchItem, read_index, read_index_logged
from engine.evaluation.bench_records import BenchRecord
from engine.evaluation.fit_fusion import TAIL_RATES, cross_validate, fit_rule, grade_record
from engine.types import Grade

REPO = Path(__file__).resolve().parents[2]
KINDS = {"sbi": "face_swap", "gan": "generated"}


def test_bad_rows_get_their_own_error_and_the_rest_goes_on(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / "b.png").write_bytes(b"x")
    (tmp_path / "index.csv").write_text(
        "path,label,kind,source_repo\n"
        "a.png,fake,gan_image,s1\n"
        "missing.png,real,real_image,s1\n"
        "b.png,fake,real_image,s1\n"
        "b.png,real,lip_sync_video,s1\n"
        "b.png,maybe,real_image,s1\n"
        "a.png,fake,gan_image,s1\n"
        ",real,real_image,s1\n"
        "b.png,real,real_image,s2\n",
        encoding="utf-8",
    )
    items, errors = read_index(tmp_path / "index.csv")
    assert [(i.rel_path, i.label, i.kind, i.source) for i in items] == [
        ("a.png", 1, "gan_image", "s1"), ("b.png", 0, "real_image", "s2")]
    messages = {e.row: e.message for e in errors}
    assert set(messages) == {3, 4, 5, 6, 7, 8}
    assert "not found" in messages[3]
    assert "contradicts" in messages[4]
    assert "unknown kind" in messages[5]
    assert "label must be" in messages[6]
    assert "twice" in messages[7]
    assert "empty path" in messages[8]


def test_a_command_line_logs_each_skipped_row_and_goes_on(tmp_path: Path, caplog) -> None:
    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / "index.csv").write_text(
        "path,label,kind\na.png,fake,gan_image\nmissing.png,real,real_image\n",
        encoding="utf-8")
    with caplog.at_level("WARNING", logger="engine.evaluation.bench_index"):
        items = read_index_logged(tmp_path / "index.csv")
    assert [i.rel_path for i in items] == ["a.png"]
    (record,) = caplog.records
    assert record.getMessage().startswith("index row 3 (missing.png) skipped: ")


def _record(path: str, label: int, kind: str, source: str, sbi: float, gan: float,
            frames: int = 0) -> BenchRecord:
    item = BenchItem(1, path, path, label, kind, "", source)
    level_frames = [{"sbi": sbi, "gan": gan}] * frames
    media_kind = "video" if kind.endswith("_video") else "image"
    return BenchRecord(item, "ok", None, media_kind, {"sbi": sbi, "gan": gan}, level_frames,
                       KINDS, {"sbi": "a" * 64, "gan": "b" * 64}, None)


def _bench(seed: int = 0) -> list[BenchRecord]:
    """Sources s0..s5: real stills, face-swap stills (pairs with a real of the same source)
    and GAN stills; the detectors separate the classes with some overlap."""
    rng = np.random.default_rng(seed)
    out = []
    for s in range(6):
        for i in range(12):
            out.append(_record(f"s{s}/real{i}", 0, "real_image", f"s{s}",
                               float(rng.beta(2, 6)), float(rng.beta(2, 6))))
        for i in range(4):
            out.append(_record(f"s{s}/swap{i}", 1, "faceswap_image", f"s{s}",
                               float(rng.beta(6, 2)), float(rng.beta(2, 6))))
            out.append(_record(f"s{s}/gan{i}", 1, "gan_image", f"s{s}",
                               float(rng.beta(2, 6)), float(rng.beta(7, 2))))
    return out


def test_every_item_is_graded_by_a_rule_fitted_without_its_source() -> None:
    bench = _bench()
    oof, _ = cross_validate(bench, rule_id="cv")
    assert set(oof) == {r.item.path for r in bench}
    # Moving every item of source s0 far away changes no finding of s0 (its rule never saw
    # s0), while the rule fitted on everything does move.
    moved = [r if r.item.source != "s0" else _record(r.item.path, r.item.label, r.item.kind,
             "s0", 0.999, 0.999) for r in bench]
    oof_moved, _ = cross_validate(moved, rule_id="cv")
    others = [r for r in bench if r.item.source != "s0"]
    assert any(oof[r.item.path] != oof_moved[r.item.path] for r in others)
    for rec in (r for r in moved if r.item.source == "s0"):
        rule_without_s0 = fit_rule([r for r in moved if r.item.source != "s0"], rule_id="cv")
        assert oof_moved[rec.item.path] == grade_record(rec, rule_without_s0)


def test_matched_pairs_share_a_source_so_they_stay_on_one_side() -> None:
    # dev_bench keeps a fake and its real twin in the same source_repo; the split is by source.
    bench = _bench()
    pairs = [("s1/real0", "s1/swap0"), ("s3/real2", "s3/swap1")]
    for real, fake in pairs:
        a = next(r for r in bench if r.item.path == real)
        b = next(r for r in bench if r.item.path == fake)
        assert a.item.source == b.item.source


def test_the_fitted_thresholds_hold_real_false_alarms_near_their_design() -> None:
    bench = _bench(seed=1)
    rule = fit_rule(bench, rule_id="fit")
    assert [m.kind for m in rule.kinds] == ["face_swap", "generated"]
    for model in rule.kinds:
        t = model.thresholds["image"]
        assert t["WEAK"] < t["MODERATE"] < t["STRONG"]
        assert model.platt is not None
        assert model.platt[0] > 0
        assert model.reference["image"]["n"] == 72
    fresh_reals = [r for r in _bench(seed=2) if r.item.label == 0]
    weak = np.mean([grade_record(r, rule).grade.level >= 1 for r in fresh_reals])
    assert weak <= 3 * len(rule.kinds) * TAIL_RATES["WEAK"] + 0.05  # rough: 72 reals
    fakes = [r for r in _bench(seed=2) if r.item.label == 1]
    found = np.mean([grade_record(r, rule).grade.level >= 1 for r in fakes])
    assert found > 0.3
    gan_fakes = [r for r in _bench(seed=2) if r.item.kind == "gan_image"]
    kinds = [grade_record(r, rule).kind for r in gan_fakes
             if grade_record(r, rule).grade.level >= 1]
    assert kinds
    assert all(k == "generated" for k in kinds)


def test_the_platt_fit_reads_at_equal_priors() -> None:
    # Ten times more reals than fakes must not push every calibrated p_fake towards "real".
    rng = np.random.default_rng(3)
    bench = [_record(f"s{i % 4}/r{i}", 0, "real_image", f"s{i % 4}",
                     float(rng.beta(2, 5)), 0.1) for i in range(400)]
    bench += [_record(f"s{i % 4}/f{i}", 1, "faceswap_image", f"s{i % 4}",
                      float(rng.beta(5, 2)), 0.1) for i in range(40)]
    a, b = fit_rule(bench, rule_id="x").kinds[0].platt  # type: ignore[misc]
    # Beta(5,2) vs Beta(2,5) are mirror images: at score 0.5 the odds are even.
    assert 1 / (1 + np.exp(-(a * 0.0 + b))) == pytest.approx(0.5, abs=0.12)


@pytest.mark.slow
@pytest.mark.weights
def test_the_command_runs_the_app_analyzer_and_reports_bad_rows(tmp_path: Path,
                                                                 demo_index: Path) -> None:
    from engine.evaluation.devbench import main

    with demo_index.open("a", encoding="utf-8") as index:
        index.write("gone.mp4,real,real_video,camera,demo\n"
                    "demo_real.mp4,fake,gan_image,x,demo2\n")
    out, cache = tmp_path / "report", tmp_path / "cache"
    argv = ["--index", str(tmp_path / "index.csv"), "--out", str(out), "--cache", str(cache)]
    assert main(argv) == 0
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert [i["path"] for i in results["items"]] == ["demo_real.mp4", "demo_fake.mp4"]
    assert {e["row"] for e in results["context"]["row_errors"]} == {4, 5}
    assert results["context"]["cv_problem"]  # two items cannot fit a rule: said, not hidden
    fits = {f["detector"]: f for f in results["threshold_fits"]}
    assert set(fits) == set(results["detectors"])
    real_scores = results["items"][0]["scores"]
    for name, fit in fits.items():  # one real video: no real item may reach the threshold
        assert fit["threshold"] >= 0.5
        assert real_scores.get(name) is None or real_scores[name] < fit["threshold"]
    text = (out / "README.md").read_text(encoding="utf-8")
    assert "gone.mp4" in text
    assert "Not cross-validated" in text
    assert (out / "reliability.png").stat().st_size > 1000
    entries = [e for e in cache.glob("*/*.json") if e.name != "_key.json"]
    assert len(entries) == 2
    stamp = {e: e.stat().st_mtime_ns for e in entries}
    assert main(argv) == 0  # the second run reads the cache: nothing re-analysed
    assert {e: e.stat().st_mtime_ns for e in entries} == stamp
    assert results["items"][0]["finding_cv"]["grade"] in {g.name for g in Grade}


@pytest.mark.parametrize("flag", ["--fit", "--record-cards"])
def test_a_scratch_report_cannot_rewrite_the_shipped_models(tmp_path: Path, demo_index: Path,
                                                            monkeypatch, capsys,
                                                            flag: str) -> None:
    """A check with ``--out`` elsewhere once rewrote every card's provenance: refused now."""
    from engine.evaluation.devbench import main

    monkeypatch.delenv("FORENSIC_MODELS_DIR", raising=False)
    shipped = REPO / "resources" / "models"
    before = {p: p.stat().st_mtime_ns for p in shipped.rglob("*") if p.is_file()}
    argv = ["--index", str(demo_index), "--out", str(tmp_path / "scratch"),
            "--cache", str(tmp_path / "cache"), flag]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "--models-dir COPY" in capsys.readouterr().err
    assert not (tmp_path / "scratch").exists()  # refused before anything ran
    assert {p: p.stat().st_mtime_ns for p in shipped.rglob("*") if p.is_file()} == before


def test_the_install_target_check_allows_a_copy_or_the_documenting_report(tmp_path: Path,
                                                                          monkeypatch) -> None:
    from engine.evaluation.devbench import build_parser, check_install_target

    monkeypatch.delenv("FORENSIC_MODELS_DIR", raising=False)
    parse = build_parser().parse_args
    scratch = ["--out", str(tmp_path / "x")]
    assert check_install_target(parse(scratch)) is None  # measuring only writes no model file
    assert check_install_target(parse([*scratch, "--fit"]))
    assert check_install_target(parse([*scratch, "--fit", "--models-dir", str(tmp_path)])) is None
    assert check_install_target(parse(["--out", str(REPO / "docs/devbench"), "--fit"])) is None
    monkeypatch.setenv("FORENSIC_MODELS_DIR", str(tmp_path))
    assert check_install_target(parse([*scratch, "--fit"])) is None
