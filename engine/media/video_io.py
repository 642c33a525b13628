"""Decoding video frames with PyAV (FFmpeg's libraries), by exact frame index, with seeking.

Frames are found through the :mod:`engine.media.video_index` frame index: a decoded frame's
presentation timestamp names its ``frame_idx``, so seeking never guesses. To decode frame
``i`` the decoder seeks to the last keyframe at or before ``i`` and decodes forward to the
frame whose timestamp is ``i``'s; when the next wanted frame lies in the interval being
decoded, it simply goes on. A seek that lands after the wanted frame (an open GOP whose
leading frames need the previous interval, or a demuxer that seeks by decode time) is retried
from an earlier keyframe; from the beginning, nothing is guessed at all.

The frame size the header declares is checked against the limits before anything is decoded
(how the file is opened safely: :mod:`engine.media.av_open`), and the decoder's own
``max_pixels`` refuses larger frames that a stream switches to later.

Damaged frames (a packet that does not decode, or a frame FFmpeg flags as corrupt) are skipped
and counted in the :class:`engine.media.report.DecodeReport`; frames are converted to RGB with
the BT.601 matrix, as OpenCV did (see :func:`engine.media.av_open.frame_to_rgb`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from engine.closing import Closing
from engine.errors import CorruptMediaError
from engine.jobs import CancelToken
from engine.media.av_open import DEMUXERS, frame_orientation, frame_to_rgb, open_video_container
from engine.media.containers import check_container
from engine.media.index_build import check_frame_count, load_index
from engine.media.limits import MediaLimits, check_frame_size
from engine.media.orient import Orientation
from engine.media.report import DecodeReport
from engine.media.sniff import Sniffed
from engine.media.video_index import demux_packets, mark_unseekable
from engine.types import Frame

__all__ = ["VideoDecoder"]

logger = logging.getLogger(__name__)

# NOTE: check for cancellation every 32 decoded frames: at most ~0.1 s of 1080p decoding.
_CANCEL_EVERY_FRAMES = 32
# NOTE: a seek that overshoots is retried from up to 3 keyframes earlier; a frame still not
# reached is not decodable from any nearby keyframe and is reported as damaged.
_MAX_BACKOFF = 3
# NOTE: go on decoding instead of seeking while the wanted frame's keyframe is at most this
# many frames ahead: a seek flushes the decoder, which then needs several frames to restart.
_SEEK_GAIN_FRAMES = 8

# NOTE: FFmpeg's MPEG program-stream demuxer re-derives timestamps after a seek (its parser
# restarts), so they differ from a scan from the start; such files are decoded from the start.
_UNSEEKABLE_DEMUXERS = frozenset({"mpeg"})
# NOTE: frame and slice threads, at most 4: on the 2-core development machine they halve the
# time of a 32-frame sample and of a seek (bench/bench_decode.py); more than 4 helps little
# per file while several files are analysed at once.
DECODER_THREADS = ("AUTO", min(4, os.cpu_count() or 1))
_OVERSHOT = object()


class _SeekUnreliable(Exception):
    """Packets after a seek carry timestamps the scan did not see."""


class VideoDecoder(Closing):
    """One open video whose frames are read by exact index, seeking to keyframes.

    Use as a context manager. ``index`` is the frame index; ``report`` collects what decoding
    finds. Frames may be asked for in any order; increasing order is cheapest.

    Args:
        path: the file.
        sniffed: its sniffed format.
        limits: size limits, checked from the header before decoding.
        report: filled in while decoding (a new one if ``None``).
        strict_count: raise :class:`TruncatedMediaError` at once when the container lists
            more than ``FRAME_COUNT_SLACK`` frames beyond those the stream holds (sampling
            does; ``probe`` and single-frame reads only log it).
    """

    def __init__(
        self,
        path: str,
        sniffed: Sniffed,
        limits: MediaLimits,
        report: DecodeReport | None = None,
        *,
        strict_count: bool = False,
    ) -> None:
        check_container(path, sniffed.format_name, sniffed.size_bytes)
        self.path = path
        self.report = report if report is not None else DecodeReport()
        self._sniffed, self._limits = sniffed, limits
        self._fh, self._container, self._stream = open_video_container(path, sniffed)
        self._run: Iterator[tuple[int, Any]] | None = None
        self._pending: tuple[int, Any] | None = None
        self._last_idx = -1
        self._damaged: set[int] = set()
        self._orientation: Orientation | None = None
        self._order_idx = 0  # next frame number in decode_order mode
        self._tainted = False  # a damaged frame was met since the last keyframe
        self._verify_run = False  # check a run's packets against the scan (after a seek)
        try:
            self._check_header()
            self.index = load_index(path, self._stream.index,
                                    lambda: open_video_container(path, sniffed))
            check_frame_count(self.index, path, strict=strict_count)
        except BaseException:
            self.close()
            raise
        if DEMUXERS.get(sniffed.format_name) in _UNSEEKABLE_DEMUXERS:
            mark_unseekable(self.index)
        self._fill_report()

    def close(self) -> None:
        """Release the decoder and the file (also done by the context manager)."""
        self._run = None
        self._container.close()
        self._fh.close()

    @property
    def n_frames(self) -> int:
        """Frames the stream holds."""
        return self.index.n_frames

    @property
    def codec(self) -> str | None:
        """FFmpeg's name of the video codec (``"h264"``, ``"hevc"``, ``"mjpeg"``)."""
        return str(self._stream.codec_context.name or "") or None

    @property
    def n_header(self) -> int | None:
        """Frames the container states (``None``: it states none)."""
        return self.index.n_header

    @property
    def n_missing(self) -> int:
        """Frames the container states beyond those the stream holds or its edit list hides."""
        return self.index.n_missing

    @property
    def fps(self) -> float:
        """Average frame rate."""
        return self.index.fps

    @property
    def duration_s(self) -> float:
        """Seconds from the first frame to the end of the last."""
        return self.index.duration_s

    @property
    def constant_fps(self) -> float | None:
        """The frame rate when frames are presented at a constant rate, else ``None``."""
        return self.index.constant_fps

    def times_s(self) -> np.ndarray:
        """(n_frames,) float64 presentation times from frame 0, in seconds."""
        return self.index.times_s()

    def t_sec(self, frame_idx: int) -> float:
        """Presentation time of ``frame_idx`` from frame 0, in seconds."""
        return self.index.t_sec(frame_idx)

    def read(
        self, frame_idx: int, until: int | None = None, cancel: CancelToken | None = None
    ) -> Frame | None:
        """Decode ``frame_idx``; ``None`` if it is damaged (counted in the report).

        With ``until``, a damaged ``frame_idx`` is replaced by the first decodable frame
        before ``until`` (recorded in ``report.substitutions``), as sampling wants.
        """
        if not 0 <= frame_idx < self.n_frames:
            raise IndexError(f"frame {frame_idx} is out of range: the video has {self.n_frames}")
        got = self._find(frame_idx, until, cancel)
        if got is None:
            return None
        idx, av_frame = got  # type: ignore[misc]
        if idx != frame_idx:
            self.report.substitutions.append((frame_idx, idx))
        self.report.n_frames_returned += 1
        return self._to_frame(idx, av_frame)

    # --- positioning ------------------------------------------------------------------------

    def _find(self, frame_idx: int, until: int | None, cancel: CancelToken | None) -> Any:
        """(idx, av frame) of ``frame_idx`` or its substitute, or ``None``."""
        for back in range(_MAX_BACKOFF + 1):
            seeked = self._position(frame_idx, back)
            try:
                got = self._advance(frame_idx, until, seeked, cancel)
            except _SeekUnreliable:
                logger.warning("%s: timestamps after a seek differ from the file's index; "
                               "decoding from the start instead", self.path)
                mark_unseekable(self.index)
                self._run = None
                return self._find(frame_idx, until, cancel)
            if got is not _OVERSHOT:
                return got
        self._note_damaged(frame_idx)
        return None

    def _position(self, frame_idx: int, back: int) -> bool:
        """Get ready to decode towards ``frame_idx``; True when that meant a keyframe seek."""
        key = self.index.key_at_or_before(frame_idx, back)
        key_idx = key[0] if key is not None else 0
        floor = self._pending[0] if self._pending is not None else self._last_idx + 1
        going_on = back == 0 and self._run is not None and floor <= frame_idx
        if going_on and key_idx <= floor + _SEEK_GAIN_FRAMES:
            return False
        self.report.n_seeks += 1
        self._pending, self._last_idx, self._tainted = None, -1, False
        if key is not None and key_idx > 0 and self._seek(key[1]):
            self._verify_run = True
            self._run = self._decode_run()
            return True
        self._restart()
        return False  # from the beginning nothing can be overshot

    def _seek(self, pts: int) -> bool:
        """Seek to the keyframe at or before ``pts``; False if the demuxer cannot."""
        import av

        try:
            self._container.seek(pts, stream=self._stream, backward=True, any_frame=False)
        except av.error.FFmpegError as exc:
            logger.info("%s: seek to pts %d failed (%s); decoding from the start", self.path,
                        pts, exc)
            return False
        self._stream.codec_context.flush_buffers()
        return True

    def _restart(self) -> None:
        """Reopen the file, to decode from the very beginning (robust for every demuxer)."""
        self._container.close()
        self._fh.close()
        self._fh, self._container, self._stream = open_video_container(self.path, self._sniffed)
        self._configure_codec()
        self._order_idx = 0
        self._verify_run = False
        self._run = self._decode_run()

    def _advance(
        self, frame_idx: int, until: int | None, seeked: bool, cancel: CancelToken | None
    ) -> Any:
        first = True
        n_seen = 0
        while True:
            item = self._next()
            if item is None:  # the stream ended before frame_idx
                self._run = None
                if first and seeked:
                    return _OVERSHOT  # nothing decodes from where the seek landed
                self._note_damaged(frame_idx)
                return None
            idx, _ = item
            if first and seeked and idx > frame_idx:
                return _OVERSHOT
            first = False
            n_seen += 1
            if cancel is not None and n_seen % _CANCEL_EVERY_FRAMES == 0:
                cancel.raise_if_cancelled()
            if idx < frame_idx:
                continue
            if idx > frame_idx:
                self._note_damaged(frame_idx)
                if until is None or idx >= until:
                    self._pending, self._last_idx = item, idx - 1
                    return None
            return item

    def _next(self) -> tuple[int, Any] | None:
        if self._pending is not None:
            item, self._pending = self._pending, None
            self._last_idx = item[0]
            return item
        if self._run is None:
            return None
        for item in self._run:
            if item[0] <= self._last_idx:
                self.report.n_unplaced += 1  # a repeated timestamp: the frame is shown once
                continue
            if self._last_idx >= 0:
                for missing in range(self._last_idx + 1, item[0]):
                    self._note_damaged(missing)
            if self._tainted:
                self.report.note_suspect(item[0])
            self._last_idx = item[0]
            return item
        return None

    # --- decoding ---------------------------------------------------------------------------

    def _decode_run(self) -> Iterator[tuple[int, Any]]:
        """(frame_idx, av frame) of the decodable frames from the container's position on."""
        import av

        stream = self._stream
        for packet in demux_packets(self._container, stream, self._demux_error):
            if self._verify_run and packet.size and not self.index.matches_scan(packet.pts,
                                                                                 packet.dts):
                raise _SeekUnreliable
            if packet.is_keyframe and packet.size:
                self._tainted = False  # later frames no longer depend on damaged ones
            try:
                av_frames = stream.codec_context.decode(packet)
            except av.error.FFmpegError as exc:
                logger.debug("%s: packet at pts %s does not decode: %s", self.path, packet.pts, exc)
                self._note_damaged(self.index.idx_of(packet.pts))
                continue
            for av_frame in av_frames:
                idx = self._place(av_frame)
                if idx is not None:
                    yield idx, av_frame

    def _demux_error(self, message: str) -> None:
        logger.warning("%s: unreadable stretch skipped: %s", self.path, message)
        self.report.n_demux_errors += 1

    def _place(self, av_frame: Any) -> int | None:
        """The frame index of a decoded frame, or ``None`` if it is skipped (and counted)."""
        self.report.n_frames_decoded += 1
        if self.index.mode == "decode_order":
            if av_frame.is_corrupt:
                self._tainted = True
                self.report.note_damaged(None)  # not numbered: numbers name decodable frames
                return None
            idx: int | None = self._order_idx
            self._order_idx += 1
        else:
            idx = self.index.idx_of(av_frame.pts)
            if idx is None:
                self.report.n_unplaced += 1
                return None
            if av_frame.is_corrupt:
                self._note_damaged(idx)
                return None
        assert idx is not None
        self.report.note_size(idx, av_frame.width, av_frame.height)
        check_frame_size(self.path, av_frame.width, av_frame.height, self._limits)
        return idx

    def _note_damaged(self, frame_idx: int | None) -> None:
        self._tainted = True
        if frame_idx is not None and frame_idx in self._damaged:
            return
        if frame_idx is not None:
            self._damaged.add(frame_idx)
        self.report.note_damaged(frame_idx)

    def _to_frame(self, frame_idx: int, av_frame: Any) -> Frame:
        if self._orientation is None:
            self._orientation = frame_orientation(self.path, av_frame, self._stream)
            self.report.rotation_deg = self._orientation.rotation_deg
            self.report.mirrored = self._orientation.mirrored
        rgb = self._orientation.apply(frame_to_rgb(self.path, av_frame))
        return Frame(frame_idx=frame_idx, t_sec=self.index.t_sec(frame_idx), rgb_u8=rgb)

    # --- setup ------------------------------------------------------------------------------

    def _check_header(self) -> None:
        stream = self._stream
        width, height = int(stream.codec_context.width), int(stream.codec_context.height)
        if width < 0 or height < 0:
            raise CorruptMediaError(self.path, f"The video declares a frame size {width}x{height}")
        check_frame_size(self.path, width, height, self._limits)
        if stream.time_base is None or stream.time_base <= 0:
            raise CorruptMediaError(self.path, "The video stream states no time base")
        self._configure_codec()

    def _configure_codec(self) -> None:
        # NOTE: FFmpeg's own guard: the decoder refuses to allocate a frame far over our pixel
        # limit even when the stream switches to it mid-way (the header check above sees the
        # first size only). FFmpeg applies it to the padded coded size (macroblocks plus edges),
        # hence the 25 % + 64k margin; the exact limit is checked on every decoded frame.
        max_pixels = self._limits.max_frame_pixels * 5 // 4 + (1 << 16)
        codec = self._stream.codec_context
        codec.options = {"max_pixels": str(max_pixels)}
        codec.thread_type, codec.thread_count = DECODER_THREADS

    def _fill_report(self) -> None:
        report, index = self.report, self.index
        report.index_mode = index.mode
        report.n_frames_stream = index.n_frames
        report.n_frames_header = index.n_header
        report.n_frames_trimmed = index.n_trimmed
        report.variable_frame_rate = index.variable_rate
