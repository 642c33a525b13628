"""What decoding one video found: counts and events an analyst should know about.

A :class:`DecodeReport` is passed to ``sample_frames``/``iter_frames``/``read_frame`` with the
``report=`` keyword and filled in while frames are decoded (it is a collector, so unlike the
result types it is mutable). Nothing in it changes which frames are returned; it says what
happened: damaged frames skipped, a planned frame replaced by its next decodable neighbour,
resolution changes, a container whose frame count disagrees with the stream. ``cautions()``
turns it into sentences for the report's cautions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["MAX_LISTED", "DecodeReport", "ResolutionChange"]

# NOTE: lists stop growing after 100 entries (the counts go on): a hostile file that changes
# size or breaks on every frame must not make the report, or the stored result, unbounded.
MAX_LISTED = 100


@dataclass(frozen=True)
class ResolutionChange:
    """The first decoded frame seen at a new size (stored pixels, before rotation).

    With consecutive decoding (``iter_frames``) ``frame_idx`` is where the size changed; with
    sampling, the change happened after the previously decoded frame and at or before this one.
    """

    frame_idx: int
    width: int
    height: int


@dataclass
class DecodeReport:
    """Counts and events of decoding one medium (see the module docstring).

    Attributes:
        index_mode: how frames were indexed: ``"constant_rate"`` (from the container's sample
            index), ``"packet_scan"`` (every packet's timestamp read), ``"animation"``
            (per-frame durations of an animated image) or ``"image"``.
        n_frames_stream: frames the stream holds (what ``frame_idx`` counts).
        n_frames_header: the count the container states, ``None`` when it states none.
        n_frames_trimmed: frames the container's edit list hides (decoded, never shown).
        variable_frame_rate: frame durations differ.
        rotation_deg: clockwise rotation applied to decoded frames.
        mirrored: frames were mirrored left-right (before the rotation), as the file says.
        n_frames_decoded: frames out of the decoder, including those decoded only to reach a
            requested frame after a seek.
        n_frames_returned: frames handed to the caller.
        n_seeks: keyframe seeks (and restarts from the beginning).
        n_damaged: frames that did not decode or decoded flagged as corrupt; they are skipped.
        damaged_frame_indices: the first ``MAX_LISTED`` of them (``-1``: a packet whose
            timestamp names no frame).
        n_suspect: frames decoded after a damaged frame and before the next keyframe: they
            may reference the damaged one, and the decoder then hides the error by guessing
            (blocks of a wrong picture). They are returned; the caution says which.
        suspect_frame_indices: the first ``MAX_LISTED`` of them.
        substitutions: ``(planned, used)`` pairs where a planned sample was damaged and the
            next decodable frame was analysed instead.
        n_unplaced: decoded frames whose timestamp is not a frame of the index (skipped).
        n_demux_errors: unreadable stretches of the container skipped while reading packets.
        resolution_changes: the first ``MAX_LISTED`` size changes; the first entry is the
            initial size.
        n_resolution_changes: every size change seen (the initial size not counted).
    """

    index_mode: str = ""
    n_frames_stream: int = 0
    n_frames_header: int | None = None
    n_frames_trimmed: int = 0
    variable_frame_rate: bool = False
    rotation_deg: int = 0
    mirrored: bool = False
    n_frames_decoded: int = 0
    n_frames_returned: int = 0
    n_seeks: int = 0
    n_damaged: int = 0
    damaged_frame_indices: list[int] = field(default_factory=list)
    n_suspect: int = 0
    suspect_frame_indices: list[int] = field(default_factory=list)
    substitutions: list[tuple[int, int]] = field(default_factory=list)
    n_unplaced: int = 0
    n_demux_errors: int = 0
    resolution_changes: list[ResolutionChange] = field(default_factory=list)
    n_resolution_changes: int = 0

    @property
    def header_count_disagrees(self) -> bool:
        """Whether the container states a frame count other than the stream holds."""
        return self.n_frames_header is not None and self.n_frames_header != self.n_frames_stream

    def note_damaged(self, frame_idx: int | None) -> None:
        """Count a damaged frame (``None``: a packet whose timestamp names no frame)."""
        self.n_damaged += 1
        idx = -1 if frame_idx is None else frame_idx
        if len(self.damaged_frame_indices) < MAX_LISTED and idx not in self.damaged_frame_indices:
            self.damaged_frame_indices.append(idx)

    def note_suspect(self, frame_idx: int) -> None:
        """Count a returned frame decoded from a damaged reference."""
        if frame_idx in self.suspect_frame_indices:
            return
        self.n_suspect += 1
        if len(self.suspect_frame_indices) < MAX_LISTED:
            self.suspect_frame_indices.append(frame_idx)

    def note_size(self, frame_idx: int, width: int, height: int) -> None:
        """Record the size of a decoded frame; a new size is a resolution change."""
        last = self.resolution_changes[-1] if self.resolution_changes else None
        if last is not None and (last.width, last.height) == (width, height):
            return
        if last is not None:
            self.n_resolution_changes += 1
        if len(self.resolution_changes) < MAX_LISTED:
            self.resolution_changes.append(ResolutionChange(frame_idx, width, height))

    def cautions(self) -> list[str]:
        """Sentences for an analyst, one per thing worth knowing; empty when all was normal."""
        out: list[str] = []
        if self.header_count_disagrees:
            n_trimmed = self.n_frames_trimmed
            trimmed = f" ({n_trimmed} hidden by its edit list)" if n_trimmed else ""
            out.append(
                f"The container states {self.n_frames_header} frames but the video stream holds "
                f"{self.n_frames_stream}{trimmed}; frame numbers count the frames that exist."
            )
        if self.n_damaged:
            listed = ", ".join(str(i) for i in self.damaged_frame_indices[:10] if i >= 0)
            where = f" (frames {listed}{', ...' if self.n_damaged > 10 else ''})" if listed else ""
            out.append(
                f"{self.n_damaged} damaged frame(s) could not be decoded and were skipped{where}."
            )
        if self.n_suspect:
            listed = ", ".join(str(i) for i in self.suspect_frame_indices[:10])
            more = ", ..." if self.n_suspect > 10 else ""
            out.append(
                f"{self.n_suspect} frame(s) were decoded after a damaged frame and may show "
                f"decoding errors (frames {listed}{more})."
            )
        if self.substitutions:
            pairs = ", ".join(f"{a}->{b}" for a, b in self.substitutions[:10])
            out.append(
                f"Damaged sampled frames were replaced by the next decodable frame: {pairs}."
            )
        if self.n_resolution_changes:
            sizes = ", ".join(
                f"{c.width}x{c.height} from frame {c.frame_idx}" for c in self.resolution_changes
            )
            out.append(f"The frame size changes within the video: {sizes}.")
        out.extend(self._stream_cautions())
        return out

    def _stream_cautions(self) -> list[str]:
        out = []
        if self.variable_frame_rate:
            out.append("Variable frame rate: frame times are the file's own timestamps.")
        if self.mirrored:
            out.append("The file says to show the video mirrored; frames were mirrored.")
        if self.n_unplaced:
            out.append(f"{self.n_unplaced} decoded frame(s) had timestamps outside the index "
                       "and were skipped.")
        if self.n_demux_errors:
            out.append(f"{self.n_demux_errors} unreadable stretch(es) of the file were skipped.")
        return out

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (lists of pairs and dicts), with ``header_count_disagrees``."""
        out = asdict(self)
        out["substitutions"] = [list(pair) for pair in self.substitutions]
        out["header_count_disagrees"] = self.header_count_disagrees
        return out
