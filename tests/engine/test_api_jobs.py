"""Progress at least every half second of work; cancel honoured within half a second."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import pytest

from engine import api
from engine.api import AnalysisOptions, Analyzer, result_to_dict
from engine.jobs import CancelToken, JobCancelled, Progress
from tests.engine.analysis_fakes import FakeDetector, FakeFaceFinder, fake_factory, write_test_video


@pytest.fixture(scope="module")
def video_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    return write_test_video(str(tmp_path_factory.mktemp("jobs") / "clip.avi"), n_frames=40)


def _slow_analyzer(
    *, s_per_item: float, s_per_frame: float
) -> tuple[Analyzer, FakeDetector, FakeFaceFinder]:
    slow = FakeDetector("a", s_per_item=s_per_item)
    faces = FakeFaceFinder(n_faces=2, s_per_frame=s_per_frame)
    factory, _ = fake_factory(slow, FakeDetector("b"))
    analyzer = Analyzer(
        AnalysisOptions(detectors=("a", "b"), n_frames=24),
        isolation=None,
        detector_factory=factory,  # type: ignore[arg-type]
        face_detector=faces,
    )
    return analyzer, slow, faces


def _comparable(result: object) -> dict[str, object]:
    data = result_to_dict(result)  # type: ignore[arg-type]
    data["provenance"]["timings_s"] = []
    return data


@pytest.mark.slow
def test_progress_arrives_at_least_every_half_second_of_work(video_path: str) -> None:
    events: list[tuple[float, Progress]] = []
    analyzer, _, _ = _slow_analyzer(s_per_item=0.03, s_per_frame=0.03)
    with analyzer:
        t_start = time.monotonic()
        result = analyzer.analyze(
            video_path, progress=lambda p: events.append((time.monotonic(), p))
        )
        t_end = time.monotonic()
    assert result.status == "ok"
    assert t_end - t_start > 1.5  # enough slow work for the gaps to mean something
    stamps = [t_start, *(t for t, _ in events), t_end]
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert max(gaps) <= 0.5, f"longest silence {max(gaps):.2f} s"
    stages = [p.stage for _, p in events]
    for stage in ("hash", "frames", "detector a", "detector b"):
        assert stage in stages
    last_frames = [p for _, p in events if p.stage == "frames"][-1]
    assert last_frames.done == last_frames.total == 24


@pytest.mark.parametrize("stage", ["frames", "detector a"])
def test_cancel_is_honoured_within_half_a_second_and_leaves_nothing(
    video_path: str, stage: str
) -> None:
    token = CancelToken()
    reached = threading.Event()
    outcome: dict[str, object] = {}

    def on_progress(p: Progress) -> None:
        if p.stage == stage and p.done >= 2:
            reached.set()

    s_per_frame = 0.1 if stage == "frames" else 0.005
    analyzer, slow, faces = _slow_analyzer(s_per_item=0.1, s_per_frame=s_per_frame)
    with analyzer:

        def work() -> None:
            try:
                outcome["result"] = analyzer.analyze(video_path, progress=on_progress, cancel=token)
            except JobCancelled:
                outcome["cancelled_at"] = time.monotonic()

        thread = threading.Thread(target=work)
        thread.start()
        assert reached.wait(timeout=20)
        t_cancel = time.monotonic()
        token.cancel()
        thread.join(timeout=5)
        assert not thread.is_alive()
        assert "result" not in outcome
        assert outcome["cancelled_at"] - t_cancel <= 0.5  # type: ignore[operator]

        # The analyzer keeps no half-built state: the next run equals a fresh analyzer's.
        slow.s_per_item = faces.s_per_frame = 0.0
        again = analyzer.analyze(video_path)
    fresh_analyzer, _, _ = _slow_analyzer(s_per_item=0.0, s_per_frame=0.0)
    with fresh_analyzer:
        fresh = fresh_analyzer.analyze(video_path)
    assert _comparable(again) == _comparable(fresh)


def test_batch_cancel_returns_no_result(video_path: str, tmp_path: Path) -> None:
    token = CancelToken()

    def cancel_in_second_file(p: Progress) -> None:
        if p.stage == "files" and p.done == 1:
            token.cancel()

    with pytest.raises(JobCancelled):
        api.analyze(
            [video_path, video_path],
            options=AnalysisOptions(detectors=(), n_frames=2),
            progress=cancel_in_second_file,
            cancel=token,
        )


def test_batches_grow_to_the_time_target_and_check_cancel() -> None:
    from engine.analysis.batching import AdaptiveBatcher

    batcher = AdaptiveBatcher(target_s=0.1, max_batch=16)
    sizes = []
    for start, stop in batcher.batches(40):
        sizes.append(stop - start)
        time.sleep(0.02 * (stop - start))
    assert sum(sizes) == 40
    assert sizes[0] == 1
    assert 2 <= max(sizes) <= 6  # about 0.1 s / 0.02 s per item (sleep may overshoot)
    token = CancelToken()
    token.cancel()
    with pytest.raises(JobCancelled):
        next(AdaptiveBatcher().batches(5, token))
