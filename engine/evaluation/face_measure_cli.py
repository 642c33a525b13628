"""The command-line frame of the measurements on a benchmark's real face crops.

``engine.evaluation.benign_edits`` and ``engine.evaluation.part_composites`` both edit the
face crops that ``engine.training.bench_crops extract`` stored for the real items of a
labelled benchmark, score them with the shipped face detectors, print a Markdown table and can
store each detector's figures in its model card. This module holds what they share: the
options, the detectors they load and where their results go.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["PredictFn", "load_face_detectors", "parser", "predict_all", "publish", "start"]

PredictFn = Callable[[npt.NDArray[np.uint8]], npt.NDArray[np.float64]]
_BATCH = 64


def predict_all(predict: PredictFn, crops: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    """``predict`` over ``crops`` in batches of 64 (bounded memory for any number of crops)."""
    return np.concatenate([predict(crops[s:s + _BATCH]) for s in range(0, len(crops), _BATCH)])


def parser(prog: str, doc: str | None, card_key: str, detector_help: str,
           ) -> argparse.ArgumentParser:
    """The shared options: crops, index, models folder, detectors, Markdown, cards, threads."""
    p = argparse.ArgumentParser(prog=prog, description=doc,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--crops", type=Path, required=True,
                   help="the folder of `python -m engine.training.bench_crops extract`")
    p.add_argument("--index", type=Path, default=Path("../shared/data/dev_bench/index.csv"))
    p.add_argument("--models-dir", type=Path, default=None)
    p.add_argument("--detector", action="append", default=[], help=detector_help)
    p.add_argument("--markdown", type=Path, default=None, help="write the table here")
    p.add_argument("--record-cards", action="store_true",
                   help=f"store each detector's figures in its model card ({card_key})")
    p.add_argument("--threads", type=int, default=2)
    return p


def start(prog: str, doc: str | None, card_key: str, detector_help: str,
          argv: Sequence[str] | None) -> tuple[argparse.Namespace, list[Any]]:
    """Parse the command line, set up logging and read the index: (options, real items).

    Rows of the index that cannot be used are logged and left out
    (``engine.evaluation.bench_index.read_index_logged``).
    """
    import logging

    from engine.evaluation.bench_index import read_index_logged

    args = parser(prog, doc, card_key, detector_help).parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return args, [it for it in read_index_logged(args.index) if it.label == 0]


def load_face_detectors(args: argparse.Namespace, default: Callable[[Any], bool],
                        ) -> dict[str, tuple[PredictFn, float]]:
    """name -> (calibrated ``p_fake`` of a batch of crops, the detector's threshold), for the
    ``--detector`` names or, without any, every detector of the store whose cfg ``default``
    accepts."""
    from engine.runtime import WeightsStore, load_detector

    store = WeightsStore(args.models_dir)
    names = args.detector or [n for n in store.names() if default(store.cfg(n))]
    detectors: dict[str, tuple[PredictFn, float]] = {}
    for name in names:
        loaded = load_detector(name, models_dir=args.models_dir, threads=args.threads)
        detectors[name] = (lambda x, d=loaded: np.asarray(d.predict(x).p_fake, np.float64),
                           float(loaded.cfg.threshold))
    return detectors


def publish(args: argparse.Namespace, argv: Sequence[str] | None, prog: str, card_key: str,
            rows: Any, markdown: Callable[[Any, str, str], str],
            card_entry: Callable[[Any, str, str, str], Mapping[str, Any]],
            detectors: Sequence[str]) -> None:
    """Print the table ``markdown(rows, command, source)``, write it to ``--markdown``, and with
    ``--record-cards`` store ``card_entry(rows, name, command, source)`` under ``card_key`` in
    each detector's card; ``command`` is the command line as typed."""
    from engine.runtime import WeightsStore
    from engine.training.card import record_card_entry

    command = f"{prog} " + " ".join(sys.argv[1:] if argv is None else list(argv))
    source = str(args.index)
    text = markdown(rows, command, source)
    sys.stdout.write(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    if args.record_cards:
        store = WeightsStore(args.models_dir)
        for name in detectors:
            record_card_entry(store.card_path(name), card_key,
                              dict(card_entry(rows, name, command, source)))
