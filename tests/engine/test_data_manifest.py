"""Manifest rows and the split: deterministic, identity/clip-disjoint, dev_eval kept apart."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from engine.data.manifest import (
    DEV_EVAL_SPLIT,
    CropRow,
    RejectedRow,
    SplitPlan,
    assign_splits,
    read_rows,
    write_rows,
)
from engine.data.summary import reason_kind

_BASE = CropRow(
    source="utkface", part="part_0000", row=0, file="f.jpg", identity="f", clip_id="",
    track_id=0, frame_idx=0, label="real", split="", det_score=0.9, face_px=180.0,
    too_small=0, n_faces=1,
)  # fmt: skip


def _image_rows(n: int) -> list[CropRow]:
    return [replace(_BASE, row=i, file=f"img{i}.jpg", identity=f"img{i}") for i in range(n)]


def _video_rows() -> list[CropRow]:
    names = [f"liveportrait_d{i}" for i in range(12)] + ["ghost_a", "ghost_b", "ghost_c"]
    names += ["pyfeat_single_face", "pyfeat_face_noface"]
    return [
        replace(_BASE, source="videos_real", identity=n, clip_id=f"{n}/t0", frame_idx=f, row=k)
        for k, (n, f) in enumerate((n, f) for n in names for f in (0, 2, 4))
    ]


def test_image_split_is_deterministic_and_per_identity() -> None:
    rows = _image_rows(200)
    a = assign_splits(rows, SplitPlan(seed=0), [])
    b = assign_splits(rows, SplitPlan(seed=0), [])
    c = assign_splits(rows, SplitPlan(seed=1), [])
    assert [r.split for r in a] == [r.split for r in b]
    assert [r.split for r in a] != [r.split for r in c]
    assert sum(r.split == "val" for r in a) == 20
    assert {r.split for r in a} == {"train", "val"}


def test_video_split_holds_whole_clips_out() -> None:
    rows = assign_splits(_video_rows(), SplitPlan(seed=3), [])
    split_of: dict[str, set[str]] = {}
    for r in rows:
        split_of.setdefault(r.identity, set()).add(r.split)
    assert all(len(s) == 1 for s in split_of.values())  # no clip straddles the split
    val = sorted(i for i, s in split_of.items() if s == {"val"})
    assert sum(v.startswith("liveportrait_") for v in val) == 2
    assert sum(v.startswith("ghost_") for v in val) == 1
    assert not any(v.startswith("pyfeat_") for v in val)


def test_dev_eval_sources_are_never_train_or_val() -> None:
    rows = [replace(r, source="dfdc_face_crops") for r in _image_rows(10)] + _image_rows(10)
    out = assign_splits(rows, SplitPlan(), ["dfdc_face_crops"])
    assert {r.split for r in out if r.source == "dfdc_face_crops"} == {DEV_EVAL_SPLIT}
    assert DEV_EVAL_SPLIT not in {r.split for r in out if r.source == "utkface"}


def test_adding_a_source_does_not_change_another_sources_split() -> None:
    alone = assign_splits(_image_rows(50), SplitPlan(seed=5), [])
    with_videos = assign_splits(_image_rows(50) + _video_rows(), SplitPlan(seed=5), [])
    assert [r.split for r in alone] == [r.split for r in with_videos[:50]]


def test_rows_round_trip_through_csv(tmp_path: Path) -> None:
    rows = assign_splits(_image_rows(3), SplitPlan(), [])
    write_rows(tmp_path / "m.csv", rows, CropRow)
    assert read_rows(tmp_path / "m.csv", CropRow) == rows
    rejected = [RejectedRow("celeba", "a,b.jpg", 0, "real", 'no face found, "really"')]
    write_rows(tmp_path / "r.csv", rejected, RejectedRow)
    assert read_rows(tmp_path / "r.csv", RejectedRow) == rejected


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("face box without landmarks (det_score 0.62)", "face box without landmarks"),
        ("extra face of 45 px in the image (the largest face was kept)", "extra face of N px in the"
         " image"),
        ("no face found", "no face found"),
    ],
)  # fmt: skip
def test_reason_kind_drops_numbers(reason: str, kind: str) -> None:
    assert reason_kind(reason) == kind
