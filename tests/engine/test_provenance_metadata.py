"""EXIF/XMP/ICC/PNG metadata, highlights, GPS, and the inconsistency rules on generated files."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from engine.api import inspect_provenance
from engine.provenance.checks import Facts, find_inconsistencies
from engine.provenance.gps import PRIVACY_NOTE, gps_from_iso6709
from engine.provenance.model import ContentCredentials, FileProvenance
from tests.provenance_media import (
    AI_SOURCE,
    jpeg_bytes,
    textured_rgb,
    thumbnail_of,
    with_metadata,
    write,
)

CAMERA = {"Exif.Image.Make": "Canon", "Exif.Image.Model": "EOS 5D",
          "Exif.Photo.DateTimeOriginal": "2023:05:01 10:00:00",
          "Exif.Image.DateTime": "2023:05:01 10:00:00"}


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    return textured_rgb(240, 320, seed=3)


def _inspect(tmp_path: Path, data: bytes, name: str = "photo.jpg") -> FileProvenance:
    return inspect_provenance(write(tmp_path / name, data))


def _codes(record: FileProvenance) -> dict[str, str]:
    return {i.code: i.severity for i in record.inconsistencies}


def test_camera_photo_highlights_and_no_inconsistency(tmp_path: Path, rgb: np.ndarray) -> None:
    data = with_metadata(jpeg_bytes(rgb), {**CAMERA, "Exif.Photo.PixelXDimension": 320,
                                           "Exif.Photo.PixelYDimension": 240},
                         thumbnail_jpeg=thumbnail_of(rgb))
    record = _inspect(tmp_path, data)
    highlights = {h.key: h.value for h in record.highlights}
    assert highlights["Exif.Image.Make"] == "Canon"
    assert highlights["Exif.Photo.DateTimeOriginal"] == "2023:05:01 10:00:00"
    assert record.thumbnail is not None
    assert record.thumbnail.verdict == "same"
    assert (record.thumbnail.width, record.thumbnail.height) == (160, 120)
    assert "editing_software" not in _codes(record)
    assert "dimensions_disagree" not in _codes(record)
    assert "thumbnail_differs" not in _codes(record)
    assert record.same_bytes.startswith("read once into memory")


def test_editing_software_dates_and_dimensions_are_flagged(tmp_path: Path, rgb: np.ndarray
                                                           ) -> None:
    data = with_metadata(jpeg_bytes(rgb), {
        **CAMERA, "Exif.Image.Software": "Adobe Photoshop 25.1 (Windows)",
        "Exif.Image.DateTime": "2023:06:11 18:30:00",
        "Exif.Photo.PixelXDimension": 6000, "Exif.Photo.PixelYDimension": 4000,
    }, xmp={"Xmp.xmp.CreatorTool": "GIMP 2.10"})
    codes = _codes(_inspect(tmp_path, data))
    assert codes["editing_software"] == "look"
    assert codes["modified_after_capture"] == "look"
    assert codes["dimensions_disagree"] == "look"
    record = _inspect(tmp_path, data)
    editing = next(i for i in record.inconsistencies if i.code == "editing_software")
    assert any("Adobe Photoshop" in e for e in editing.evidence)
    assert any("GIMP" in e for e in editing.evidence)
    assert "not that its content was altered" in editing.explanation
    assert all("proof" not in i.title.lower() for i in record.inconsistencies)


def test_capture_after_modification_and_xmp_disagreement(tmp_path: Path, rgb: np.ndarray
                                                         ) -> None:
    data = with_metadata(jpeg_bytes(rgb), {**CAMERA, "Exif.Image.DateTime":
                                           "2023:04:01 09:00:00"},
                         xmp={"Xmp.xmp.CreateDate": "2021-01-01T08:00:00+00:00"})
    record = _inspect(tmp_path, data)
    titles = {i.title for i in record.inconsistencies if i.code == "dates_disagree"}
    assert titles == {"The capture time is later than the modification time",
                      "Capture times disagree"}


def test_whole_hour_gap_without_zone_is_only_a_note(tmp_path: Path, rgb: np.ndarray) -> None:
    data = with_metadata(jpeg_bytes(rgb), CAMERA,
                         xmp={"Xmp.xmp.CreateDate": "2023-05-01T12:00:00+02:00"})
    record = _inspect(tmp_path, data)
    (item,) = [i for i in record.inconsistencies if i.code == "dates_disagree"]
    assert item.severity == "note"
    assert "time zone" in item.explanation


def test_thumbnail_of_another_picture_differs(tmp_path: Path, rgb: np.ndarray) -> None:
    edited = rgb.copy()
    edited[40:140, 60:200] = 255 - edited[40:140, 60:200]
    data = with_metadata(jpeg_bytes(edited), CAMERA, thumbnail_jpeg=thumbnail_of(rgb))
    record = _inspect(tmp_path, data)
    assert record.thumbnail is not None
    assert record.thumbnail.verdict == "differs"
    assert _codes(record)["thumbnail_differs"] == "look"


def test_gps_is_shown_with_its_privacy_note(tmp_path: Path, rgb: np.ndarray) -> None:
    data = with_metadata(jpeg_bytes(rgb), {
        "Exif.GPSInfo.GPSLatitudeRef": "S", "Exif.GPSInfo.GPSLatitude": "33/1 52/1 3000/100",
        "Exif.GPSInfo.GPSLongitudeRef": "E", "Exif.GPSInfo.GPSLongitude": "151/1 12/1 0/1",
        "Exif.GPSInfo.GPSAltitudeRef": "0", "Exif.GPSInfo.GPSAltitude": "58/1"})
    gps = _inspect(tmp_path, data).gps
    assert gps is not None
    assert gps.lat_deg == pytest.approx(-(33 + 52 / 60 + 30 / 3600))
    assert gps.lon_deg == pytest.approx(151.2)
    assert gps.alt_m == pytest.approx(58.0)
    assert gps.privacy_note == PRIVACY_NOTE
    assert "Personal data" in gps.privacy_note


def test_video_location_tag_parses() -> None:
    gps = gps_from_iso6709("+52.5200+013.4050+034.000/", "video tag location")
    assert gps is not None
    assert (gps.lat_deg, gps.lon_deg, gps.alt_m) == (52.52, 13.405, 34.0)
    assert gps_from_iso6709("+95.0000+013.4050/", "x") is None


def test_declared_ai_in_iptc_and_generator_in_png_text(tmp_path: Path, rgb: np.ndarray) -> None:
    data = with_metadata(jpeg_bytes(rgb), xmp={"Xmp.iptcExt.DigitalSourceType": AI_SOURCE})
    assert _codes(_inspect(tmp_path, data))["metadata_ai_declared"] == "look_first"
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a portrait, Steps: 30, Sampler: Euler a, CFG scale: 7")
    info.add_text("Software", "ComfyUI")
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG", pnginfo=info)
    record = _inspect(tmp_path, buf.getvalue(), "gen.png")
    codes = _codes(record)
    assert codes["generator_parameters"] == "look_first"
    assert codes["generator_named"] == "look_first"
    assert any(e.group == "PNG text" and e.key == "parameters" for e in record.metadata)


def test_icc_profile_description_is_read(tmp_path: Path, rgb: np.ndarray) -> None:
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=90, icc_profile=profile)
    record = _inspect(tmp_path, buf.getvalue())
    assert record.icc_description is not None
    assert "sRGB" in record.icc_description


def test_stripped_photo_gets_only_a_note(tmp_path: Path, rgb: np.ndarray) -> None:
    record = _inspect(tmp_path, jpeg_bytes(rgb))
    assert _codes(record) == {"no_camera_metadata": "note"}
    (item,) = record.inconsistencies
    assert "not a sign of manipulation" in item.explanation


def test_future_date_is_flagged() -> None:
    facts = Facts("jpeg", ContentCredentials("absent", "none"),
                  exif={"Exif.Photo.DateTimeOriginal": "2031:01:01 00:00:00"},
                  now_utc=datetime(2026, 1, 1, tzinfo=UTC))
    assert "date_in_future" in {i.code for i in find_inconsistencies(facts)}


def test_inconsistencies_are_ordered_most_important_first(tmp_path: Path, rgb: np.ndarray
                                                          ) -> None:
    data = with_metadata(jpeg_bytes(rgb), {**CAMERA, "Exif.Image.Software": "FaceApp 9"},
                         xmp={"Xmp.iptcExt.DigitalSourceType": AI_SOURCE})
    severities = [i.severity for i in _inspect(tmp_path, data).inconsistencies]
    order = {"look_first": 0, "look": 1, "note": 2}
    assert severities == sorted(severities, key=order.__getitem__)
    assert severities[0] == "look_first"
