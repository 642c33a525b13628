"""Start the real application on a throw-away database, drive it, and save screenshots.

Usage (from the repository root; re-runs itself under ``xvfb-run`` when there is no display)::

    python scripts/screenshot_app.py --out /work/cache/screenshots --fake-analyzer
    python scripts/screenshot_app.py --out docs/screenshots            # demo case, real detectors
    python scripts/screenshot_app.py --out /tmp/shots --media clip.mp4  # any files, real detectors
    python scripts/screenshot_app.py --out docs/screenshots --docs     # the README's pictures
    python scripts/screenshot_app.py --out /tmp/shots --media suspect.mp4 genuine.mp4 --compare

With ``--fake-analyzer`` the detectors are replaced by the GUI tests' fake (``tests/gui/
fakes.py``) on a generated video, to check the layout without weights. Without it the demo case
from ``resources/sample`` is analysed with the shipped detectors. Prints the longest event-loop
stall measured during each analysis.

``--docs`` (demo case only) writes the documentation set instead: ``main_window.png`` (the
synthesized fake selected, a heatmap shown) and ``report_page<N>.png`` for page 1 and the fake's
two pages of the exported PDF report (rendered with ``pdftoppm -r 70``; ``pdftotext`` finds the
pages), as 256-colour PNGs to keep them small.

``--compare`` (two ``--media`` files) sets the first against the second as reference footage
(the Evidence menu's "Compare with reference…", the analyst's confirmation given), then saves
the window with the first selected (``06_reference_comparison.png``) and the report's page
that prints the comparison (``07_report_reference.png``).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]


def _ensure_display(argv: list[str]) -> None:
    if os.environ.get("DISPLAY") or os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        return
    xvfb_run = shutil.which("xvfb-run")
    if xvfb_run is None:
        sys.exit("No display and no xvfb-run: apt-get install -y xvfb (see the docstring).")
    os.execv(xvfb_run, [xvfb_run, "-a", "-s", "-screen 0 1600x1000x24", sys.executable,
                        str(Path(__file__).resolve()), *argv])


def _load_fakes() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gui_fakes", REPO / "tests" / "gui" / "fakes.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _wait(app: object, done: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Run a real event loop until ``done()`` (a script driving the app, not app code).

    A nested ``QEventLoop`` dispatches events one at a time as ``app.exec()`` does, so the
    stall monitor sees the application's own stalls; a ``processEvents()`` + ``sleep`` loop
    would merge a result handler and the repaint it causes into one measured stall.
    """
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + timeout_s
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(20)
    poll.timeout.connect(lambda: loop.quit() if done() or time.monotonic() > deadline else None)
    poll.start()
    if not done():
        loop.exec()
    poll.stop()
    if not done():
        sys.exit(f"timed out waiting for {what}")


def _settle(app: object, seconds: float = 0.5) -> None:
    end = time.monotonic() + seconds
    _wait(app, lambda: time.monotonic() > end, seconds + 1, "the window to settle")


def _shoot(window: object, out: Path, name: str) -> None:
    path = out / f"{name}.png"
    window.grab().save(str(path))  # type: ignore[attr-defined]
    print(f"wrote {path}")


def _analyse_all(app: object, window: object, timeout_s: float) -> None:
    rows = window.evidence_list.rows  # type: ignore[attr-defined]
    for row in rows:
        window.evidence_list.select_ids([row.evidence_id])  # type: ignore[attr-defined]
        window.analyze_selected()  # type: ignore[attr-defined]
        _wait_for_analyses(app, window, timeout_s)


def _wait_for_analyses(app: object, window: object, timeout_s: float) -> None:
    controller = window.controller  # type: ignore[attr-defined]
    _wait(app, lambda: controller.analysis_running, 30, "an analysis to start")
    _wait(app, lambda: not controller.analysis_running, timeout_s, "the analyses")
    _wait(app, lambda: not controller.stall_monitor.running, 10, "the results to be shown")
    print(f"longest GUI stall during the analyses and the display of their results: "
          f"{controller.last_max_stall_ms:.1f} ms")


def _wait_for_preload(app: object, window: object, timeout_s: float) -> None:
    t0 = time.monotonic()
    _settle(app, 0.2)  # lets the start-up preload job begin
    _wait(app, lambda: not window.tracker.running, timeout_s, "the detectors to load")  # type: ignore[attr-defined]
    print(f"detectors loaded at start-up in {time.monotonic() - t0:.1f} s")
    _settle(app)


def _fill_case(app: object, window: object, work: Path, fakes: ModuleType | None,
               media: list[Path], timeout_s: float) -> Path | None:
    """The fake case (generated two-face video), the given media, or the demo case.

    Returns the generated video in the fake case, else ``None``.
    """
    if media:
        window.controller.create_case(_fake_case_fields())  # type: ignore[attr-defined]
        window.import_paths(media)  # type: ignore[attr-defined]
        _wait(app, lambda: len(window.evidence_list.rows) == len(media), 120, "the import")  # type: ignore[attr-defined]
        _analyse_all(app, window, timeout_s)
        return None
    if fakes is None:
        from forensic_gui.demo import DemoSampleMissingError, demo_paths

        try:
            demo_paths()
        except DemoSampleMissingError as exc:
            sys.exit(str(exc))
        window.create_demo_case()  # type: ignore[attr-defined]
        _wait(app, lambda: len(window.evidence_list.rows) == 2, 120, "the demo import")  # type: ignore[attr-defined]
        _wait_for_analyses(app, window, timeout_s)  # the demo case is analysed on import
        return None
    video = fakes.write_tiny_video(work / "interview_two_faces.mp4", n_faces=2, scale=5)
    window.controller.create_case(_fake_case_fields())  # type: ignore[attr-defined]
    window.import_paths([video])  # type: ignore[attr-defined]
    _wait(app, lambda: len(window.evidence_list.rows) == 1, 60, "the import")  # type: ignore[attr-defined]
    _analyse_all(app, window, timeout_s)
    return video


def _select_row(window: object, file_name: str) -> None:
    """The row of ``file_name`` (the demo's fake), else the last row."""
    rows = window.evidence_list.rows  # type: ignore[attr-defined]
    row = next((r for r in rows if r.file_name == file_name), rows[-1])
    window.evidence_list.select_ids([row.evidence_id])  # type: ignore[attr-defined]


def _show_overlay(app: object, window: object, preferred: str) -> None:
    """Seek to 1.5 s and show the ``preferred`` detector's heatmap, else the first one."""
    window.timeline.seek_to_time(1.5)  # type: ignore[attr-defined]
    _settle(app, 1.0)
    choices = window.frame_panel.overlay_choices()  # type: ignore[attr-defined]
    if choices:
        chosen = preferred if preferred in choices else choices[0]
        window.frame_panel.set_active_overlay(chosen)  # type: ignore[attr-defined]
    _settle(app, 1.0)


def _shoot_views(app: object, window: object, out: Path, overlay: str) -> None:
    _select_row(window, "demo_fake.mp4")
    _settle(app, 1.0)
    _shoot(window, out, "02_analysis")
    _show_overlay(app, window, overlay)
    _shoot(window, out, "03_heatmap_seek")
    if window.timeline.findChild(object, "track_selector").isEnabled():  # type: ignore[attr-defined]
        window.timeline.select_track(1)  # type: ignore[attr-defined]
        _settle(app)
        _shoot(window, out, "04_track_selected")


def main(argv: list[str] | None = None) -> int:
    raw = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNG files")
    parser.add_argument("--fake-analyzer", action="store_true",
                        help="use the GUI tests' fake analyzer on a generated video")
    parser.add_argument("--media", type=Path, nargs="*", default=[],
                        help="analyse these files (real detectors) instead of the demo case")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per analysis")
    parser.add_argument("--overlay", default="sbi_effl0",
                        help="the detector whose heatmap is shown, when it has one")
    parser.add_argument("--docs", action="store_true",
                        help="demo case only: write main_window.png and the report pages")
    parser.add_argument("--compare", action="store_true",
                        help="set the first --media file against the second as reference")
    args = parser.parse_args(raw)
    if args.docs and (args.fake_analyzer or args.media):
        parser.error("--docs shows the demo case with the real detectors only")
    if args.compare and len(args.media) != 2:
        parser.error("--compare needs exactly two --media files: the suspect, the reference")
    _ensure_display(raw)

    from PySide6.QtWidgets import QApplication

    from forensic_gui.app import open_window, parse_args
    from forensic_gui.controller import EngineServices

    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="screenshots-"))
    app = QApplication([sys.argv[0]])
    fakes = _load_fakes() if args.fake_analyzer else None
    services = None
    if fakes is not None:
        analyzer = fakes.FakeAnalyzer(n_faces=2, step_s=0.05)
        services = EngineServices(analyzer_factory=fakes.FakeAnalyzerFactory(analyzer),
                                  list_detectors=lambda: fakes.FAKE_DETECTORS)
    started = open_window(parse_args(["--db", str(work / "cases.sqlite3"), "--settings",
                                      str(work / "settings.toml")]), services=services)
    window = started.window
    window.resize(1500, 940)
    _wait_for_preload(app, window, args.timeout)
    if not args.docs:
        _shoot(window, args.out, "01_first_start")
    video = _fill_case(app, window, work, fakes, args.media, args.timeout)
    if args.docs:
        _shoot_docs(app, window, work, args.out, args.overlay)
    elif args.compare:
        _shoot_comparison(app, window, work, args.out)
    else:
        _shoot_views(app, window, args.out, args.overlay)
    if video is not None:
        _shoot_integrity_failure(app, window, video, work, args.out)
    window.close()
    started.store.close()
    return 0


def _shoot_integrity_failure(app: object, window: object, video: Path, work: Path,
                             out: Path) -> None:
    """Import a copy, change one byte of it, analyse: the refusal, the red row, the message."""
    from PySide6.QtGui import QGuiApplication

    copy = Path(shutil.copy(video, work / "exhibit_7_copy.mp4"))
    with copy.open("ab") as f:
        f.write(b"\0")  # not the same bytes as the first exhibit, so it is not a duplicate
    window.import_paths([copy])  # type: ignore[attr-defined]
    _wait(app, lambda: len(window.evidence_list.rows) == 2, 60, "the import")  # type: ignore[attr-defined]
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    window.evidence_list.select_ids([window.evidence_list.rows[-1].evidence_id])  # type: ignore[attr-defined]
    window.analyze_selected()  # type: ignore[attr-defined]
    _wait(app, lambda: not window.controller.analysis_running, 60, "the refusal")  # type: ignore[attr-defined]
    _settle(app, 1.0)
    path = out / "05_integrity_failure.png"
    QGuiApplication.primaryScreen().grabWindow(0).save(str(path))
    print(f"wrote {path}")


def _shoot_docs(app: object, window: object, work: Path, out: Path, overlay: str) -> None:
    """The README's pictures: the analysed fake with a heatmap, then the report's pages."""
    _select_row(window, "demo_fake.mp4")
    _settle(app, 1.0)
    _show_overlay(app, window, overlay)
    _save_small(window.grab(), out / "main_window.png")  # type: ignore[attr-defined]
    pdf = _export_report(app, window, work / "demo_report.pdf")
    fake_page = _page_with(pdf, "Item 2: demo_fake.mp4")
    for page in (1, fake_page, fake_page + 1):  # cover, the fake's findings, its key frames
        stem = work / f"report_page{page}"
        subprocess.run(["pdftoppm", "-r", "70", "-png", "-f", str(page), "-l", str(page),
                        "-singlefile", str(pdf), str(stem)], check=True)
        _save_small(stem.with_suffix(".png"), out / f"report_page{page}.png")


def _shoot_comparison(app: object, window: object, work: Path, out: Path) -> None:
    """The first row set against the second as reference, shown and printed."""
    rows = window.evidence_list.rows  # type: ignore[attr-defined]
    store = window.store  # type: ignore[attr-defined]
    suspect, reference = (store.latest_analysis(r.evidence_id) for r in rows[:2])
    if suspect is None or reference is None:
        sys.exit("both files must have been analysed")
    if not window.controller.compare_with_reference(  # type: ignore[attr-defined]
            rows[0].evidence_id, suspect.id, reference.id):
        sys.exit("the comparison was refused (see the message above)")
    window.evidence_list.select_ids([rows[0].evidence_id])  # type: ignore[attr-defined]
    _settle(app, 1.5)
    _shoot(window, out, "06_reference_comparison")
    pdf = _export_report(app, window, work / "report.pdf")
    page = _page_with(pdf, "Comparison with reference footage")
    stem = work / "report_reference"
    subprocess.run(["pdftoppm", "-r", "70", "-png", "-f", str(page), "-l", str(page),
                    "-singlefile", str(pdf), str(stem)], check=True)
    shutil.copy(stem.with_suffix(".png"), out / "07_report_reference.png")
    shutil.copy(pdf, out / "report.pdf")
    print(f"wrote {out / '07_report_reference.png'} (page {page}) and {out / 'report.pdf'}")


def _export_report(app: object, window: object, pdf: Path) -> Path:
    """Export the current case's PDF report to ``pdf`` as the menu does, and wait for it."""
    job = window.controller.export_report(window.current_case_id, pdf)  # type: ignore[attr-defined]
    outcome: list[object] = []
    job.succeeded.connect(outcome.append)
    job.failed.connect(outcome.append)
    _wait(app, lambda: bool(outcome), 120, "the report export")
    if not pdf.is_file():
        sys.exit(f"the report was not written: {outcome[0]}")
    return pdf


def _page_with(pdf: Path, text: str) -> int:
    """The first page (1-based) of ``pdf`` whose text holds ``text`` (``pdftotext``)."""
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                           capture_output=True, text=True).stdout.split("\f")
    found = [i for i, page in enumerate(pages, start=1) if text in page]
    if not found:
        sys.exit(f"no page of {pdf} mentions {text!r}")
    return found[0]


def _save_small(image: object, path: Path) -> None:
    """Save a QPixmap or PNG file as a 256-colour PNG (screenshots have few colours)."""
    from PIL import Image

    source = image if isinstance(image, Path) else path.with_suffix(".full.png")
    if source is not image:
        image.save(str(source))  # type: ignore[attr-defined]
    with Image.open(source) as opened:
        rgb = opened.convert("RGB")
    if source is not image:
        source.unlink()
    # NOTE: Pillow dithers only against a given palette, so the palette is computed first.
    palette = rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    rgb.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG).save(path, optimize=True)
    print(f"wrote {path} ({path.stat().st_size / 1e3:.0f} kB)")


def _fake_case_fields() -> object:
    from forensic_gui.dialogs.new_case_dialog import NewCaseFields

    return NewCaseFields("2024-117", "Interview clip, suspected face swap", "J. Doe",
                         "Layout check with the fake analyzer")


if __name__ == "__main__":
    raise SystemExit(main())
