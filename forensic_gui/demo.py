"""The demo case: a short real clip and a synthesized fake shipped in ``resources/sample/``.

The file names live here and nowhere else, so replacing the sample means editing
:data:`DEMO_SAMPLES` only. A missing sample is reported with the paths that were looked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from forensic_gui.resources import resources_dir

__all__ = [
    "DEMO_CASE_NAME",
    "DEMO_CASE_NOTES",
    "DEMO_CASE_NUMBER",
    "DEMO_SAMPLES",
    "DemoSample",
    "DemoSampleMissingError",
    "demo_paths",
]

DEMO_CASE_NUMBER = "DEMO-1"
DEMO_CASE_NAME = "Demo case (bundled sample)"
DEMO_CASE_NOTES = ("Created from the sample shipped with the application: one real clip and one "
                   "synthesized fake, to show the workflow. Not real casework.")


@dataclass(frozen=True)
class DemoSample:
    """One bundled demo file: its name under ``resources/sample/`` and what it is."""

    file_name: str
    description: str


DEMO_SAMPLES: tuple[DemoSample, ...] = (
    DemoSample("demo_real.mp4",
               "a real public-domain photograph seen through a virtual camera (pan/zoom)"),
    DemoSample("demo_fake.mp4", "the same frames with a self-blended face (synthesized fake)"),
)


class DemoSampleMissingError(Exception):
    """The bundled demo files are not there; the message lists what was looked for."""


def demo_paths(sample_dir: Path | None = None) -> list[Path]:
    """The demo files, checked to exist.

    Args:
        sample_dir: where to look; ``resources/sample`` when ``None``.

    Raises:
        DemoSampleMissingError: one or more files are missing.
    """
    folder = sample_dir if sample_dir is not None else resources_dir() / "sample"
    paths = [folder / s.file_name for s in DEMO_SAMPLES]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        listed = "\n".join(f"  {p}" for p in missing)
        raise DemoSampleMissingError(
            "The demo sample is not installed, so the demo case cannot be created. "
            f"Missing file(s):\n{listed}\nYou can still create a case and add your own files."
        )
    return paths
