"""Each detector's own threshold from real media: the rate holds, the bar is the lowest that
holds it on the display grid, never under 0.5, and the held-out counts leave sources out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.evaluation.bench_index import BenchItem
from engine.evaluation.bench_records import BenchRecord
from engine.evaluation.fit_thresholds import (
    CEILING,
    FINE_STEP,
    STEP,
    fit_thresholds,
    real_media_threshold,
)


def _above(scores, t: float) -> int:
    return sum(s >= t for s in scores)


def test_the_threshold_is_the_lowest_on_the_grid_that_holds_the_rate_per_modality() -> None:
    rng = np.random.default_rng(0)
    photos = rng.uniform(0.3, 0.95, 61).tolist()
    videos = rng.uniform(0.4, 0.99, 40).tolist()
    t = real_media_threshold({"image": photos, "video": videos}, 0.05)
    assert _above(photos, t) <= 3  # floor(0.05 * 61)
    assert _above(videos, t) <= 2
    assert round(t / STEP) * STEP == pytest.approx(t)
    lower = t - STEP
    assert _above(photos, lower) > 3 or _above(videos, lower) > 2


def test_a_quiet_detector_keeps_the_bar_of_its_calibration() -> None:
    assert real_media_threshold({"image": [0.01, 0.2, 0.49]}, 0.05) == 0.5
    assert real_media_threshold({"image": []}, 0.05) == 0.5
    with pytest.raises(ValueError, match="max_rate"):
        real_media_threshold({"image": [0.9]}, 1.0)


def test_ties_at_the_bar_count_as_above() -> None:
    t = real_media_threshold({"image": [0.7] * 10 + [0.2] * 10}, 0.05)
    assert t == pytest.approx(0.71)


def test_past_099_the_grid_is_finer_so_a_sure_detector_still_gets_a_bar_that_holds() -> None:
    # 4 of 61 real photos at 0.99 and above (the probe on FFHQ crops): 0.99 would let 4 through
    # where 5% allows 3.
    photos = [0.9991, 0.9962, 0.9935, 0.9921] + [0.3] * 57
    t = real_media_threshold({"image": photos}, 0.05)
    assert t == pytest.approx(0.993)  # strictly above the 4th highest (0.9921), on the 0.001 grid
    assert _above(photos, t) == 3
    assert _above(photos, t - FINE_STEP) == 4
    assert real_media_threshold({"image": [0.985] + [0.1] * 99}, 0.0) == pytest.approx(0.99)


def test_a_rate_that_cannot_hold_below_the_ceiling_is_said_not_met() -> None:
    records = [_rec(i, 0, "real_image", "A", 0.9995) for i in range(3)]
    records += [_rec(10 + i, 0, "real_image", "A", 0.2) for i in range(17)]
    (fit,) = fit_thresholds(records, ["d"], 0.05).values()
    assert fit.threshold == pytest.approx(CEILING)
    assert fit.in_sample["image"] == {"n": 20, "above": 3}
    assert not fit.rate_met
    assert fit.to_dict()["rate_met"] is False
    records = [_rec(i, 0, "real_image", "A", 0.2 + 0.01 * i) for i in range(20)]
    assert next(iter(fit_thresholds(records, ["d"], 0.05).values())).rate_met


def _rec(i: int, label: int, kind: str, source: str, score: float | None) -> BenchRecord:
    item = BenchItem(i, f"/x/{i}", f"{i}", label, kind, "", source)
    scores = {} if score is None else {"d": score}
    media = "video" if kind.endswith("_video") else "image"
    return BenchRecord(item, "ok", None, media, scores, [], {"d": "face_swap"}, {"d": "a" * 64},
                       None)


def test_held_out_counts_use_a_threshold_fitted_without_that_source() -> None:
    # source A: 20 quiet real photos; source B: 20 loud ones. Fitted on all, the bar sits in
    # B's scores; with B held out, A alone fits 0.5, and every B photo is at or above it.
    records = [_rec(i, 0, "real_image", "A", 0.1 + 0.01 * i) for i in range(20)]
    records += [_rec(100 + i, 0, "real_image", "B", 0.8 + 0.005 * i) for i in range(20)]
    records += [_rec(200, 1, "faceswap_image", "C", 0.99), _rec(201, 0, "real_image", "A", None)]
    (fit,) = fit_thresholds(records, ["d"], 0.05).values()
    assert fit.in_sample["image"] == {"n": 40, "above": 2}
    assert fit.in_sample["video"] == {"n": 0, "above": 0}
    held = fit.cross_validated["image"]
    assert held["n"] == 40
    assert held["above"] >= 20  # all of B against A's bar of 0.5
    assert json.loads(json.dumps(fit.to_dict()))["threshold"] == fit.threshold


def test_the_card_records_the_threshold_and_where_it_came_from(tmp_path: Path) -> None:
    from engine.runtime import WeightsStore, default_models_dir
    from engine.training.card import read_card, record_threshold

    store = WeightsStore(default_models_dir())
    if "sbi_effl0" not in store.names():
        pytest.skip("no shipped SBI card")
    card_path = tmp_path / "sbi_effl0.json"
    card_path.write_text(store.card_path("sbi_effl0").read_text(encoding="utf-8"),
                         encoding="utf-8")
    source = {"detector": "sbi_effl0", "threshold": 0.77, "max_rate": 0.05,
              "in_sample": {}, "cross_validated": {"image": {"n": 61, "above": 4},
                                                   "video": {"n": 40, "above": 0}},
              "command": "python -m engine.evaluation.devbench --fit", "index": "bench"}
    record_threshold(card_path, 0.77, source)
    assert read_card(card_path)["cfg"]["threshold"] == 0.77
    text = card_path.with_suffix(".md").read_text(encoding="utf-8")
    assert "Threshold on calibrated `p_fake`: 0.77, taken from real media" in text
    assert "photos 4 of 61; videos 0 of 40" in text


def test_the_dev_bench_table_prints_the_fine_grid_and_says_when_the_rate_cannot_hold() -> None:
    from engine.evaluation.bench_text import _threshold_rows

    counts = {"image": {"n": 20, "above": 3}, "video": {"n": 0, "above": 0}}
    rows = [{"detector": "d", "threshold": 0.999, **counts},
            {"detector": "e", "threshold": 0.5, **counts}]
    fits = [{"detector": "d", "threshold": 0.999, "max_rate": 0.05, "rate_met": False,
             "cross_validated": counts},
            {"detector": "e", "threshold": 0.5, "max_rate": 0.05, "rate_met": True,
             "cross_validated": counts}]
    text = "\n".join(_threshold_rows(rows, fits))
    assert "| d | 0.999 |" in text
    assert "0.999 (rate not reachable" in text
    assert "| e | 0.50 |" in text
    assert text.count("not reachable") == 1
