"""Validation that holds whole generators out: the generated-image detectors on other people's
generators and other people's real pictures (``engine.training.gen_eval_data``).

    python -m engine.training.gen_eval --data-root ../shared/data --cache /work/cache/gen/eval \\
        --detectors gen_nprnet,gan_effl0 --markdown docs/gen_eval_table.md \\
        [--record gen_nprnet] [--decide-default-set gen_nprnet,gan_effl0]

Every picture is scored as the application scores it, with the shipped weights in ONNX Runtime:

- ``whole``: the whole picture in native tiles with the card's tile policy
  (``engine.runtime.tiles``; ``gen_nprnet``: 128 px tiles, top-25% pooling; ``gan_effl0``:
  256 px tiles, mean); a face-crop detector scores no whole picture, as in the application;
- ``face``: the highest score over the picture's faces, each face scored at native resolution
  in the region its policy crop shows (a native-tile policy with ``score_faces``) or as the
  256 px policy crop (a face-crop detector); pictures without a usable face are left out of it;
- ``frame``: the higher of the two, the frame score the application records.

Per generator (``group``) and view (``native``, ``jpeg75``, ``down05``), the tables give the AUC
against real photos (``dev_bench`` real photos) and against every real picture (those plus real
video frames of ``dev_bench`` and our held-out pictures), and the share flagged at the card's
threshold. Scores are cached per detector and weights hash (``<cache>/scores_*.jsonl``), so a
rerun only scores what is missing and an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from engine.training.gen_eval_data import (
    VIEWS,
    EvalPicture,
    cached_faces,
    list_pictures,
    picture_view,
    read_picture,
    write_pictures,
)
from engine.training.metrics import roc_auc

__all__ = ["evaluate", "main", "metrics_table", "score_picture"]

logger = logging.getLogger(__name__)

REAL_PHOTOS = ("real_photo",)
KIND_MEAN = "kind:mean"
ALL_REALS = ("real_photo", "real_video", "heldout_real")


def score_picture(name: str, loaded: Any, policy: Any, rgb: np.ndarray,
                  faces: list[np.ndarray], media: str) -> dict[str, Any]:
    """``{"whole": p_fake or None, "faces": [p_fake, ...]}`` of one picture (see module doc);
    a native-tile detector adds its raw tile logits (``whole_tiles``, ``face_tiles``), so other
    pooling rules can be compared on the cache without scoring again."""
    from engine.faces.crop import CropPolicy, crop_face, crop_square_xyxy
    from engine.runtime.tiles import face_region, score_region

    if loaded.cfg.input_mode == "native_tiles":
        budget = policy.max_tiles_frame if media == "video" else policy.max_tiles_image
        whole = score_region(loaded, rgb, policy=policy, max_tiles=budget)
        face_scores, face_tiles = [], []
        # NOTE: as in the app (engine.analysis.native_tiles): a whole-picture-only policy
        # scores no face regions.
        for lm in faces if policy.score_faces else []:
            region = face_region(crop_square_xyxy(lm, CropPolicy().margin), rgb.shape[:2],
                                 policy.tile_px)
            score = score_region(loaded, rgb, region, policy=policy,
                                 max_tiles=policy.max_tiles_face_frame if media == "video"
                                 else policy.max_tiles_face)
            if score is not None:
                face_scores.append(score.p_fake)
                face_tiles.append(np.round(score.tile_logits, 4).tolist())
        return {"whole": None if whole is None else whole.p_fake, "faces": face_scores,
                "whole_tiles": None if whole is None else np.round(whole.tile_logits, 4).tolist(),
                "face_tiles": face_tiles}
    # NOTE: a face-crop detector sees policy crops only, in the application as here.
    crops = [crop_face(rgb, lm, CropPolicy())[0] for lm in faces]
    face_p = loaded.predict(np.stack(crops)).p_fake.tolist() if crops else []
    return {"whole": None, "faces": [float(p) for p in face_p]}


def _load(names: list[str], models_dir: Path | None, threads: int) -> dict[str, Any]:
    from engine.runtime import load_detector

    out = {}
    for name in names:
        loaded = load_detector(name, models_dir=models_dir, threads=threads)
        out[name] = (loaded, loaded.tile_policy)
    return out


def _scores_path(cache: Path, loaded: Any) -> Path:
    """The score file of these weights under this tile policy and calibration (a change of
    either gives a new file; the old one stays for comparison)."""
    import dataclasses
    import hashlib

    sha = loaded.cfg.onnx_sha256 or loaded.cfg.weights_sha256 or "none"
    policy = getattr(loaded, "tile_policy", None)
    extra = json.dumps([dataclasses.asdict(policy) if policy is not None else None,
                        loaded.cfg.calibration], sort_keys=True)
    tag = hashlib.sha256(f"{sha}{extra}".encode()).hexdigest()[:12]
    return cache / f"scores_{loaded.cfg.name}_{tag}.jsonl"


def _done(path: Path) -> set[tuple[str, str]]:
    if not path.is_file():
        return set()
    return {(r["key"], r["view"]) for r in map(json.loads, path.read_text().splitlines()) if r}


def evaluate(pictures: list[EvalPicture], detectors: dict[str, Any], data_root: Path,
             cache: Path, views: tuple[str, ...]) -> None:
    """Score every (picture, view) not yet in the cache, appending to the score files."""
    from engine.faces.mesh import FaceMeshDetector
    from engine.faces.pipeline import MIN_FACE_PX

    face_detector = FaceMeshDetector()
    files = {name: _scores_path(cache, loaded) for name, (loaded, _) in detectors.items()}
    done = {name: _done(path) for name, path in files.items()}
    for n, pic in enumerate(pictures, start=1):
        todo = [(name, v) for name in detectors for v in views if (pic.key, v) not in done[name]]
        if not todo:
            continue
        rgb = read_picture(data_root, pic)
        faces = cached_faces(cache, pic.key, rgb, face_detector, MIN_FACE_PX)
        for view in sorted({v for _, v in todo}):
            pixels, scale = picture_view(rgb, view)
            moved = [lm * scale for lm in faces]
            for name, v in todo:
                if v != view:
                    continue
                loaded, policy = detectors[name]
                row = {"key": pic.key, "view": view,
                       **score_picture(name, loaded, policy, pixels, moved, pic.media)}
                with files[name].open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(row) + "\n")
        if n % 25 == 0:
            logger.info("%d/%d pictures scored", n, len(pictures))


def _level_value(row: dict[str, Any], level: str) -> float | None:
    """``whole``: the picture; ``face``: the highest face; ``frame``: the product's frame
    score, the highest of the faces and the picture."""
    face = max(row["faces"]) if row["faces"] else None
    if level == "whole":
        return row["whole"]
    if level == "face":
        return face
    values = [v for v in (row["whole"], face) if v is not None]
    return max(values) if values else None


def _picture_scores(path: Path, level: str) -> dict[tuple[str, str], float]:
    out = {}
    for row in map(json.loads, path.read_text().splitlines()):
        value = _level_value(row, level)
        if value is not None:
            out[(row["key"], row["view"])] = float(value)
    return out


def _video_key(pic: EvalPicture) -> str:
    return pic.rel_path if pic.media == "video" else pic.key


def _collect(pictures: list[EvalPicture], scores: dict[tuple[str, str], float], view: str,
             per_video: bool) -> dict[str, list[float]]:
    """Scores by group (per-video means when ``per_video``), for one view."""
    by_unit: dict[tuple[str, str], list[float]] = {}
    for pic in pictures:
        value = scores.get((pic.key, view))
        if value is not None:
            unit = _video_key(pic) if per_video else pic.key
            by_unit.setdefault((pic.group, unit), []).append(value)
    out: dict[str, list[float]] = {}
    for (group, _), values in by_unit.items():
        out.setdefault(group, []).append(float(np.mean(values)))
    return out


def _auc(fake: list[float], real: list[float]) -> float | None:
    if not fake or not real:
        return None
    return roc_auc(np.r_[fake, real], np.r_[np.ones(len(fake)), np.zeros(len(real))])


def _rows(by_group: dict[str, list[float]],
          threshold: float | None) -> Iterator[dict[str, Any]]:
    reals = {kind: [v for g, vs in by_group.items() if g.split(":")[0] == kind for v in vs]
             for kind in ALL_REALS}
    photos = reals["real_photo"]
    everything = [v for kind in ALL_REALS for v in reals[kind]]
    fakes = {g: vs for g, vs in by_group.items() if g.split(":")[0] not in ALL_REALS}
    pooled = {f"{kind}:ALL dev_bench": [v for g, vs in fakes.items()
                                        if g.startswith(f"{kind}:") and "generated_photos" not in g
                                        for v in vs]
              for kind in ("gan", "diffusion", "faceswap", "reenactment", "talking_head")}
    for group, values in sorted({**fakes, **{k: v for k, v in pooled.items() if v}}.items()):
        yield {"group": group, "n": len(values), "auc_vs_real_photos": _auc(values, photos),
               "auc_vs_all_reals": _auc(values, everything),
               "flagged": _flagged(values, threshold)}
    for group, values in sorted((g, vs) for g, vs in by_group.items()
                                if g.split(":")[0] in ALL_REALS):
        yield {"group": group, "n": len(values), "auc_vs_real_photos": None,
               "auc_vs_all_reals": None, "flagged": _flagged(values, threshold)}


def _flagged(values: list[float], threshold: float | None) -> float | None:
    return None if threshold is None else float(np.mean(np.asarray(values) >= threshold))


def metrics_table(pictures: list[EvalPicture], path: Path | list[Path], threshold: float | None,
                  views: tuple[str, ...]) -> dict[str, Any]:
    """``{level: {view: [row, ...]}}`` for levels ``face``, ``whole``, ``frame`` and their
    ``_video`` forms (which average a video's frames first).

    ``path`` may name several detectors' score files: each picture then gets the mean of the
    calibrated scores of those that scored it, which is how fusion v2 combines the detectors
    of one kind (``engine.fusion.per_kind``). ``threshold`` ``None``: no ``flagged`` share (a
    kind is graded by real-media thresholds, not one bar).
    """
    paths = path if isinstance(path, list) else [path]
    out: dict[str, Any] = {}
    for level in ("face", "whole", "frame"):
        scores = _mean_scores([_picture_scores(p, level) for p in paths])
        for per_video in (False, True):
            name = f"{level}_video" if per_video else level
            out[name] = {view: list(_rows(_collect(pictures, scores, view, per_video), threshold))
                         for view in views}
    return out


def _mean_scores(per_detector: list[dict[tuple[str, str], float]]) -> dict[tuple[str, str], float]:
    if len(per_detector) == 1:
        return per_detector[0]
    keys = set().union(*per_detector)
    return {k: float(np.mean([d[k] for d in per_detector if k in d])) for k in keys}


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m engine.training.gen_eval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", type=Path, required=True, help="../shared/data")
    parser.add_argument("--cache", type=Path, required=True, help="face and score cache folder")
    parser.add_argument("--detectors", default="gen_nprnet,gan_effl0")
    parser.add_argument("--models-dir", type=Path, default=None)
    parser.add_argument("--frames-per-video", type=int, default=3)
    parser.add_argument("--heldout-stills", type=int, default=150)
    parser.add_argument("--views", default=",".join(VIEWS))
    parser.add_argument("--kind-mean", action="store_true",
                        help="also tabulate the mean of the detectors' calibrated scores per "
                             "picture (column kind:mean), as fusion v2 combines one kind")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--markdown", type=Path, default=None, help="write the tables here")
    parser.add_argument("--record", default="", metavar="NAMES",
                        help="store the tables in these detectors' cards (comma-separated)")
    parser.add_argument("--decide-default-set", default=None, metavar="NEW,OLD",
                        help="NEW joins the default set; OLD leaves it only if NEW beats it "
                             "on every group of DEFAULT_SET_GROUPS, else both run (writes both "
                             "cards' default_set)")
    return parser.parse_args(argv)


# NOTE: the three targets: dev bench GAN faces, dev bench diffusion faces, the 300
# portraits, each against real photos, by the score the application records (frame level).
DEFAULT_SET_GROUPS = ("gan:ALL dev_bench", "diffusion:ALL dev_bench", "gan:generated_photos")


def beats(tables: dict[str, Any], new: str, old: str) -> dict[str, Any]:
    """Whether ``new`` ranks better than ``old`` on every group of :data:`DEFAULT_SET_GROUPS`
    (frame level, native view, AUC against real photos), with the AUCs it compared."""
    def auc(name: str, group: str) -> float:
        rows = {r["group"]: r for r in tables[name]["frame"]["native"]}
        return float(rows[group]["auc_vs_real_photos"])

    compared = {g: {new: auc(new, g), old: auc(old, g)} for g in DEFAULT_SET_GROUPS}
    return {"beats": all(v[new] > v[old] for v in compared.values()), "compared": compared}


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    from engine.training.card import record_metrics
    from engine.training.cli import command_line
    from engine.training.gen_eval_table import render_tables

    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    args.cache.mkdir(parents=True, exist_ok=True)
    views = tuple(args.views.split(","))
    pictures = list_pictures(args.data_root, frames_per_video=args.frames_per_video,
                             n_heldout_stills=args.heldout_stills)
    write_pictures(args.cache / "pictures.json", pictures)
    detectors = _load(args.detectors.split(","), args.models_dir, args.threads)
    evaluate(pictures, detectors, args.data_root, args.cache, views)
    command = command_line(argv, "python -m engine.training.gen_eval")
    tables = {name: metrics_table(pictures, _scores_path(args.cache, loaded),
                                  loaded.cfg.threshold, views)
              for name, (loaded, _) in detectors.items()}
    if args.kind_mean:
        tables[KIND_MEAN] = metrics_table(
            pictures, [_scores_path(args.cache, loaded) for loaded, _ in detectors.values()],
            None, views)
    (args.cache / "tables.json").write_text(json.dumps(tables, indent=1) + "\n")
    if args.markdown is not None:
        args.markdown.write_text(render_tables(tables, command), encoding="utf-8")
    if args.record:
        from engine.runtime import WeightsStore

        store = WeightsStore(args.models_dir)
        for name in args.record.split(","):
            record_metrics(store.card_path(name), "held_out_generators",
                           {"tables": tables[name], "compared_with": sorted(tables)}, command)
    if args.decide_default_set:
        _decide_default_set(tables, args.decide_default_set.split(","), args.models_dir,
                            command)
    return 0


def _decide_default_set(tables: dict[str, Any], names: list[str], models_dir: Path | None,
                        command: str) -> None:
    """Write ``default_set`` (and why) into the two cards, from :func:`beats`: the new
    detector always runs by default (it is the one that scores pictures without a face); the
    old one keeps running beside it unless the new one beats it on every target."""
    from engine.runtime import WeightsStore
    from engine.training.card import read_card, write_card

    new, old = names
    verdict = beats(tables, new, old)
    store = WeightsStore(models_dir)
    for name, keep in ((new, True), (old, not verdict["beats"])):
        if name == old and keep:
            continue  # NOTE: the old card is only touched when it leaves the default set
        card = read_card(store.card_path(name))
        card["default_set"] = keep
        card["default_set_reason"] = {**verdict, "new": new, "old": old, "command": command}
        write_card(store.root, card)
    logger.info("default set: %s %s %s", new, "replaces" if verdict["beats"] else "stays beside",
                old)


if __name__ == "__main__":
    sys.exit(main())
