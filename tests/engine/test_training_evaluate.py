"""Evaluation: AUC / AP / accuracy against brute force, the video rule, and input parsing."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from engine.training.evaluate import LabelledFile, _expand, _read_csv, video_score
from engine.training.metrics import accuracy_at, average_precision, roc_auc, summarize


def _brute_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    pos, neg = scores[labels == 1], scores[labels == 0]
    wins = [1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg)]
    return float(np.mean(wins))


def test_auc_equals_the_pairwise_probability_with_ties() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        scores = np.round(rng.random(30), 1)  # many ties
        labels = rng.integers(0, 2, 30)
        if labels.min() == labels.max():
            continue
        assert roc_auc(scores, labels) == pytest.approx(_brute_auc(scores, labels))


def test_average_precision_on_a_known_ranking() -> None:
    # ranked: fake, real, fake, real -> AP = (1/1 + 2/3) / 2
    scores = np.array([0.9, 0.8, 0.7, 0.1])
    labels = np.array([1, 0, 1, 0])
    assert average_precision(scores, labels) == pytest.approx((1.0 + 2.0 / 3.0) / 2.0)
    assert average_precision(scores, 1 - labels) < 0.6


def test_accuracy_at_threshold_and_summary() -> None:
    scores = np.array([0.2, 0.6, 0.4, 0.9])
    labels = np.array([0, 0, 1, 1])
    assert accuracy_at(scores, labels, 0.5) == pytest.approx(0.5)
    summary = summarize(scores, labels, 0.5)
    assert summary["n_real"] == 2
    assert summary["n_fake"] == 2
    with pytest.raises(ValueError, match="both"):
        roc_auc(scores, np.ones(4))
    with pytest.raises(ValueError, match="NaN"):
        roc_auc(np.array([0.1, np.nan]), np.array([0, 1]))


def test_video_score_is_the_mean_over_frames_of_the_max_over_faces() -> None:
    frame_idx = np.array([0, 0, 5, 9, 9, 9])
    p_fake = np.array([0.1, 0.7, 0.2, 0.3, 0.9, 0.0])
    assert video_score(frame_idx, p_fake) == pytest.approx((0.7 + 0.2 + 0.9) / 3)


def test_inputs_from_folders_and_csv(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / "b.mp4").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("not media")
    assert [f.path.name for f in _expand(tmp_path, 1)] == ["a.png", "b.mp4"]
    csv_path = tmp_path / "list.csv"
    csv_path.write_text("path,label\na.png,real\nb.mp4,1\n")
    assert _read_csv(csv_path) == [LabelledFile(tmp_path / "a.png", 0),
                                   LabelledFile(tmp_path / "b.mp4", 1)]
    csv_path.write_text("path,label\na.png,maybe\n")
    with pytest.raises(ValueError, match="label must be"):
        _read_csv(csv_path)
    with pytest.raises(FileNotFoundError):
        _expand(tmp_path / "missing", 0)


def test_auc_by_source_ranks_each_source_against_its_own_fakes() -> None:
    from engine.training.synthetic_eval import auc_by_source

    groups = np.array(["celeba:1", "celeba:2", "utkface:3", "utkface:4"] * 2)
    labels = np.repeat([0, 1], 4)
    # celeba's fakes outrank its reals; utkface's real 4 outranks its fake of real 3
    p_fake = np.array([0.1, 0.2, 0.3, 0.9, 0.8, 0.7, 0.5, 0.95])
    assert auc_by_source(p_fake, labels, groups) == {"celeba": 1.0, "utkface": 0.75}
