"""A suspect video set against genuine footage of the same source (a *reference*).

Why. What varies most between genuine videos is the source itself: camera, light, compression,
the person's face. On the dev bench the real input streams of DeepFaceLive alone span 0.11 to
0.84 on the face-swap evidence, so an absolute grade that keeps real false alarms rare misses
most swaps (none of 25 face-swap videos reaches "moderate"), while each swap scores higher than
its own input stream with each face-swap detector in 19 to 22 of 22 pairs (docs/FINDINGS.md
section 4). A difference between two files of one source cancels much of what the source does
to the scores. An analyst often has such footage: another part of the same broadcast or stream,
other uploads of the same channel.

What. For each detector that scores frames: the mean over a file's sampled frames of the logit
of the frame score (the max over the frame's faces, and the whole picture for detectors that
score it: ``FrameResult.scores``), suspect minus reference, is the detector's ``delta``. A kind's
delta is the mean of its detectors' deltas (the detectors its finding is made from). Each delta
is set against the differences between genuine footage and genuine footage of the same
recording (:class:`ReferenceNull`, measured by ``python -m engine.evaluation.reference_null``):
the comparison says how many of those were at least as large. That count is the false-alarm
rate of reading "higher than the reference" at this delta, measured, not modelled. Like the
grades, it is a pure function of stored scores, so a stored comparison can be recomputed.

Limits the statement carries (docs/FINDINGS.md section 6): the null is the two halves of one
recording, so it knows nothing of a reference from another day, camera or encoding; the
reference must itself be genuine (the analyst's judgement, not the software's); the frame
score is the max over faces, so both files should show the same person as the main face.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.fusion.calibration import logit
from engine.fusion.replay import declared_kinds
from engine.types import EvidenceKind, FrameResult, MediaResult

__all__ = [
    "KIND_PREFIX",
    "ReferenceComparison",
    "ReferenceDelta",
    "ReferenceError",
    "ReferenceNull",
    "compare_to_reference",
    "file_differences",
    "file_means",
    "load_null",
    "null_file",
]

KIND_PREFIX = "kind:"
_EPS = 1e-4  # frame scores are clipped to [1e-4, 1 - 1e-4] before the logit: +-9.2 at most


class ReferenceError(ValueError):
    """The two analyses cannot be compared; the message says why, in words for the analyst."""


@dataclass(frozen=True)
class ReferenceNull:
    """Differences between genuine footage and genuine footage of the same recording.

    Attributes:
        null_id: names the measurement (stored with every comparison made with it).
        measured_on: what the genuine videos were, in words.
        command: the command that measured it.
        n_videos: how many genuine videos the differences come from.
        min_frames: the fewest scored frames a file needs: the halves the null was measured on
            had at least this many, and a file with fewer frames varies more than they did.
        samples: every genuine-vs-genuine comparison (each video's two halves, both ways
            round): its delta per detector name and per ``"kind:<kind>"``. Kept whole, not as
            one sorted list per name, so the statement's choice of the most unusual kind is
            measured on genuine footage too (:meth:`headline_at_least`).
        weights_sha256: per detector, the weights its deltas were measured with; a detector
            with other weights gets no count (its scores are another detector's).
    """

    null_id: str
    measured_on: str
    command: str
    n_videos: int
    min_frames: int
    samples: tuple[Mapping[str, float], ...]
    weights_sha256: Mapping[str, str]

    def values(self, name: str) -> list[float]:
        """Every genuine delta of ``name``, sorted."""
        return sorted(s[name] for s in self.samples if name in s)

    def names(self) -> list[str]:
        """The detectors and kinds the null has deltas for, kinds first."""
        found = {n for s in self.samples for n in s}
        return sorted(found, key=lambda n: (not n.startswith(KIND_PREFIX), n))

    def at_least(self, name: str, delta: float) -> tuple[int, int] | None:
        """``(k, n)``: how many of the ``n`` genuine differences of ``name`` reached ``delta``."""
        values = self.values(name)
        if not values:
            return None
        return sum(1 for v in values if v >= delta), len(values)

    def headline_at_least(self, kind_deltas: Mapping[str, float]) -> tuple[int, int] | None:
        """``(k, n)``: how many genuine comparisons stood out on *some* kind at least as much as
        ``kind_deltas`` does on its most unusual kind.

        "Most unusual" is the smallest share of genuine deltas reaching a kind's delta. Each
        genuine comparison's own shares leave itself out, so it is judged as a new file is.
        """
        values = {k: v for k in kind_deltas if (v := self.values(k))}  # sorted once per kind
        if not values:
            return None
        mine = min(_share(v, kind_deltas[k]) for k, v in values.items())
        genuine = [min(_share(v, s[k], leave_out=True) for k, v in values.items() if k in s)
                   for s in self.samples if any(k in s for k in values)]
        return sum(1 for g in genuine if g <= mine), len(genuine)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored whole with every comparison)."""
        return {
            "null_id": self.null_id,
            "measured_on": self.measured_on,
            "command": self.command,
            "n_videos": self.n_videos,
            "min_frames": self.min_frames,
            "samples": [dict(sorted(s.items())) for s in self.samples],
            "weights_sha256": dict(sorted(self.weights_sha256.items())),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReferenceNull:
        """The inverse of :meth:`to_dict`.

        Raises:
            ValueError: a field is missing or of the wrong type.
        """
        try:
            samples = tuple({str(k): float(v) for k, v in dict(s).items()}
                            for s in data["samples"])
            null = cls(
                null_id=str(data["null_id"]),
                measured_on=str(data["measured_on"]),
                command=str(data["command"]),
                n_videos=int(data["n_videos"]),
                min_frames=int(data["min_frames"]),
                samples=samples,
                weights_sha256={str(k): str(v) for k, v in dict(data["weights_sha256"]).items()},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a reference null: {exc!r}") from exc
        if null.min_frames < 1 or any(not math.isfinite(x) for s in samples for x in s.values()):
            raise ValueError("not a reference null: min_frames < 1 or a delta is not finite")
        return null


def _share(sorted_values: Sequence[float], delta: float, *, leave_out: bool = False) -> float:
    """The share of ``sorted_values`` at least ``delta``; ``leave_out``: ``delta`` is one of
    them and is not counted (a genuine comparison judged against the others)."""
    k = sum(1 for v in sorted_values if v >= delta) - (1 if leave_out else 0)
    n = len(sorted_values) - (1 if leave_out else 0)
    return k / n if n > 0 else 1.0


@dataclass(frozen=True)
class ReferenceDelta:
    """One detector's or one kind's difference, suspect minus reference.

    Attributes:
        name: a detector name or ``"kind:<kind>"``.
        suspect_logit: mean over the suspect's frames of the logit of the frame score.
        reference_logit: the same for the reference.
        delta: ``suspect_logit - reference_logit``.
        null_at_least: genuine-vs-genuine differences at least as large (``None``: no null for
            this name, or measured with other weights).
        null_n: how many genuine-vs-genuine differences there were.
    """

    name: str
    suspect_logit: float
    reference_logit: float
    delta: float
    null_at_least: int | None
    null_n: int | None

    @property
    def kind(self) -> str | None:
        """The kind's value for a kind's delta, ``None`` for a detector's."""
        return self.name[len(KIND_PREFIX):] if self.name.startswith(KIND_PREFIX) else None


@dataclass(frozen=True)
class ReferenceComparison:
    """A suspect video set against a reference video: every delta and a statement.

    Attributes:
        suspect_sha256, reference_sha256: the bytes each analysis was of.
        suspect_frames, reference_frames: frames with a score in each file.
        deltas: kinds first (in :class:`~engine.types.EvidenceKind` order), then detectors by
            name.
        null: the genuine-vs-genuine measurement the counts come from.
        headline_at_least, headline_n: how many of the genuine comparisons stood out on some
            kind at least as much as this one does on its most unusual kind
            (:meth:`ReferenceNull.headline_at_least`; ``None`` without a measured null). It is
            the false-alarm rate of the statement itself, which picks that kind.
        statement: one sentence on the kind that stands out most against the null.
        cautions: how the two files differ where the two halves of one recording never do
            (codec, resolution, frame rate, compression, face size): differences the counts
            do not cover, in words (:func:`file_differences`).
    """

    suspect_sha256: str
    reference_sha256: str
    suspect_frames: int
    reference_frames: int
    deltas: tuple[ReferenceDelta, ...]
    null: ReferenceNull
    headline_at_least: int | None
    headline_n: int | None
    statement: str
    cautions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; :meth:`from_dict` reads it back equal."""
        return {
            "suspect_sha256": self.suspect_sha256,
            "reference_sha256": self.reference_sha256,
            "suspect_frames": self.suspect_frames,
            "reference_frames": self.reference_frames,
            "deltas": [vars(d).copy() for d in self.deltas],
            "null": self.null.to_dict(),
            "headline_at_least": self.headline_at_least,
            "headline_n": self.headline_n,
            "statement": self.statement,
            "cautions": list(self.cautions),
        }

    def summary_dict(self) -> dict[str, Any]:
        """:meth:`to_dict` with the null named and described instead of stored whole (the
        form of a ``forensic-analyze`` line, where the null's samples would repeat on every
        line)."""
        data = self.to_dict()
        data["null"] = {k: v for k, v in data["null"].items() if k != "samples"}
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReferenceComparison:
        """The inverse of :meth:`to_dict` (``ValueError`` on a malformed record)."""
        try:
            return cls(
                suspect_sha256=str(data["suspect_sha256"]),
                reference_sha256=str(data["reference_sha256"]),
                suspect_frames=int(data["suspect_frames"]),
                reference_frames=int(data["reference_frames"]),
                deltas=tuple(ReferenceDelta(**d) for d in data["deltas"]),
                null=ReferenceNull.from_dict(data["null"]),
                headline_at_least=_opt_int(data["headline_at_least"]),
                headline_n=_opt_int(data["headline_n"]),
                statement=str(data["statement"]),
                cautions=tuple(str(c) for c in data.get("cautions", ())),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a reference comparison: {exc!r}") from exc


def file_means(frames: Sequence[FrameResult]) -> dict[str, tuple[float, int]]:
    """Per detector: the mean over ``frames`` of the logit of its frame score, and how many
    frames had one (frames where it did not apply are left out)."""
    sums: dict[str, list[float]] = {}
    for frame in frames:
        for s in frame.scores:
            if s.p_fake is not None:
                sums.setdefault(s.detector, []).append(_logit(s.p_fake))
    return {name: (math.fsum(v) / len(v), len(v)) for name, v in sorted(sums.items())}


def kind_means(means: Mapping[str, float], kinds: Mapping[str, str]) -> dict[str, float]:
    """Per ``"kind:<kind>"``: the mean of its detectors' values (detectors present only)."""
    out: dict[str, float] = {}
    for kind in EvidenceKind:
        mine = [v for name, v in sorted(means.items()) if kinds.get(name) == kind.value]
        if mine:
            out[KIND_PREFIX + kind.value] = math.fsum(mine) / len(mine)
    return out


def compare_to_reference(suspect: MediaResult, reference: MediaResult,
                         null: ReferenceNull) -> ReferenceComparison:
    """Set ``suspect`` against ``reference`` (module docstring).

    Raises:
        ReferenceError: either is not an analysed video, both are the same bytes, their
            detectors' weights differ, or a file has fewer scored frames than the null needs.
    """
    for role, r in (("suspect", suspect), ("reference", reference)):
        if r.status == "error" or r.media is None or r.sha256 is None:
            raise ReferenceError(f"the {role} could not be analysed: nothing to compare")
        if r.status != "ok":
            raise ReferenceError(f"the {role} has no analysed face: nothing to compare")
        if r.media.kind != "video":
            raise ReferenceError(f"the {role} is not a video ({r.media.kind}): a reference "
                                 "comparison is measured for videos only")
    if suspect.sha256 == reference.sha256:
        raise ReferenceError("the suspect and the reference are the same bytes")
    weights_s, weights_r = _weights(suspect), _weights(reference)
    if weights_s != weights_r:
        raise ReferenceError("the two analyses were made with different detectors or weights: "
                             "analyse both files again with the same models")
    kinds = declared_kinds(suspect.provenance)
    means_s, means_r = file_means(suspect.frames), file_means(reference.frames)
    common = sorted(set(means_s) & set(means_r))
    n_s = max((means_s[n][1] for n in common), default=0)
    n_r = max((means_r[n][1] for n in common), default=0)
    if min(n_s, n_r) < null.min_frames:
        raise ReferenceError(
            f"a reference comparison needs at least {null.min_frames} scored frames in each "
            f"file (the genuine differences it is measured against had as many); the suspect "
            f"has {n_s}, the reference {n_r}: analyse with more frames")
    usable = [n for n in common if min(means_s[n][1], means_r[n][1]) >= null.min_frames]
    det_s = {n: means_s[n][0] for n in usable}
    det_r = {n: means_r[n][0] for n in usable}
    foreign = {n for n in usable if null.weights_sha256.get(n) != weights_s.get(n)}
    deltas = [
        _delta(name, kind_s, kind_r, null,
               counted=not any(kinds.get(n) == name[len(KIND_PREFIX):] for n in foreign))
        for (name, kind_s), kind_r in zip(kind_means(det_s, kinds).items(),
                                          kind_means(det_r, kinds).values(), strict=True)
    ]
    counted_kinds = {d.name: d.delta for d in deltas if d.null_n}
    headline = null.headline_at_least(counted_kinds) if counted_kinds else None
    deltas += [_delta(n, det_s[n], det_r[n], null, counted=n not in foreign) for n in usable]
    return ReferenceComparison(
        suspect.sha256, reference.sha256, n_s, n_r,  # type: ignore[arg-type]
        tuple(deltas), null, *(headline or (None, None)), _statement(deltas, null, headline),
        file_differences(suspect, reference))


# NOTE: between the two halves of one of the dev bench's 40 real videos the median face width
# differed by a factor of at most 1.07 in 95% of them (1.99 at most, across a cut); codec,
# resolution, frame rate and compression never differ. Ratios beyond these bounds are reported.
_FACE_RATIO = 1.25
_SIDE_RATIO = 1.25
_FPS_RATIO = 1.25
_BPP_RATIO = 2.0


def file_differences(suspect: MediaResult, reference: MediaResult) -> tuple[str, ...]:
    """How the two files differ where two halves of one recording do not, in words."""
    s, r = suspect.media, reference.media
    if s is None or r is None:
        return ()
    out = []
    if s.codec and r.codec and s.codec.lower() != r.codec.lower():
        out.append(f"codec: {s.codec} here, {r.codec} in the reference")
    if _ratio(min(s.width, s.height), min(r.width, r.height)) > _SIDE_RATIO:
        out.append(f"resolution: {min(s.width, s.height)} px short side here, "
                   f"{min(r.width, r.height)} px in the reference")
    if s.fps and r.fps and _ratio(s.fps, r.fps) > _FPS_RATIO:
        out.append(f"frame rate: {s.fps:.3g} fps here, {r.fps:.3g} in the reference")
    bpp_s, bpp_r = _bits_per_pixel(s), _bits_per_pixel(r)
    if bpp_s and bpp_r and _ratio(bpp_s, bpp_r) > _BPP_RATIO:
        out.append(f"compression: {bpp_s:.3f} bits per pixel here, {bpp_r:.3f} in the "
                   "reference")
    face_s, face_r = _median_face_px(suspect.frames), _median_face_px(reference.frames)
    if face_s and face_r and _ratio(face_s, face_r) > _FACE_RATIO:
        out.append(f"face size: {face_s:.0f} px wide (median) here, {face_r:.0f} px in the "
                   "reference")
    if not out:
        return ()
    return (f"The two files differ in ways two halves of one recording do not, which the counts "
            f"do not cover: {'; '.join(out)}.",)


def _ratio(a: float, b: float) -> float:
    return max(a, b) / min(a, b) if min(a, b) > 0 else math.inf


def _bits_per_pixel(info: Any) -> float | None:
    if not (info.duration_s and info.fps and info.width and info.height):
        return None
    return info.size_bytes * 8.0 / (info.duration_s * info.fps * info.width * info.height)


def _median_face_px(frames: Sequence[FrameResult]) -> float | None:
    widths = [max(f.bbox_xyxy[2] - f.bbox_xyxy[0] for f in frame.faces)
              for frame in frames if frame.faces]
    return float(np.median(widths)) if widths else None


def _delta(name: str, s: float, r: float, null: ReferenceNull, *,
           counted: bool) -> ReferenceDelta:
    count = null.at_least(name, s - r) if counted else None
    return ReferenceDelta(name, s, r, s - r, *(count if count is not None else (None, None)))


def _statement(deltas: Sequence[ReferenceDelta], null: ReferenceNull,
               headline: tuple[int, int] | None) -> str:
    """One sentence on the kind whose delta genuine footage reached least often, with the
    false-alarm count of picking it that way (``headline``)."""
    kinds = [d for d in deltas if d.kind is not None and d.null_n]
    if not kinds or headline is None:
        return ("No kind of evidence could be set against genuine footage (no null measured "
                "with these detectors).")
    top = min(kinds, key=lambda d: ((d.null_at_least or 0) / (d.null_n or 1), -d.delta))
    words = EvidenceKind(top.kind).phrase
    if top.delta <= 0:
        return (f"No kind of evidence is higher in this file than in the reference (for "
                f"{words}: {top.delta:+.2f} on the logit scale).")
    return (
        f"The evidence for {words} is higher in this file than in the reference by "
        f"{top.delta:+.2f} on the logit scale. Genuine footage set against genuine footage of "
        f"the same recording showed a difference this unusual, on some kind, in {headline[0]} "
        f"of {headline[1]} comparisons ({null.n_videos} genuine videos)."
    )


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _weights(result: MediaResult) -> dict[str, str]:
    if result.provenance is None:
        return {}
    return {d.name: d.weights_sha256 for d in result.provenance.detectors}


def _logit(p: float) -> float:
    return float(logit(np.clip(p, _EPS, 1.0 - _EPS)))


def null_file(models_dir: Path | None = None) -> Path:
    """Where the shipped null lives: ``<models dir>/fusion/reference_null.json``."""
    from engine.runtime.weights import default_models_dir

    return (models_dir or default_models_dir()) / "fusion" / "reference_null.json"


def load_null(path: Path | None = None) -> ReferenceNull:
    """The shipped null (or the one at ``path``).

    Raises:
        ReferenceError: there is none, or it cannot be read; the message says which.
    """
    target = path or null_file()
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
        return ReferenceNull.from_dict(data)
    except FileNotFoundError as exc:
        raise ReferenceError(f"no reference null is installed ({target}): run python -m "
                             "engine.evaluation.reference_null --install") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError, AttributeError) as exc:
        raise ReferenceError(f"cannot read the reference null {target}: {exc}") from exc
