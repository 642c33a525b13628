"""Every odd or broken file of the generated corpus gives its typed error, or a correct result."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from engine.errors import MediaError
from engine.media import iter_frames, probe, read_frame, sample_frames
from tests.engine.bad_media import CASES, Case, frame_index_of

BROKEN = [case for case in CASES if case.expect is not None]
VALID = [case for case in CASES if case.expect is None]


def _ids(cases: list[Case]) -> list[str]:
    return [case.name for case in cases]


# Files that only fail once decoding reaches the missing part: the header and frame 0 are fine.
FAIL_LATE = {"overcount_avi"}


@pytest.mark.parametrize("case", BROKEN, ids=_ids(BROKEN))
def test_broken_file_gives_its_typed_error_from_every_entry_point(
    case: Case, media_corpus: dict[str, Path]
) -> None:
    path = media_corpus[case.name]
    reads = [lambda: list(sample_frames(path, n_frames=4)), lambda: list(iter_frames(path))]
    if case.name not in FAIL_LATE:
        reads += [lambda: probe(path), lambda: read_frame(path, 0)]
    for read in reads:
        with pytest.raises(MediaError) as excinfo:
            read()
        err = excinfo.value
        assert case.expect is not None
        assert isinstance(err, case.expect), f"{case.name}: {type(err).__name__}: {err}"
        assert err.path == str(path)
        assert len(err.reason) > 15  # a sentence for a person, not a code


def test_broken_files_are_not_modified(media_corpus: dict[str, Path]) -> None:
    for case in BROKEN:
        path = media_corpus[case.name]
        if not path.is_file():
            continue
        before = hashlib.sha256(path.read_bytes()).hexdigest()
        with pytest.raises(MediaError):
            list(sample_frames(path, n_frames=4))
        assert hashlib.sha256(path.read_bytes()).hexdigest() == before


@pytest.mark.parametrize("case", VALID, ids=_ids(VALID))
def test_valid_odd_file_reads_as_upright_rgb(case: Case, media_corpus: dict[str, Path]) -> None:
    path = media_corpus[case.name]
    info = probe(path)
    frames = list(sample_frames(path, n_frames=4))
    assert frames, case.name
    for frame in frames:
        assert frame.rgb_u8.dtype == np.uint8
        assert frame.rgb_u8.shape == (info.height, info.width, 3)
        assert frame.rgb_u8.flags.c_contiguous
    assert [f.frame_idx for f in frames] == sorted({f.frame_idx for f in frames})


def _pixel(media_corpus: dict[str, Path], name: str, y: int = 0, x: int = 0) -> list[int]:
    rgb = read_frame(media_corpus[name], 0).rgb_u8
    return [int(v) for v in rgb[y, x]]


def test_odd_images_give_the_colours_a_viewer_shows(media_corpus: dict[str, Path]) -> None:
    assert _pixel(media_corpus, "one_by_one") == [9, 99, 199]
    assert _pixel(media_corpus, "palette_png", 0, 0) == [250, 20, 40]
    assert _pixel(media_corpus, "palette_png", 40, 60) == [10, 200, 30]
    assert _pixel(media_corpus, "rgba_png") == [40, 80, 160]  # alpha dropped, colour kept
    assert _pixel(media_corpus, "png_16bit_rgb") == [255, 100, 0]
    np.testing.assert_allclose(_pixel(media_corpus, "cmyk_jpg", 20, 30), [200, 40, 60], atol=6)
    np.testing.assert_allclose(_pixel(media_corpus, "gray_jpg", 20, 30), [77, 77, 77], atol=2)
    assert _pixel(media_corpus, "animated_gif") == [255, 0, 0]  # the first frame


def test_sixteen_bit_greyscale_is_scaled_not_clipped(media_corpus: dict[str, Path]) -> None:
    rgb = read_frame(media_corpus["png_16bit_gray"], 0).rgb_u8
    # the file holds a ramp 0, 1040, 2080, ... 65520 along x; 8-bit is round(v / 257)
    expected = np.rint(np.arange(64) * 1040 / 257).astype(np.uint8)
    np.testing.assert_array_equal(rgb[10, :, 0], expected)
    assert (rgb[..., 0] == rgb[..., 2]).all()


def test_exif_orientation_is_applied(media_corpus: dict[str, Path]) -> None:
    path = media_corpus["exif_rotated_jpg"]
    info = probe(path)
    rgb = read_frame(path, 0).rgb_u8
    assert (info.width, info.height, info.rotation_deg) == (48, 64, 90)
    assert rgb.shape == (64, 48, 3)
    # the red square stored top-left is shown top-right after a 90° clockwise turn
    assert rgb[2, 45, 0] > 200
    assert rgb[2, 45, 1] < 60
    assert rgb[2, 2, 0] < 100


def test_content_decides_the_format_not_the_extension(media_corpus: dict[str, Path]) -> None:
    png = probe(media_corpus["png_named_mp4"])
    video = probe(media_corpus["mp4_named_jpg"])
    assert (png.kind, png.format_name) == ("image", "png")
    assert (video.kind, video.format_name, video.n_frames) == ("video", "mp4", 16)
    assert frame_index_of(read_frame(media_corpus["mp4_named_jpg"], 5).rgb_u8) == 5


def test_unicode_and_long_paths_read(media_corpus: dict[str, Path]) -> None:
    assert len(str(media_corpus["deep_path_image"])) > 400
    assert len(media_corpus["long_name_video"].name.encode()) > 240
    for name in ("unicode_video", "long_name_video"):
        frames = list(iter_frames(media_corpus[name]))
        assert [frame_index_of(f.rgb_u8) for f in frames] == list(range(16))
    for name in ("unicode_image", "deep_path_image"):
        assert read_frame(media_corpus[name], 0).rgb_u8.shape == (48, 64, 3)
