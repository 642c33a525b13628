"""The held-out-generator validation's bookkeeping: levels, groups, AUCs, flags, tables."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.training.gen_eval import metrics_table
from engine.training.gen_eval_data import EvalPicture, picture_view
from engine.training.gen_eval_table import render_tables


def _pic(key: str, label: int, kind: str, source: str, media: str = "image",
         rel: str | None = None) -> EvalPicture:
    return EvalPicture(key, rel or key, 0, label, kind, f"{kind}:{source}", media)


def _cache(tmp_path: Path, rows: list[dict[str, object]]) -> Path:
    path = tmp_path / "scores.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_levels_groups_and_flags(tmp_path: Path) -> None:
    pictures = [
        _pic("g1", 1, "gan", "a"), _pic("g2", 1, "gan", "a"),
        _pic("r1", 0, "real_photo", "x"), _pic("r2", 0, "real_photo", "x"),
        _pic("v1", 0, "real_video", "y", "video", "clip"),
        _pic("v2", 0, "real_video", "y", "video", "clip"),
    ]
    rows = [
        {"key": "g1", "view": "native", "whole": 0.9, "faces": [0.2]},
        {"key": "g2", "view": "native", "whole": 0.8, "faces": []},
        {"key": "r1", "view": "native", "whole": 0.1, "faces": [0.95]},
        {"key": "r2", "view": "native", "whole": 0.3, "faces": [0.1]},
        {"key": "v1", "view": "native", "whole": 0.2, "faces": [0.1]},
        {"key": "v2", "view": "native", "whole": 0.4, "faces": [0.1]},
    ]
    tables = metrics_table(pictures, _cache(tmp_path, rows), 0.5, ("native",))
    whole = {r["group"]: r for r in tables["whole"]["native"]}
    assert whole["gan:a"]["auc_vs_real_photos"] == 1.0
    assert whole["gan:a"]["flagged"] == 1.0
    assert whole["gan:ALL dev_bench"]["n"] == 2
    face = {r["group"]: r for r in tables["face"]["native"]}
    assert face["gan:a"]["n"] == 1  # g2 has no face
    assert face["gan:a"]["auc_vs_real_photos"] == 0.5  # 0.2 vs reals 0.95 and 0.1
    frame = {r["group"]: r for r in tables["frame"]["native"]}
    assert frame["real_photo:x"]["flagged"] == 0.5  # r1: max(0.1, 0.95)
    video = {r["group"]: r for r in tables["whole_video"]["native"]}
    assert video["real_video:y"]["n"] == 1  # two frames of one video: one mean
    text = render_tables({"det": tables}, "python -m engine.training.gen_eval")
    assert "| gan:a | 2 |" in text
    assert "python -m engine.training.gen_eval" in text


def test_views_are_the_same_operation_for_every_picture() -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (60, 81, 3), dtype=np.uint8)
    same, scale = picture_view(rgb, "native")
    assert same is rgb
    assert scale == 1.0
    small, scale = picture_view(rgb, "down05")
    assert small.shape == (30, 40, 3)
    assert scale == 0.5
    jpeg, _ = picture_view(rgb, "jpeg75")
    assert jpeg.shape == rgb.shape
    assert not np.array_equal(jpeg, rgb)
    h264, scale = picture_view(rgb, "h264_23")  # odd width: padded for 4:2:0, cropped back
    assert h264.shape == rgb.shape
    assert scale == 1.0
    assert not np.array_equal(h264, rgb)
    with pytest.raises(ValueError, match="view"):
        picture_view(rgb, "blur")


def test_the_kind_mean_averages_the_detectors_that_scored_each_picture(tmp_path: Path) -> None:
    pictures = [_pic("g1", 1, "gan", "a"), _pic("g2", 1, "gan", "a"),
                _pic("r1", 0, "real_photo", "x"), _pic("r2", 0, "real_photo", "x")]
    a = [{"key": "g1", "view": "native", "whole": 0.9, "faces": []},
         {"key": "g2", "view": "native", "whole": 0.1, "faces": []},
         {"key": "r1", "view": "native", "whole": 0.5, "faces": []},
         {"key": "r2", "view": "native", "whole": 0.3, "faces": []}]
    b = [{"key": "g1", "view": "native", "whole": 0.3, "faces": []},
         {"key": "g2", "view": "native", "whole": 0.9, "faces": []},
         {"key": "r1", "view": "native", "whole": 0.1, "faces": []}]  # r2 not scored by b
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    paths = [_cache(tmp_path / "a", a), _cache(tmp_path / "b", b)]
    single = {r["group"]: r for r in metrics_table(pictures, paths[0], 0.5,
                                                   ("native",))["whole"]["native"]}
    assert single["gan:a"]["auc_vs_real_photos"] == 0.5
    mean = {r["group"]: r for r in metrics_table(pictures, paths, None,
                                                 ("native",))["whole"]["native"]}
    # means: g1 0.6, g2 0.5 against r1 0.3 and r2 0.3 (b did not score it: a's alone)
    assert mean["gan:a"]["auc_vs_real_photos"] == 1.0
    assert mean["gan:a"]["flagged"] is None
    text = render_tables({"kind:mean": metrics_table(pictures, paths, None, ("native",))}, "cmd")
    assert "| gan:a | 2 | 1.000 | 1.000 | - |" in text


def _frame_table(aucs: dict[str, float]) -> dict[str, object]:
    return {"frame": {"native": [{"group": g, "auc_vs_real_photos": v} for g, v in aucs.items()]}}


def test_the_default_set_changes_only_when_the_new_detector_wins_every_target() -> None:
    from engine.training.gen_eval import DEFAULT_SET_GROUPS, beats

    old = _frame_table(dict.fromkeys(DEFAULT_SET_GROUPS, 0.6))
    better = _frame_table(dict.fromkeys(DEFAULT_SET_GROUPS, 0.7))
    mixed = _frame_table({**dict.fromkeys(DEFAULT_SET_GROUPS, 0.9), "gan:generated_photos": 0.5})
    assert beats({"new": better, "old": old}, "new", "old")["beats"]
    assert not beats({"new": mixed, "old": old}, "new", "old")["beats"]


def test_a_card_can_keep_a_shipped_detector_out_of_the_default_set(tmp_path: Path) -> None:
    import shutil

    from engine.analysis.catalog import default_names, shipped_names
    from engine.runtime import default_models_dir

    for name in ("gan_effl0", "sbi_effl0"):
        for ext in ("json", "onnx"):
            shutil.copy(default_models_dir() / f"{name}.{ext}", tmp_path)
    card = json.loads((tmp_path / "gan_effl0.json").read_text())
    (tmp_path / "gan_effl0.json").write_text(json.dumps({**card, "default_set": False}))
    assert shipped_names(tmp_path) == ["gan_effl0", "sbi_effl0"]
    assert default_names(tmp_path) == ["sbi_effl0"]
