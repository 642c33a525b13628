"""The self-test's media-provenance step: exiv2, PyAV and the C2PA library work in this install.

A bundle can start and analyse faces while the native libraries behind the metadata step
(libexiv2, libc2pa_c, FFmpeg's libavformat) were left out: the analysis would then carry only
notes saying so. This step reads the demo videos' provenance (PyAV demuxer and the C2PA
reader, which must say "absent", not "not checked") and writes a small JPEG with an EXIF
``Make`` tag that exiv2 must read back. The packaged smoke test runs the self-test with the
network off, so this also shows the step needs no network.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from engine import api

__all__ = ["ProvenanceCheckError", "check_provenance"]

_MAKE = "SelfTestCam"


class ProvenanceCheckError(Exception):
    """The metadata libraries do not work in this installation; the message says which."""


def _exif_jpeg(path: Path) -> Path:
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = _MAKE  # Make
    buf = io.BytesIO()
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(buf, "JPEG", exif=exif)
    path.write_bytes(buf.getvalue())
    return path


def check_provenance(videos: list[Path], out_dir: Path) -> str:
    """Check the three libraries on the demo videos and a generated JPEG; one line on success.

    Raises:
        ProvenanceCheckError: a library is missing or broken.
    """
    states = []
    for video in videos:
        record = api.inspect_provenance(video)
        if record.c2pa.state == "not_checked":
            raise ProvenanceCheckError(f"{video.name}: {record.c2pa.summary}")
        if record.container is None or not record.container.streams:
            raise ProvenanceCheckError(f"{video.name}: no container facts ({record.notes})")
        states.append(f"{video.name} C2PA {record.c2pa.state}, "
                      f"{record.container.streams[0].codec}")
    photo = api.inspect_provenance(_exif_jpeg(out_dir / "self_test_exif.jpg"))
    makes = [h.value for h in photo.highlights if h.key == "Exif.Image.Make"]
    if makes != [_MAKE]:
        raise ProvenanceCheckError(f"exiv2 did not read the EXIF Make back ({photo.notes})")
    return f"{'; '.join(states)}; EXIF read by exiv2 ({len(photo.metadata)} entries)"
