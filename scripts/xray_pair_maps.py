"""Draw Face X-ray's boundary maps on matched real/fake pairs of the dev bench.

Each row is one DeepFaceLive pair of ``../shared/data/dev_bench`` (the same stream, only the
face differs): the real frame's face crop and the swapped one, each with the X-ray map of each
models folder given laid over it, its ``p_fake`` and the map's peak. A map that marks where the
swapped face meets the frame is what Face X-ray promises; a face-sized blob, or a ring on the
real twin too, is not.

    python scripts/xray_pair_maps.py --models resources/models --label shipped \\
        --models /work/cache/candidate --label new --out docs/xray_pair_maps.png

The picture shows faces from the dev bench (research use inside the team, README there): keep
it small, in docs/ only.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import cv2
import numpy as np

from engine.faces.crop import CropPolicy, crop_face
from engine.faces.mesh import FaceMeshDetector
from engine.media import sample_frames
from engine.runtime import load_detector

REPO_ROOT = Path(__file__).resolve().parents[1]
PAIRS = ("Kim_Jarrey_0", "Rob_Doe_0", "Meggie_Merkel_0", "Liu_Lice_0")
TILE = 160  # NOTE: px per tile: enough to see a ring, small enough for docs/
FRAME = 16  # NOTE: the middle one of the app's 32 evenly spaced frames


def _face(detector: FaceMeshDetector, path: Path) -> np.ndarray:
    frames = list(sample_frames(path, n_frames=32))
    rgb = frames[min(FRAME, len(frames) - 1)].rgb_u8
    faces = sorted(detector.analyze(rgb, 0).faces, key=lambda f: -f.det_score)
    if not faces:
        raise SystemExit(f"no face in frame {FRAME} of {path}")
    crop, _, _ = crop_face(rgb, faces[0].landmarks_xy, CropPolicy())
    return crop


def _tile(crop: np.ndarray, loaded: object, caption: str) -> np.ndarray:
    out = loaded.predict(crop[None], want_maps=True)  # type: ignore[attr-defined]
    heat = cv2.resize(out.maps[0].astype(np.float32), (TILE, TILE))
    colour = cv2.applyColorMap((heat * 255).astype(np.uint8), cv2.COLORMAP_JET)[..., ::-1]
    face = cv2.resize(crop, (TILE, TILE), interpolation=cv2.INTER_AREA)
    tile = (0.55 * face + 0.45 * colour).astype(np.uint8)
    text = f"{caption} p {out.p_fake[0]:.2f} peak {heat.max():.2f}"
    cv2.putText(tile, text, (3, TILE - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.33, (255, 255, 255), 1)
    return tile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", type=Path, default=Path(
        os.environ.get("FORENSIC_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")))
    parser.add_argument("--models", type=Path, action="append", required=True)
    parser.add_argument("--label", action="append", required=True)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "xray_pair_maps.png")
    args = parser.parse_args()
    if len(args.models) != len(args.label):
        parser.error("give one --label per --models")
    loaded = [load_detector("xray_effl0", models_dir=m, threads=2) for m in args.models]
    bench = args.data_root / "dev_bench"
    rows = []
    with FaceMeshDetector(max_faces=4) as detector:
        for key in PAIRS:
            real = _face(detector, bench / "real_videos" / f"deepfacelive__{key}__input.mp4")
            fake = _face(detector, bench / "faceswap" / f"deepfacelive__{key}__swap.mp4")
            rows.append(np.hstack([_tile(crop, model, f"{label} {kind}")
                                   for model, label in zip(loaded, args.label, strict=True)
                                   for kind, crop in (("real", real), ("fake", fake))]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
