"""forensic-analyze: one JSON line per file, exit 0 on per-file errors, 2 on usage errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.api import AnalysisOptions, Analyzer
from engine.cli import _write_maps, main
from tests.engine.analysis_fakes import FakeDetector, FakeFaceFinder, fake_factory, write_test_video


@pytest.fixture
def mixed_folder(tmp_path: Path, shared_data: Path) -> Path:
    folder = tmp_path / "evidence"
    folder.mkdir()
    shutil.copyfile(shared_data / "videos_real" / "pyfeat_single_face.jpg", folder / "a_face.jpg")
    good = (folder / "a_face.jpg").read_bytes()
    (folder / "b_corrupt.jpg").write_bytes(good[:200])  # header, then nothing
    (folder / "c_notes.mp4").write_text("not a video at all\n", encoding="utf-8")
    (folder / ".hidden").write_text("skipped", encoding="utf-8")
    return folder


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.slow
def test_folder_with_good_corrupt_and_text_files(mixed_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert main([str(mixed_folder), "--jsonl", str(out), "--quiet"]) == 0
    records = _lines(out)
    assert [Path(str(r["path"])).name for r in records] == [
        "a_face.jpg",
        "b_corrupt.jpg",
        "c_notes.mp4",
    ]
    assert [r["status"] for r in records] == ["ok", "error", "error"]
    good, corrupt, text = records
    assert good["kind"] == "image"
    assert good["error"] is None
    assert len(str(good["sha256"])) == 64
    assert good["finding"]["grade"]  # type: ignore[index]
    assert good["provenance"]["engine_version"]  # type: ignore[index]
    assert "frames" not in good  # per-frame scores are for videos
    assert corrupt["error"]
    assert "text file" in str(text["error"])
    assert text["kind"] is None


def test_lines_go_to_stdout_without_jsonl(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video = write_test_video(str(tmp_path / "clip.avi"), n_frames=10)
    missing = str(tmp_path / "missing.mp4")
    assert main([video, missing, "--frames", "3", "--quiet"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["status"] for r in lines] == ["no_face", "error"]
    assert len(lines[0]["frames"]) == 3
    # NOTE: no face, yet the whole-picture detector scores every frame: the face kinds are
    # not applicable, the generated-image kind is graded (issue 16).
    kinds = {k["kind"]: k for k in lines[0]["finding"]["kinds"]}
    assert kinds["face_swap"]["grade"] == "NOT_APPLICABLE"
    assert kinds["generated"]["grade"] != "NOT_APPLICABLE"
    assert set(lines[0]["picture_p_fake"]) == set(kinds["generated"]["applicable_detectors"])
    whole_picture = set(lines[0]["picture_p_fake"])
    assert whole_picture  # at least one whole-picture detector is shipped
    assert all(set(f["picture_p_fake"]) == whole_picture for f in lines[0]["frames"])
    assert lines[0]["provenance"]["sampling"] == "video frames: 3 evenly spaced"
    # Why each kind got its grade (engine.fusion.explain), with the bounds of real videos.
    reasons = lines[0]["grade_reasons"]
    assert reasons["face_swap"]["score"] is None
    assert reasons["generated"]["grade"] == kinds["generated"]["grade"]
    assert reasons["generated"]["level"] == "video"
    assert "bounds for real videos" in reasons["generated"]["text"]
    assert lines[1]["grade_reasons"] == {}
    assert "not found" in lines[1]["error"].lower()


def test_a_linked_folder_in_a_walked_folder_gets_its_own_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A link to a folder is not followed, and says so instead of contributing nothing."""
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    write_test_video(str(evidence / "clip.avi"), n_frames=6)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write_test_video(str(elsewhere / "other.avi"), n_frames=6)
    (evidence / "more").symlink_to(elsewhere, target_is_directory=True)
    assert main([str(evidence), "--frames", "2", "--quiet"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(Path(r["path"]).name, r["status"]) for r in lines] == [
        ("clip.avi", "no_face"), ("more", "error")]
    assert "link to a folder" in lines[1]["error"]
    assert "not followed" in lines[1]["error"]


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["x.jpg", "--frames", "0"],
        ["x.jpg", "--frames", "4", "--fps", "2"],
        ["x.jpg", "--fps", "-1"],
        ["x.jpg", "--runtime", "tensorflow"],
        ["x.jpg", "--detectors", ""],
        ["x.jpg", "--detectors", "no_such_detector"],
    ],
)
def test_usage_errors_exit_with_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc_info:
        main(argv)
    assert exc_info.value.code == 2


def test_maps_are_written_on_each_detectors_top_frame(tmp_path: Path) -> None:
    video = write_test_video(str(tmp_path / "clip.avi"), n_frames=10)
    factory, _ = fake_factory(FakeDetector("a"))
    with Analyzer(
        AnalysisOptions(detectors=("a",), n_frames=4, want_maps=True),
        isolation=None,
        detector_factory=factory,  # type: ignore[arg-type]
        face_detector=FakeFaceFinder(),
    ) as analyzer:
        result = analyzer.analyze(video)
        written = _write_maps(result, tmp_path / "maps", analyzer)["maps"]
    top = max(result.frames, key=lambda f: f.scores[0].p_fake or 0.0)
    assert [Path(p).name for p in written] == [f"a_frame{top.frame_idx:06d}.png"]
    assert Path(written[0]).stat().st_size > 0


def test_fps_sampling_has_no_frame_cap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    video = write_test_video(str(tmp_path / "clip.avi"), n_frames=40)  # 4 s at 10 fps
    assert main([video, "--fps", "10", "--quiet", "--detectors", "all"]) == 0
    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(line["frames"]) == 40
    assert line["provenance"]["sampling"] == "video frames: 10 per second"


def test_workers_native_chatter_stays_off_the_terminal(
    tmp_path: Path, shared_data: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """MediaPipe's and TFLite's start-up notes of each worker never reach stderr; lines do."""
    photo = tmp_path / "face.jpg"
    shutil.copyfile(shared_data / "videos_real" / "pyfeat_single_face.jpg", photo)
    assert main([str(photo), "--workers", "1", "--quiet"]) == 0
    out, err = capfd.readouterr()
    assert json.loads(out)["status"] == "ok"
    assert "XNNPACK" not in err
    assert "absl::InitializeLog" not in err
    assert "inference_feedback_manager" not in err
