"""Checkpoint selection on a labelled benchmark: the transfer report
(engine.training.transfer_report)
and the stored crops (engine.training.bench_crops), which must score as the app does."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from engine.training.bench_crops import BenchCrops, aggregate, extract, load_crops, main
from engine.training.transfer_report import format_report, paired_wins, transfer_report


@dataclass(frozen=True)
class _Item:
    path: str
    label: int
    kind: str
    source: str = "repo/x"
    rel_path: str = ""

    @property
    def modality(self) -> str:
        return "video" if self.kind.endswith("_video") else "image"


def _bench() -> tuple[list[_Item], list[dict[str, float]]]:
    items = [
        _Item("faceswap/deepfacelive__A__swap.mp4", 1, "faceswap_video", "iperov/DeepFaceLive"),
        _Item("faceswap/deepfacelive__B__swap.mp4", 1, "faceswap_video", "iperov/DeepFaceLive"),
        _Item("faceswap/roop__snapshot.mp4", 1, "faceswap_video", "s0md3v/roop"),
        _Item("real_videos/deepfacelive__A__input.mp4", 0, "real_video"),
        _Item("real_videos/deepfacelive__B__input.mp4", 0, "real_video"),
        _Item("real_videos/other.mp4", 0, "real_video"),
        _Item("faceswap/x.png", 1, "faceswap_image"),
        _Item("real_photos/y.jpg", 0, "real_image"),
        _Item("real_photos/z.jpg", 0, "real_image"),
    ]
    scores = [
        {"d": 0.9}, {"d": 0.4}, {"d": 0.8},
        {"d": 0.7}, {"d": 0.3}, {"d": 0.1},
        {"d": 0.6}, {"d": 0.5}, {},  # z.jpg: no face
    ]
    return items, scores


def test_report_pairs_each_fake_kind_and_source_with_the_reals_of_its_modality() -> None:
    items, scores = _bench()
    report = transfer_report(items, scores, ["d"])
    kinds = {r.group: r for r in report.kinds}
    # videos: fakes 0.9, 0.4, 0.8 against reals 0.7, 0.3, 0.1: 8 of 9 pairs ranked right
    assert kinds["faceswap_video"].auc["d"] == pytest.approx(8 / 9)
    assert (kinds["faceswap_video"].n_fake, kinds["faceswap_video"].n_real) == (3, 3)
    assert kinds["faceswap_image"].auc["d"] == 1.0  # 0.6 vs 0.5; the faceless photo is left out
    sources = {r.group: r.auc["d"] for r in report.sources}
    assert sources["faceswap_video / s0md3v/roop"] == 1.0
    assert sources["faceswap_video / iperov/DeepFaceLive"] == pytest.approx(5 / 6)
    assert report.false_alarms["video"]["d"] == pytest.approx(1 / 3)  # 0.7 >= 0.5
    assert report.false_alarms["image"]["d"] == 1.0  # the one scored photo: 0.5 >= 0.5
    assert report.threshold == 0.5
    assert paired_wins(items, scores, "d") == (2, 2)  # A: 0.9 > 0.7; B: 0.4 > 0.3
    text = format_report(report)
    assert "faceswap_video" in text
    assert "DeepFaceLive pairs, fake above its real twin: d 2/2" in text
    assert "reals at or above 0.50 (the same bar for every column)" in text


def test_report_refuses_misaligned_scores() -> None:
    items, scores = _bench()
    with pytest.raises(ValueError, match="score rows"):
        transfer_report(items, scores[:-1], ["d"])


def test_aggregate_is_the_mean_over_frames_of_the_max_over_faces() -> None:
    bench = BenchCrops(items=("a", "b", "c"), crops=np.zeros((5, 8, 8, 3), np.uint8),
                       item_of=np.array([0, 0, 0, 1, 1]), frame_of=np.array([0, 0, 5, 0, 1]))
    p = np.array([0.2, 0.6, 0.4, 0.1, 0.3])
    assert aggregate(bench, p) == [pytest.approx(0.5), pytest.approx(0.2), None]


@pytest.mark.slow
def test_stored_crops_score_as_the_app_scores_the_same_files(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two photos and a file that is not media: the stored crops give the app's own p_fake."""
    from engine.api import AnalysisOptions, Analyzer
    from engine.evaluation.bench_index import read_index

    utk = sorted((shared_data / "faces_real" / "utkface").iterdir())[:2]
    (tmp_path / "real.jpg").symlink_to(utk[0])
    (tmp_path / "fake.jpg").symlink_to(utk[1])
    (tmp_path / "broken.png").write_bytes(b"not an image")
    (tmp_path / "index.csv").write_text("path,label,kind\nreal.jpg,real,real_image\n"
                                        "fake.jpg,fake,faceswap_image\n"
                                        "broken.png,real,real_image\n")
    items, errors = read_index(tmp_path / "index.csv")
    assert errors == []
    extract(items, tmp_path / "crops")
    bench = load_crops(items, tmp_path / "crops")
    assert list(bench.item_of) == [0, 1]  # the broken file has no face, and no crop
    argv = ["score", "--index", str(tmp_path / "index.csv"), "--crops", str(tmp_path / "crops"),
            "--detector", "sbi_effl0", "--threads", "1"]
    assert main(argv) == 0
    assert "faceswap_image" in capsys.readouterr().out
    from engine.training.bench_crops import _parse, _scorers, score

    rows = score(bench, _scorers(_parse(argv)))
    with Analyzer(AnalysisOptions(detectors=("sbi_effl0",), runtime="onnx")) as analyzer:
        for item, row in zip(items[:2], rows[:2], strict=True):
            app = analyzer.analyze(item.path).scores[0].p_fake
            assert row["sbi_effl0"] == pytest.approx(app, abs=1e-6)
    assert rows[2] == {}
