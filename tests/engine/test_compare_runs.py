"""``python -m engine.evaluation.compare``: two dev-bench runs on the same items."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.evaluation.compare import compare, grade_changes, main, score_of
from engine.training.metrics import roc_auc


def _item(path: str, kind: str, label: int, p: float | None, grade: str = "NO_SUPPORT",
          sbi: float | None = 0.5) -> dict[str, Any]:
    return {"path": path, "kind": kind, "label": label, "status": "ok",
            "finding_cv": {"grade": grade, "kind": "face_swap", "p_fake": p},
            "kinds_cv": {"face_swap": [grade, p], "temporal": ["NOT_APPLICABLE", None]},
            "scores": {"sbi_effl0": sbi}}


def _runs(seed: int = 0) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = np.random.default_rng(seed)
    a, b = [], []
    for i in range(20):
        noise = float(rng.uniform())
        a.append(_item(f"f{i}", "faceswap_video", 1, noise))
        b.append(_item(f"f{i}", "faceswap_video", 1, 0.6 + 0.4 * noise,
                       grade="WEAK" if i < 3 else "NO_SUPPORT"))
    for i in range(30):
        noise = float(rng.uniform())
        a.append(_item(f"r{i}", "real_video", 0, noise, grade="WEAK" if i == 0 else "NO_SUPPORT"))
        b.append(_item(f"r{i}", "real_video", 0, 0.5 * noise))
    return a, b


def test_score_of_reads_the_finding_a_kind_or_a_detector() -> None:
    item = _item("x", "faceswap_video", 1, 0.7, sbi=0.2)
    assert score_of(item, "finding") == 0.7
    assert score_of(item, "kind:face_swap") == 0.7
    assert score_of(item, "kind:temporal") is None
    assert score_of(item, "sbi_effl0") == 0.2
    assert score_of(item, "mat_effl0") is None


def test_a_separating_candidate_wins_with_an_interval_above_zero() -> None:
    a, b = _runs()
    (row,) = compare(a, b, "finding", n_boot=500)
    assert row.kind == "faceswap_video"
    assert (row.n_fake, row.n_real) == (20, 30)
    y = np.r_[np.ones(20), np.zeros(30)]
    assert row.auc_a == pytest.approx(roc_auc(np.array([i["finding_cv"]["p_fake"] for i in a]), y))
    assert row.auc_b == 1.0
    assert 0.0 < row.delta_ci[0] <= row.auc_b - row.auc_a <= row.delta_ci[1]
    assert row.p_b_better == 1.0
    # the same run against itself: no difference in any resample
    (same,) = compare(a, a, "finding", n_boot=200)
    assert same.delta_ci == (0.0, 0.0)
    assert same.p_b_better == 0.5


def test_by_source_splits_the_fakes_and_keeps_every_real_of_the_modality() -> None:
    a, b = _runs()
    for i, (x, y) in enumerate(zip(a[:20], b[:20], strict=True)):
        x["source"] = y["source"] = "tool/one" if i < 12 else "tool/two"
    rows = compare(a, b, "finding", n_boot=100, by="source")
    assert [(r.kind, r.n_fake, r.n_real) for r in rows] == [
        ("faceswap_video / tool/one", 12, 30), ("faceswap_video / tool/two", 8, 30)]
    with pytest.raises(ValueError, match="by must be"):
        compare(a, b, "finding", by="method")


def test_only_items_in_both_runs_count_and_a_missing_score_is_the_lowest() -> None:
    a, b = _runs()
    b = b[1:]  # f0 only in A
    b[0]["finding_cv"]["p_fake"] = None  # f1 has no score in B
    (row,) = compare(a, b, "finding", n_boot=100)
    assert row.n_fake == 19
    assert row.auc_b < 1.0


def test_grade_changes_count_real_false_alarms_and_moves() -> None:
    a, b = _runs()
    changes = grade_changes(a, b)
    assert changes["real_weak_or_above"] == (1, 0)
    assert changes["moved"]["faceswap_video"] == {"up": 3, "down": 0}
    assert changes["moved"]["real_video"] == {"up": 0, "down": 1}


def test_the_command_prints_a_table_and_refuses_an_unreadable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = _runs()
    pa, pb = tmp_path / "a.json", tmp_path / "b.json"
    pa.write_text(json.dumps({"items": a}), encoding="utf-8")
    pb.write_text(json.dumps({"items": b}), encoding="utf-8")
    assert main([str(pa), str(pb), "--score", "finding", "--score", "sbi_effl0",
                 "--n-boot", "100"]) == 0
    out = capsys.readouterr().out
    assert "| faceswap_video | 20 / 30 |" in out
    assert "**sbi_effl0**" in out
    assert "Real items graded weak or above: A 1, B 0." in out
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    assert main([str(pa), str(tmp_path / "bad.json")]) == 2
    assert "error:" in capsys.readouterr().err
