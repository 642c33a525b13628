"""Ship a native-tile detector's released weights a second time, read on face regions only,
under its own name and kind (a derived model card; no new weights).

    python -m engine.training.face_region_card --source resources/models/gen_probe_effl0.json \\
        --name gen_probe_face_effl0 --out resources/models

Why: a detector's weights can be evidence of two kinds. ``gen_probe_effl0`` tells real pictures
from latent-decoder output; on a whole picture that is evidence of a fully generated image,
on a face region inside a picture it is evidence of a face swap (the swapped face is a
decoder's output). The fusion counts each detector for one kind (``DetectorCfg.looks_for``), so
the face reading is its own detector: the registered config of ``--name`` (its kind), the
source card's files, hashes and calibration, and the source's tile policy restricted to face
regions. The threshold and dev-bench figures are then set by ``engine.evaluation.devbench --fit
--record-cards`` like every detector's.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from engine.detectors import registry
from engine.training.card import read_card, write_card
from engine.training.cli import command_line

__all__ = ["derive_face_card", "main"]

logger = logging.getLogger(__name__)

# NOTE: the fields that make the weights what they are: taken from the source card.
_FROM_SOURCE = ("weights_file", "weights_sha256", "onnx_file", "onnx_sha256", "onnx_opset",
                "calibration", "threshold")


def derive_face_card(source: dict[str, Any], name: str, command: str) -> dict[str, Any]:
    """The card of ``name``: ``source``'s weights read on face regions only.

    Raises:
        ValueError: the source is not a native-tile detector, or ``name``'s registered
            network differs from the source's (other input, normalisation or version).
    """
    from engine.training.gen_card import card_text

    src_cfg = source["cfg"]
    if src_cfg.get("input_mode") != "native_tiles" or "tile_policy" not in source:
        raise ValueError(f"{src_cfg.get('name')} is not a native-tile detector")
    code = json.loads(json.dumps(registry.get_cfg(name).to_dict()))  # tuples as JSON lists
    same = ("input_size", "mean", "std", "input_mode", "output", "version", "variant")
    differ = [k for k in same if code.get(k) != src_cfg.get(k)]
    if differ:
        raise ValueError(f"{name} is not registered as {src_cfg['name']}'s network: {differ}")
    cfg = {**code, **{k: src_cfg[k] for k in _FROM_SOURCE if k in src_cfg}}
    policy = {**source["tile_policy"], "score_faces": True, "score_picture": False}
    return {
        "schema": source["schema"], "cfg": cfg, "tile_policy": policy, "metrics": {},
        "training": source["training"],
        "derived_from": {"detector": src_cfg["name"], "weights_sha256": src_cfg["weights_sha256"],
                         "onnx_sha256": src_cfg["onnx_sha256"], "command": command},
        **card_text(name),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.training.face_region_card",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, required=True, help="the source card JSON")
    parser.add_argument("--name", required=True, help="the registered face-region detector")
    parser.add_argument("--out", type=Path, required=True, help="models folder")
    args = parser.parse_args(argv)
    command = command_line(argv, "python -m engine.training.face_region_card")
    card = derive_face_card(read_card(args.source), args.name, command)
    json_path, _ = write_card(args.out, card)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logger.info("wrote %s", json_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
