"""``forensic-analyze``: the headless batch analyser, one JSON line per input file.

    forensic-analyze PATH... [--detectors all|name,...] [--runtime auto|onnx|torch]
                     [--frames N | --fps F] [--max-faces N] [--maps DIR] [--jsonl OUT]
                     [--csv OUT] [--c2pa-trust PEM] [--reference REF] [--workers N]
                     [--timeout S] [--max-memory-gb G]

Folders are walked recursively (hidden files and folders skipped; every other file is tried,
whatever its extension, because evidence is often misnamed, and non-media is reported as an
error line; a folder that cannot be read gets an error line too; a folder with no file to try
is named on stderr, and when no file is left at all it is a usage error). Each line holds: path,
sha256, kind, status (``ok``/``no_face``/``error``), error, each detector's calibrated ``p_fake``
(``null`` where not applicable, with the reason), the fused finding and its verbal grade,
per-frame scores for videos, per-track scores, provenance, cautions, and ``file_provenance``
(metadata, C2PA Content Credentials, inconsistencies; docs/PROVENANCE.md); ``--csv`` also
writes a one-row-per-file triage table (``engine.triage_csv``; with ``--reference``, a row for
the reference and each file's comparison too). ``--reference REF`` names
genuine footage of the same source: REF is analysed first (its line has ``"role":
"reference"``) and every other line gets ``reference_comparison``, the file set against it
(``engine.fusion.reference``, docs/FINDINGS.md section 6), or the reason it could not be.
Every string is valid UTF-8: bytes of a file name that are not are written ``\\xNN`` in
``path``, and ``path_bytes_b64`` then holds the name's exact bytes (base64).

Each file is analysed in a worker process (``--workers`` of them, models loaded once each), so a
file that crashes a decoder, loops, or allocates without end gets its own error line (after at
most ``--timeout`` seconds or ``--max-memory-gb``) and the batch goes on. Arguments and output
paths are checked before any work (``engine.cli_io``); lines are written whole.

Exit codes: 0 when every file was processed, even if some are error lines; 2 on a usage error;
1 when the detectors cannot be loaded; 74 when the output cannot be written (disk full: the
lines before are complete, no partial line is left); 130 on Ctrl-C (every line already written
is complete); 141 when the reader of stdout went away (``| head``), quietly. One bad file never
stops the batch.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.cli_io import (
    JsonlWriter,
    OutputError,
    UsageProblem,
    check_output_paths,
    int_in,
    number_in,
    open_jsonl,
    with_exact_path,
)
from engine.cli_record import result_record
from engine.errors import EngineError, MediaError, UnknownDetectorError
from engine.inputs import Inputs, walk_inputs
from engine.jobs import JobCancelled, Progress, ThrottledSink, null_sink
from engine.pathtext import printable
from engine.types import DetectorScore, MediaResult

__all__ = ["build_parser", "main", "result_record"]

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_SETUP_FAILED = 1
EXIT_USAGE = 2
EXIT_OUTPUT_FAILED = 74  # EX_IOERR (sysexits.h)
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell shows for a writer whose reader left

# NOTE: argument ranges. 10,000 frames is over 5 minutes of 30 fps video held as face crops
# (0.2 MB each); 1,000 fps is beyond any camera's rate (every frame is taken well before);
# 64 faces per frame covers a crowd shot; one worker per core (2 here) is the measured
# optimum (docs/RELIABILITY.md); a week of time budget and 1 TB of memory are "unlimited".
MAX_FRAMES = 10_000
MAX_FPS = 1000.0
MAX_FACES = 64
MAX_WORKERS = 32
MAX_TIMEOUT_S = 7 * 24 * 3600.0
MAX_MEMORY_GB = 1024.0
DEFAULT_WORKERS = 2


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
    sampling.add_argument("--frames", type=int_in(1, MAX_FRAMES),
                          help=f"evenly spaced frames per video (default 32, at most {MAX_FRAMES})")
    sampling.add_argument(
        "--fps", type=number_in(0.0, MAX_FPS, "frames per second"),
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
    parser.add_argument("--reference", type=Path, metavar="REF",
                        help="genuine video of the same source: each video is also set "
                             "against it, with how often genuine footage differs as much")
    parser.add_argument("--max-faces", type=int_in(1, MAX_FACES), default=4,
                        help="faces analysed per frame, the largest kept (default 4)")
    _add_isolation_arguments(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    return parser


def _add_isolation_arguments(parser: argparse.ArgumentParser) -> None:
    """The worker pool's limits (see engine.isolation)."""
    parser.add_argument("--workers", type=int_in(1, MAX_WORKERS), default=DEFAULT_WORKERS,
                        help=f"worker processes, files analysed at once (default "
                             f"{DEFAULT_WORKERS}; each loads the models)")
    parser.add_argument("--timeout", type=number_in(0.0, MAX_TIMEOUT_S, "seconds"),
                        default=None, metavar="S",
                        help="seconds one file may take before it is stopped (default 300)")
    parser.add_argument("--max-memory-gb", type=number_in(0.25, MAX_MEMORY_GB, "GB"),
                        default=None, metavar="G",
                        help="memory one worker may use before its file is stopped (default 4)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    options = _options(args, parser)
    _check_reference(args.reference, parser)
    inputs = walk_inputs(args.paths)
    for folder in inputs.empty:
        sys.stderr.write(f"forensic-analyze: the folder {printable(folder)} holds no file to "
                         "analyse (hidden files and folders are skipped)\n")
    if not inputs.files:
        parser.error("nothing to analyse: the folders given hold no files")
    try:
        # NOTE: the reference is evidence too: no output may overwrite it.
        guarded = inputs if args.reference is None else dataclasses.replace(
            inputs, files=[*inputs.files, str(args.reference)])
        check_output_paths(args.jsonl, args.maps, guarded, csv=args.csv)
        stream = open_jsonl(args.jsonl) if args.jsonl is not None else sys.stdout.buffer
        csv_stream = open_jsonl(args.csv) if args.csv is not None else None
    except UsageProblem as exc:
        parser.error(str(exc))
    try:
        analyzer = _load_analyzer(args, options, parser)
        if analyzer is None:
            return EXIT_SETUP_FAILED
        name = str(args.jsonl) if args.jsonl is not None else "standard output"
        table = None if csv_stream is None else JsonlWriter(csv_stream, str(args.csv),
                                                            truncate=True)
        return _run(analyzer, inputs, JsonlWriter(stream, name, truncate=True), args, table)
    finally:
        if args.jsonl is not None:
            stream.close()
        if csv_stream is not None:
            csv_stream.close()


def _load_analyzer(args: argparse.Namespace, options: Any,
                   parser: argparse.ArgumentParser) -> Any | None:
    """The analyzer and its worker pool; ``None`` (after saying why) when it cannot load."""
    from engine.api import Analyzer, IsolationSettings

    limits: dict[str, Any] = {"n_workers": args.workers}
    if args.timeout is not None:
        limits["time_budget_s"] = args.timeout
    if args.max_memory_gb is not None:
        limits["memory_ceiling_bytes"] = int(args.max_memory_gb * 2**30)
    try:
        analyzer = Analyzer(options, isolation=IsolationSettings(**limits))
    except UnknownDetectorError as exc:
        parser.error(str(exc))
    except (EngineError, ModuleNotFoundError, ValueError, OSError) as exc:
        sys.stderr.write(f"forensic-analyze: cannot load the detectors: {exc}\n")
        return None
    if not analyzer.detector_names:
        log.warning("no detector is installed: files are read and faces found, nothing scored")
    return analyzer


def _run(analyzer: Any, inputs: Inputs, writer: JsonlWriter, args: argparse.Namespace,
         table: JsonlWriter | None = None) -> int:
    """The batch, and what each way of ending it means for the exit code."""
    from engine.triage_csv import TriageCsv

    writers = [writer] if table is None else [writer, table]
    try:
        triage = None if table is None else TriageCsv(
            table.write_line, with_reference=args.reference is not None)
        _run_batch(analyzer, inputs, writer, maps_dir=args.maps, quiet=args.quiet,
                   triage=triage, reference=args.reference)
        for w in writers:
            w.finish()
    except KeyboardInterrupt:
        analyzer.close()  # first: the workers stop, so the threads waiting on them end
        for w in writers:
            _finish_quietly(w)
        sys.stderr.write("forensic-analyze: interrupted; the lines written so far are complete\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        analyzer.close()
        _detach_stdout()
        return EXIT_BROKEN_PIPE
    except OutputError as exc:
        analyzer.close()
        sys.stderr.write(f"forensic-analyze: {exc}\n")
        return EXIT_OUTPUT_FAILED
    finally:
        analyzer.close()
    return EXIT_OK


def _finish_quietly(writer: JsonlWriter) -> None:
    # interrupted anyway: the lines already written are complete
    with contextlib.suppress(OutputError, OSError):
        writer.finish()


def _detach_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush raises nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _options(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Any:
    """``AnalysisOptions`` from the arguments (``--fps`` alone sets no frame cap)."""
    from engine.api import AnalysisOptions

    return AnalysisOptions(
        detectors=_parse_detectors(args.detectors, parser),
        runtime=args.runtime,
        n_frames=None if args.fps is not None else (args.frames or 32),
        fps=args.fps,
        want_maps=args.maps is not None,
        max_faces=args.max_faces,
        c2pa_trust_list=_trust_list(args.c2pa_trust, parser),
    )


def _check_reference(path: Path | None, parser: argparse.ArgumentParser) -> None:
    """``--reference``: a file, and a null to count against (usage errors, said once)."""
    if path is None:
        return
    if not path.is_file():
        parser.error(f"--reference: not a file: {printable(str(path))}")
    from engine.fusion.reference import ReferenceError, load_null

    try:
        load_null()
    except ReferenceError as exc:
        parser.error(f"--reference: {exc}")


def _trust_list(path: Path | None, parser: argparse.ArgumentParser) -> str | None:
    """``--c2pa-trust``, checked once here (a usage error, not an error on every file)."""
    if path is None:
        return None
    from engine.api import TrustListError, load_trust_list

    try:
        load_trust_list(path)
    except TrustListError as exc:
        parser.error(f"--c2pa-trust: {exc}")
    return str(path)


def _run_batch(
    analyzer: Any,
    inputs: Inputs,
    writer: JsonlWriter,
    *,
    maps_dir: Path | None,
    quiet: bool,
    triage: Any = None,
    reference: Path | None = None,
) -> None:
    from tqdm import tqdm

    from engine.analysis.many import analyze_in_order, locked_sink

    paths = inputs.files
    ref_result = None
    if reference is not None:  # first, so every other line can be set against it
        if not quiet:
            sys.stderr.write(f"forensic-analyze: analysing the reference first: "
                             f"{printable(str(reference))}\n")
        ref_result = _analyze_one(analyzer, str(reference), null_sink, {})
        writer.write(with_exact_path({**result_record(ref_result), "role": "reference"},
                                     str(reference)))
        if triage is not None:
            triage.write(ref_result, role="reference")
    with tqdm(
        total=len(paths), unit="file", file=sys.stderr, disable=True if quiet else None
    ) as bar:

        def show(p: Progress) -> None:
            bar.set_postfix_str(f"{p.stage} {p.done}/{p.total}", refresh=True)

        # NOTE: one file per worker process in flight (engine.api.Analyzer); the lines still
        # come out in input order.
        sink = locked_sink(ThrottledSink(show, max_hz=5.0))
        results = analyze_in_order(
            lambda path: _analyze_one(analyzer, path, sink, inputs.not_walked),
            paths, workers=analyzer.files_in_flight())
        for path, result in zip(paths, results, strict=True):
            bar.set_description(printable(os.path.basename(path))[:30])
            record = result_record(result)
            if ref_result is not None:
                record["reference_comparison"] = _reference_field(result, ref_result)
            # NOTE: a picture without a face can still have a whole-picture map.
            if maps_dir is not None and result.status in ("ok", "no_face"):
                record.update(_write_maps(result, maps_dir, analyzer))
            writer.write(with_exact_path(record, path))
            if triage is not None:
                triage.write(result, comparison=record.get("reference_comparison"))
            bar.update(1)


def _reference_field(result: MediaResult, reference: MediaResult) -> dict[str, Any]:
    """The line's ``reference_comparison``: the comparison, or ``{"error": why not}``."""
    from engine.api import ReferenceError, compare_to_reference

    if reference.status == "error":
        return {"error": f"the reference could not be analysed: {reference.error}"}
    try:
        return compare_to_reference(result, reference).summary_dict()
    except ReferenceError as exc:
        return {"error": str(exc)}


def _analyze_one(analyzer: Any, path: str, sink: Any, not_walked: dict[str, str]) -> MediaResult:
    """Analyse one file; an unexpected failure becomes an error line, logged with traceback."""
    if path in not_walked:
        return MediaResult(path, "error", None, None, error=f"{not_walked[path]} ({path})")
    try:
        result: MediaResult = analyzer.analyze(path, progress=sink)
    except JobCancelled:
        raise  # the run is ending (Ctrl-C, closed pipe): no line for this file
    except Exception as exc:  # one bad file must never stop a batch
        log.exception("unexpected failure on %s", printable(path))
        return MediaResult(path, "error", None, None, error=f"internal error: {exc!r}")
    return result


def _write_maps(result: MediaResult, maps_dir: Path, analyzer: Any) -> dict[str, Any]:
    """Per detector with maps, its overlay on the frame where that detector scored highest.

    Returns ``{"maps": [written paths]}``, plus ``"maps_error"`` when a frame could not be
    decoded again or a file not written (the analysis line itself is still written).
    """
    from PIL import Image

    from engine.api import overlay_maps

    folder = maps_dir / f"{Path(result.path).stem}-{(result.sha256 or 'nohash')[:12]}"
    written: list[str] = []
    try:
        for name in _detectors_with_maps(result):
            frame = max(
                (f for f in result.frames
                 if name in f.picture_maps or any(name in face.maps for face in f.faces)),
                key=lambda f: _score_of(f.scores, name),
            )
            rgb_u8 = analyzer.read_frame(result.path, frame.frame_idx).rgb_u8
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{name}_frame{frame.frame_idx:06d}.png"
            drawn = overlay_maps(rgb_u8, frame.faces, name,
                                 picture_map=frame.picture_maps.get(name))
            Image.fromarray(drawn).save(target)
            written.append(str(target))
    except (MediaError, OSError) as exc:
        log.warning("heatmaps of %s not written: %s", printable(result.path), exc)
        return {"maps": written, "maps_error": str(exc)}
    return {"maps": written}


def _detectors_with_maps(result: MediaResult) -> list[str]:
    names: dict[str, None] = {}
    for frame in result.frames:
        for face in frame.faces:
            names.update(dict.fromkeys(face.maps))
        names.update(dict.fromkeys(frame.picture_maps))
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


if __name__ == "__main__":
    sys.exit(main())
