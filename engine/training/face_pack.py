"""A training config's faces in one small file, to train on a machine without the face cache.

    python -m engine.training.face_pack --config configs/training/sbi_effl0_gpu.toml \\
        --data-root /work/cache/dataset --out faces.npz [--jpeg-quality 90]

The face cache holds raw crops (about 200 KB a face at 256 px); a rented GPU machine is often
reached through a small upload and cannot run MediaPipe to rebuild it. A pack holds exactly
the faces ``python -m engine.training`` would read for that config (its training faces, capped
by ``max_reals``, and its ``val_reals`` validation faces, chosen with the same seeds), each
crop JPEG-encoded, with landmarks (float16: under 0.1 px of a 256 px crop) and identity
groups. ``python -m engine.training --data-root faces.npz`` trains from it.

The one difference from the cache is the JPEG step, so the pack records its quality and the
training card says so. Training already JPEG-compresses half its pairs at quality 40-100
(``engine.synthesis.pair_postaug``), so a quality-90 real face is within what the detector sees.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from engine.training.config import TrainConfig, load_config
from engine.training.datasets import RealFaces, faces_from_cache

__all__ = ["config_faces", "faces_from_pack", "held_out_clips", "is_pack", "pack_note",
           "write_pack"]

logger = logging.getLogger(__name__)

PACK_VERSION = 1
_SPLITS = ("train", "val")


def config_faces(data_root: Path, cfg: TrainConfig) -> dict[str, RealFaces]:
    """The training and validation faces ``python -m engine.training`` uses for ``cfg``."""
    return {
        "train": faces_from_cache(data_root, split="train", sources=cfg.sources,
                                  max_faces=cfg.max_reals, seed=cfg.seed),
        "val": faces_from_cache(data_root, split="val", sources=cfg.sources,
                                max_faces=cfg.val_reals, seed=cfg.seed),
    }


def _encode(crop_rgb: npt.NDArray[Any], quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(np.asarray(crop_rgb), cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding of a face crop failed")
    return bytes(buf.tobytes())


def write_pack(faces: dict[str, RealFaces], out: Path, *, quality: int) -> Path:
    """Write ``faces`` (``{"train": ..., "val": ...}``) to ``out`` (an ``.npz``)."""
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must lie in [1, 100]; got {quality}")
    arrays: dict[str, npt.NDArray[Any]] = {"version": np.array(PACK_VERSION),
                                           "jpeg_quality": np.array(quality)}
    for split in _SPLITS:
        blobs = [_encode(faces[split].crops[i], quality) for i in range(len(faces[split]))]
        arrays[f"{split}_jpeg"] = np.frombuffer(b"".join(blobs), dtype=np.uint8)
        arrays[f"{split}_ends"] = np.cumsum([len(b) for b in blobs]).astype(np.int64)
        arrays[f"{split}_landmarks"] = faces[split].landmarks.astype(np.float16)
        arrays[f"{split}_groups"] = np.asarray(faces[split].groups).astype(str)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as fh:
        np.savez(fh, **arrays)  # NOTE: JPEG bytes do not compress further
    return out


def is_pack(path: Path) -> bool:
    """Whether ``--data-root`` names a pack file rather than a face-cache folder."""
    return Path(path).is_file() and Path(path).suffix == ".npz"


def faces_from_pack(path: Path, split: str) -> RealFaces:
    """The decoded faces of one split of a pack (held in memory).

    Raises:
        ValueError: an unknown split, another pack version, or a crop that does not decode.
    """
    if split not in _SPLITS:
        raise ValueError(f"split must be one of {_SPLITS}; got {split!r}")
    with np.load(path, allow_pickle=False) as data:
        if int(data["version"]) != PACK_VERSION:
            raise ValueError(f"{path}: pack version {int(data['version'])}, "
                             f"this code reads {PACK_VERSION}")
        blob = data[f"{split}_jpeg"]
        ends = data[f"{split}_ends"]
        landmarks = data[f"{split}_landmarks"].astype(np.float32)
        groups = data[f"{split}_groups"]
    starts = np.r_[0, ends[:-1]]
    crops = []
    for i, (start, end) in enumerate(zip(starts, ends, strict=True)):
        bgr = cv2.imdecode(blob[start:end], cv2.IMREAD_COLOR)
        if bgr is None:
            raise ValueError(f"{path}: {split} crop {i} does not decode")
        crops.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    return RealFaces(np.stack(crops), landmarks, groups)


def pack_note(path: Path) -> str:
    """One line for the model card: where the training faces came from."""
    with np.load(path, allow_pickle=False) as data:
        quality = int(data["jpeg_quality"])
        n_train = len(data["train_ends"])
    return (f"{n_train} faces of the face cache, read from a face pack ({Path(path).name}: "
            f"crops JPEG-encoded at quality {quality}; python -m engine.training.face_pack).")


def held_out_clips(data_root: Path, val_groups: object) -> list[str]:
    """Video clips that no training run of this cache ever saw: those of the validation split.

    The split is clip-disjoint, so a clip with validation faces has no training faces; a clip
    is never called held out just because this run's ``max_reals`` subset missed its frames
    (earlier stages trained on the whole split).
    """
    from engine.data.cache import FaceCache

    if is_pack(data_root):  # a pack holds the run's own faces only
        groups = {str(g) for g in val_groups}  # type: ignore[attr-defined]
    else:
        cache = FaceCache(data_root)
        groups = {f"{r.source}:{r.identity}" for r in cache.rows if r.split == "val"}
    return sorted(g for g in groups if g.startswith("videos_real:"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.training.face_pack",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True, help="training TOML")
    parser.add_argument("--data-root", type=Path, required=True, help="face cache folder")
    parser.add_argument("--out", type=Path, required=True, help="pack file to write (.npz)")
    parser.add_argument("--jpeg-quality", type=int, default=90)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    if args.out.suffix != ".npz":
        parser.error("--out must end in .npz")
    faces = config_faces(args.data_root, load_config(args.config))
    write_pack(faces, args.out, quality=args.jpeg_quality)
    logger.info("wrote %s: %d train + %d val faces, %.1f MB", args.out, len(faces["train"]),
                len(faces["val"]), args.out.stat().st_size / 1e6)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
