"""The one walker of inputs (engine.inputs), shared by forensic-analyze and the app's import."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.inputs import LINKED_FOLDER, walk_inputs


def _rel(paths: list[str], top: Path) -> list[str]:
    return [Path(p).relative_to(top).as_posix() for p in paths]


def test_folders_are_walked_in_sorted_order_and_hidden_entries_skipped(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    for rel in ("z.jpg", "b/a.jpg", ".git/x.jpg", "b/.y.jpg"):
        (tmp_path / rel).write_bytes(b"x")
    inputs = walk_inputs([str(tmp_path)])
    assert _rel(inputs.files, tmp_path) == ["b/a.jpg", "z.jpg"]
    assert inputs.folders == [str(tmp_path)]
    assert inputs.not_walked == {}
    assert inputs.empty == []


def test_named_files_keep_their_order_even_hidden_or_missing(tmp_path: Path) -> None:
    (tmp_path / ".named.jpg").write_bytes(b"x")
    missing = str(tmp_path / "missing.mp4")
    inputs = walk_inputs([missing, str(tmp_path / ".named.jpg")])
    assert inputs.files == [missing, str(tmp_path / ".named.jpg")]


def test_an_unreadable_folder_is_kept_with_its_reason(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """As root every folder is readable, so the walk's error is made by hand."""
    (tmp_path / "ok.jpg").write_bytes(b"x")
    real_walk = os.walk

    def walk(top: str, onerror: object = None, **kw: object) -> object:
        onerror(PermissionError(13, "Permission denied", str(tmp_path / "locked")))  # type: ignore[operator]
        return real_walk(top, onerror=onerror, **kw)

    monkeypatch.setattr("engine.inputs.os.walk", walk)
    inputs = walk_inputs([str(tmp_path)])
    locked = str(tmp_path / "locked")
    assert _rel(inputs.files, tmp_path) == ["locked", "ok.jpg"]
    assert inputs.not_walked == {locked: "Cannot read this folder: Permission denied"}


def test_a_link_to_a_folder_is_named_not_followed(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    (evidence / "sub").mkdir(parents=True)
    (evidence / "sub" / "a.jpg").write_bytes(b"x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "b.jpg").write_bytes(b"x")
    (evidence / "sub" / "loop").symlink_to(evidence, target_is_directory=True)
    (evidence / "outside").symlink_to(outside, target_is_directory=True)
    (evidence / "b_link.jpg").symlink_to(outside / "b.jpg")  # a link to a file is a file
    inputs = walk_inputs([str(evidence)])
    assert _rel(inputs.files, evidence) == ["b_link.jpg", "outside", "sub/a.jpg", "sub/loop"]
    assert inputs.not_walked == {str(evidence / "outside"): LINKED_FOLDER,
                                 str(evidence / "sub" / "loop"): LINKED_FOLDER}
    # named directly, a link to a folder is walked: the analyst asked for it
    assert _rel(walk_inputs([str(evidence / "outside")]).files, evidence / "outside") == ["b.jpg"]


def test_empty_folders_are_listed_and_a_folder_with_files_is_not(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    hidden = tmp_path / "hidden_only"
    (hidden / ".cache").mkdir(parents=True)
    (hidden / ".notes.jpg").write_bytes(b"x")
    deep = tmp_path / "deep"
    (deep / "er").mkdir(parents=True)
    (deep / "er" / "clip.mp4").write_bytes(b"x")
    inputs = walk_inputs([str(empty), str(hidden), str(deep)])
    assert inputs.empty == [str(empty), str(hidden)]
    assert inputs.files == [str(deep / "er" / "clip.mp4")]
