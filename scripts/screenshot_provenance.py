"""Screenshots of the media-provenance features: the panel, a filter overlay, the report page.

Usage (from the repository root; offscreen Qt needs no display)::

    QT_QPA_PLATFORM=offscreen PYTHONPATH=. python scripts/screenshot_provenance.py --out DIR

Evidence is made from a frame of the bundled demo sample (``resources/sample/demo_fake.mp4``):
``portrait_signed.jpg`` carries C2PA Content Credentials signed with a throw-away certificate
that declare generative AI; ``portrait_edited.jpg`` is the same signed file with EXIF naming an
editor, a GPS position, a thumbnail of the unedited picture and pixels changed after signing.
Both are analysed with the shipped detectors. The script saves ``provenance_panel.png`` (the
edited item, the Provenance tab, the ELA filter on the frame) and ``report_provenance.png``
(the report page with that item's Media provenance section, ``pdftoppm -r 70``).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


def _evidence(work: Path) -> list[Path]:
    import av

    media = _module("provenance_media", REPO / "tests" / "provenance_media.py")
    with av.open(str(REPO / "resources" / "sample" / "demo_fake.mp4")) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    pki = media.make_pki()
    signed = media.sign_jpeg(media.jpeg_bytes(frame, 92), pki)
    edited_rgb = frame.copy()
    edited_rgb[40:120, 60:200] = np.clip(edited_rgb[40:120, 60:200].astype(int) + 40, 0, 255)
    edited = media.sign_jpeg(media.with_metadata(media.jpeg_bytes(edited_rgb, 92), {
        "Exif.Image.Make": "Canon", "Exif.Image.Model": "EOS R6",
        "Exif.Image.Software": "Adobe Photoshop 25.1",
        "Exif.Photo.DateTimeOriginal": "2024:03:02 10:15:00",
        "Exif.Image.DateTime": "2024:03:09 22:41:07",
        "Exif.GPSInfo.GPSLatitudeRef": "N", "Exif.GPSInfo.GPSLatitude": "48/1 51/1 2400/100",
        "Exif.GPSInfo.GPSLongitudeRef": "E", "Exif.GPSInfo.GPSLongitude": "2/1 21/1 300/100",
    }, thumbnail_jpeg=media.thumbnail_of(frame)), pki)
    return [media.write(work / "portrait_signed.jpg", signed),
            media.write(work / "portrait_edited.jpg", media.tamper_pixels(edited))]


def main() -> int:
    """Drive the app and save the pictures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    shots = _module("screenshot_app", REPO / "scripts" / "screenshot_app.py")
    from PySide6.QtWidgets import QApplication

    from forensic_gui.app import open_window, parse_args

    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="provenance-shots-"))
    app = QApplication([sys.argv[0]])
    started = open_window(parse_args(["--db", str(work / "cases.sqlite3"), "--settings",
                                      str(work / "settings.toml")]))
    window = started.window
    window.resize(1500, 940)
    shots._wait_for_preload(app, window, 600)
    media = _evidence(work)
    shots._fill_case(app, window, work, None, media, 600)
    shots._select_row(window, "portrait_edited.jpg")
    shots._settle(app, 1.5)
    window.side_tabs.setCurrentWidget(window.provenance)
    window.frame_panel.filters.choose("ela")
    shots._wait(app, lambda: window.frame_panel.view.overlay_visible, 120, "the ELA overlay")
    shots._settle(app, 1.0)
    shots._save_small(window.grab(), args.out / "provenance_panel.png")
    pdf = work / "report.pdf"
    job = window.controller.export_report(window.current_case_id, pdf)
    done: list[object] = []
    job.succeeded.connect(done.append)
    job.failed.connect(done.append)
    shots._wait(app, lambda: bool(done), 120, "the report")
    page = shots._page_with(pdf, "Inconsistencies to look at")
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                           capture_output=True, text=True).stdout.split("\f")
    page = next(i for i, text in enumerate(pages, 1) if "portrait_edited" in text
                and "Media provenance" in text) if any(
        "portrait_edited" in t and "Media provenance" in t for t in pages) else page
    stem = work / "report_provenance"
    subprocess.run(["pdftoppm", "-r", "70", "-png", "-f", str(page), "-l", str(page),
                    "-singlefile", str(pdf), str(stem)], check=True)
    shots._save_small(stem.with_suffix(".png"), args.out / "report_provenance.png")
    print(f"report: {pdf} (page {page})")
    window.close()
    started.store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
