"""Test videos written with PyAV's encoders: every frame carries its index as a visible code.

Each frame is mid-grey with a row of eight 8x8 blocks along the top that spell the frame index
in binary (white = 1), a red square at the top left (which way is up) and a slow gradient (so
encoders produce real P/B-frames). The code survives lossy compression, so a test can read the
index back from any decoded frame (:func:`coded_index`), also after rotation is undone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["CODE_BITS", "coded_frame", "coded_index", "encoder_available", "write_av_video"]

CODE_BITS = 12  # frame indices 0..4095 (frames at least 112 pixels wide)
_BLOCK = 8
_CODE_Y = 16


def coded_frame(frame_idx: int, width: int, height: int) -> np.ndarray:
    """(height, width, 3) uint8 RGB frame ``frame_idx`` (width >= 16 + 8 * CODE_BITS)."""
    ramp = np.linspace(60, 140, width, dtype=np.float32)[None, :] + (frame_idx % 50)
    rgb = np.repeat(ramp[:, :, None], 3, axis=2).repeat(height, axis=0).astype(np.uint8)
    rgb[:12, :12] = (255, 0, 0)
    for bit in range(CODE_BITS):
        x0 = 16 + bit * _BLOCK
        on = (frame_idx >> bit) & 1
        rgb[_CODE_Y : _CODE_Y + _BLOCK, x0 : x0 + _BLOCK] = 250 if on else 5
    return rgb


def coded_index(rgb_u8: np.ndarray) -> int:
    """The frame index a :func:`coded_frame` shows (upright frame)."""
    value = 0
    for bit in range(CODE_BITS):
        x0 = 16 + bit * _BLOCK
        block = rgb_u8[_CODE_Y + 2 : _CODE_Y + _BLOCK - 2, x0 + 2 : x0 + _BLOCK - 2, 1]
        value |= int(float(block.mean()) > 128) << bit
    return value


def encoder_available(codec: str) -> bool:
    """Whether this PyAV build can encode ``codec``."""
    import av

    try:
        av.codec.Codec(codec, "w")
    except (av.error.FFmpegError, ValueError):
        return False
    return True


def write_av_video(
    path: Path,
    *,
    codec: str = "libx264",
    container: str | None = None,
    n_frames: int = 24,
    fps: int = 10,
    size_wh: tuple[int, int] = (112, 64),
    pts: Sequence[int] | None = None,
    first_idx: int = 0,
    options: dict[str, str] | None = None,
) -> Path:
    """Encode ``n_frames`` coded frames into ``path`` with ``codec`` in ``container``.

    ``container`` is an FFmpeg muxer name (``None``: from the extension); the time base is
    ``1/fps`` unless ``pts`` (milliseconds, for a variable frame rate) are given; ``first_idx``
    is the index coded into the first frame (to concatenate streams); ``options`` go to the
    encoder (``{"bf": "3", "g": "12"}``).
    """
    from fractions import Fraction

    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height = size_wh
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        if pts is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        stream.options = dict(options or {})
        for i in range(n_frames):
            frame = av.VideoFrame.from_ndarray(coded_frame(first_idx + i, *size_wh), "rgb24")
            frame.pts = pts[i] if pts is not None else first_idx + i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path
