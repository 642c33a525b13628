"""``forensic-analyze``: the headless batch analyser, one JSON line per input file.

    forensic-analyze PATH... [--detectors all|name,...] [--runtime auto|onnx|torch]
                     [--frames N | --fps F] [--maps DIR] [--jsonl OUT] [--csv OUT]
                     [--c2pa-trust PEM]

Folders are walked recursively (hidden files and folders skipped; every other file is tried,
whatever its extension, because evidence is often misnamed, and non-media is reported as an
error line). Each line holds: path, sha256, kind, status (``ok``/``no_face``/``error``), error,
each detector's calibrated ``p_fake`` (``null`` where not applicable, with the reason), the
fused finding and its verbal grade, per-frame scores for videos, per-track scores, provenance,
and ``file_provenance`` (metadata, C2PA Content Credentials, inconsistencies; docs/PROVENANCE.md).
``--csv`` also writes a one-row-per-file triage table (``engine.triage_csv``).
The exit code is 0 when every file was processed, even if some are error lines; 2 on a usage
error; 1 when the detectors cannot be loaded; 130 on Ctrl-C (every line already written is
complete). One bad file never stops the batch.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from engine.errors import UnknownDetectorError, WeightsIntegrityError
from engine.jobs import Progress, ThrottledSink
from engine.types import DetectorScore, MediaResult

__all__ = ["build_parser", "expand_paths", "main", "result_record"]

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_SETUP_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (argparse exits with 2 on a usage error)."""
    parser = argparse.ArgumentParser(
        prog="forensic-analyze",
        description="Analyse photos and videos for manipulated faces; one JSON line per file.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (walked)")
    parser.add_argument(
        "--detectors",
        default="all",
        help="'all' (every shipped detector) or a comma-separated list of detector names",
    )
    parser.add_argument(
        "--runtime",
        choices=("auto", "onnx", "torch"),
        default="auto",
        help="onnx (CPU, default when no CUDA GPU), torch, or auto (torch only with CUDA)",
    )
    sampling = parser.add_mutually_exclusive_group()
    sampling.add_argument(
        "--frames", type=_positive_int, help="evenly spaced frames per video (default 32)"
    )
    sampling.add_argument(
        "--fps",
        type=_positive_float,
        help="frames per second of video to analyse, no cap (each face held is about 0.2 MB)",
    )
    parser.add_argument(
        "--maps",
        type=Path,
        metavar="DIR",
        help="write heatmap overlays (per detector, on its highest-scoring frame) into DIR",
    )
    parser.add_argument("--jsonl", type=Path, metavar="OUT", help="write the lines to OUT")
    parser.add_argument("--csv", type=Path, metavar="OUT",
                        help="also write a triage table, one row per file, to OUT")
    parser.add_argument("--c2pa-trust", type=Path, metavar="PEM",
                        help="trust anchors (PEM certificates) for C2PA signatures; none by "
                             "default, so a valid signature reads 'valid', never 'trusted'")
    parser.add_argument("--max-faces", type=_positive_int, default=4, help="faces per frame")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from engine.api import Analyzer

    options = _options(args, parser)
    paths = list(expand_paths(args.paths))
    try:
        analyzer = Analyzer(options)
    except UnknownDetectorError as exc:
        parser.error(str(exc))
    except (WeightsIntegrityError, ModuleNotFoundError, ValueError) as exc:
        sys.stderr.write(f"forensic-analyze: cannot load the detectors: {exc}\n")
        return EXIT_SETUP_FAILED
    if not analyzer.detector_names:
        log.warning("no detector is installed: files are read and faces found, nothing scored")
    try:
        with _open_output(args.jsonl, parser) as out, _open_csv(args.csv, parser) as table:
            _run_batch(analyzer, paths, out, maps_dir=args.maps, quiet=args.quiet, table=table)
    except KeyboardInterrupt:
        sys.stderr.write("forensic-analyze: interrupted; the lines written so far are complete\n")
        return EXIT_INTERRUPTED
    finally:
        analyzer.close()
    return EXIT_OK


def _options(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Any:
    """``AnalysisOptions`` from the arguments (``--fps`` alone sets no frame cap)."""
    from engine.api import AnalysisOptions

    if args.c2pa_trust is not None:
        from engine.api import TrustListError, load_trust_list

        try:
            load_trust_list(args.c2pa_trust)  # checked once here: a usage error, not per file
        except TrustListError as exc:
            parser.error(f"--c2pa-trust: {exc}")
    return AnalysisOptions(
        detectors=_parse_detectors(args.detectors, parser),
        runtime=args.runtime,
        n_frames=None if args.fps is not None else (args.frames or 32),
        fps=args.fps,
        want_maps=args.maps is not None,
        max_faces=args.max_faces,
        c2pa_trust_list=None if args.c2pa_trust is None else str(args.c2pa_trust),
    )


def expand_paths(paths: Sequence[str]) -> Iterator[str]:
    """Files in the order given; folders walked recursively, sorted by path, hidden skipped.

    A path that does not exist is yielded as is, so it gets its own error line.
    """
    for raw in paths:
        if not os.path.isdir(raw):
            yield raw
            continue
        found: list[str] = []
        for root, dirs, files in os.walk(raw):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            found.extend(os.path.join(root, name) for name in files if not name.startswith("."))
        yield from sorted(found)


def result_record(result: MediaResult) -> dict[str, Any]:
    """The JSON line of one result."""
    from engine.serialize import finding_to_dict, provenance_to_dict

    kind = result.media.kind if result.media is not None else None
    record: dict[str, Any] = {
        "path": result.path,
        "sha256": result.sha256,
        "kind": kind,
        "status": result.status,
        "error": result.error,
        **_scores_fields(result.scores),
        "finding": finding_to_dict(result.finding),
        "cautions": [{"code": c.code, "message": c.message} for c in result.cautions],
    }
    if kind == "video":
        record["frames"] = [
            {
                "frame_idx": f.frame_idx,
                "t_sec": f.t_sec,
                "n_faces": len(f.faces),
                "n_faces_found": f.n_faces_found,
                **_scores_fields(f.scores),
                "finding": finding_to_dict(f.finding),
            }
            for f in result.frames
        ]
    record["tracks"] = [
        {
            "track_id": t.track_id,
            "frame_indices": list(t.frame_indices),
            **_scores_fields(t.scores),
            "finding": finding_to_dict(t.finding),
        }
        for t in result.tracks
    ]
    record["provenance"] = provenance_to_dict(result.provenance)
    record["file_provenance"] = (
        None if result.file_provenance is None else result.file_provenance.to_dict())
    return record


def _scores_fields(scores: Sequence[DetectorScore]) -> dict[str, Any]:
    return {
        "p_fake": {s.detector: s.p_fake for s in scores},
        "not_applicable": {s.detector: s.reason for s in scores if s.p_fake is None},
    }


def _run_batch(
    analyzer: Any, paths: list[str], out: IO[str], *, maps_dir: Path | None, quiet: bool,
    table: Any = None,
) -> None:
    from tqdm import tqdm

    from engine.analysis.many import DEFAULT_WORKERS, analyze_in_order, locked_sink

    with tqdm(
        total=len(paths), unit="file", file=sys.stderr, disable=True if quiet else None
    ) as bar:

        def show(p: Progress) -> None:
            bar.set_postfix_str(f"{p.stage} {p.done}/{p.total}", refresh=True)

        # NOTE: files in flight overlap one's face stage with the others' detectors
        # (engine.analysis.many); the lines still come out in input order.
        sink = locked_sink(ThrottledSink(show, max_hz=5.0))
        results = analyze_in_order(
            lambda path: _analyze_one(analyzer, path, sink), paths, workers=DEFAULT_WORKERS)
        for path, result in zip(paths, results, strict=True):
            bar.set_description(os.path.basename(path)[:30])
            record = result_record(result)
            if maps_dir is not None and result.status == "ok":
                record["maps"] = _write_maps(result, maps_dir)
            out.write(json.dumps(record, allow_nan=False) + "\n")
            out.flush()
            if table is not None:
                table.write(result)
            bar.update(1)


def _analyze_one(analyzer: Any, path: str, sink: ThrottledSink) -> MediaResult:
    """Analyse one file; an unexpected failure becomes an error line, logged with traceback."""
    try:
        result: MediaResult = analyzer.analyze(path, progress=sink)
    except Exception as exc:  # one bad file must never stop a batch
        log.exception("unexpected failure on %s", path)
        return MediaResult(path, "error", None, None, error=f"internal error: {exc!r}")
    return result


def _write_maps(result: MediaResult, maps_dir: Path) -> list[str]:
    """Per detector with maps, its overlay on the frame where that detector scored highest."""
    from PIL import Image

    from engine.api import overlay_maps, read_frame

    folder = maps_dir / f"{Path(result.path).stem}-{(result.sha256 or 'nohash')[:12]}"
    written = []
    for name in _detectors_with_maps(result):
        frame = max(
            (f for f in result.frames if any(name in face.maps for face in f.faces)),
            key=lambda f: _score_of(f.scores, name),
        )
        rgb_u8 = read_frame(result.path, frame.frame_idx).rgb_u8
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{name}_frame{frame.frame_idx:06d}.png"
        Image.fromarray(overlay_maps(rgb_u8, frame.faces, name)).save(target)
        written.append(str(target))
    return written


def _detectors_with_maps(result: MediaResult) -> list[str]:
    names: dict[str, None] = {}
    for frame in result.frames:
        for face in frame.faces:
            names.update(dict.fromkeys(face.maps))
    return list(names)


def _score_of(scores: Sequence[DetectorScore], name: str) -> float:
    return next((s.p_fake for s in scores if s.detector == name and s.p_fake is not None), -1.0)


def _parse_detectors(value: str, parser: argparse.ArgumentParser) -> tuple[str, ...] | None:
    if value.strip().lower() == "all":
        return None
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    if not names:
        parser.error("--detectors needs 'all' or at least one detector name")
    if len(set(names)) != len(names):
        parser.error(f"--detectors names a detector twice: {value}")
    return names


@contextmanager
def _open_output(target: Path | None, parser: argparse.ArgumentParser) -> Iterator[IO[str]]:
    """stdout, or the ``--jsonl`` file (a usage error if it cannot be created)."""
    if target is None:
        yield sys.stdout
        return
    try:
        fh = target.open("w", encoding="utf-8")
    except OSError as exc:
        parser.error(f"cannot write --jsonl {target}: {exc.strerror}")
    with fh:
        yield fh


@contextmanager
def _open_csv(target: Path | None, parser: argparse.ArgumentParser) -> Iterator[Any]:
    """The ``--csv`` triage table, or ``None`` (a usage error if it cannot be created)."""
    if target is None:
        yield None
        return
    from engine.triage_csv import TriageCsv

    try:
        fh = target.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        parser.error(f"cannot write --csv {target}: {exc.strerror}")
    with fh:
        yield TriageCsv(fh)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


if __name__ == "__main__":
    sys.exit(main())
