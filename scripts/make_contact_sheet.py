"""Draw docs/synthesis_contact_sheet.png: what the training-fake synthesis makes of real faces.

One row per real face (UTKFace and CelebA stills and video frames from the shared data):
the real crop, its SBI self-blend, the amplified difference, the SBI mask M and X-ray target B,
then a Face X-ray blended image with the nearest donor of a small pool, its mask and X-ray.
Two strips below show 6 frames of a temporal fake clip ("drift" and "jump") with their masks.

Run: python scripts/make_contact_sheet.py [--data-root ../shared/data] [--out PATH]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import cv2
import numpy as np

from engine.faces.crop import CropPolicy, crop_face
from engine.faces.mesh import FaceMeshDetector
from engine.synthesis import blend_with_donor, nearest_donor, self_blend, temporal_self_blend

REPO_ROOT = Path(__file__).resolve().parents[1]
ROW_STILLS = (
    "faces_real/utkface/25_0_0_20170102233320979.jpg.chip.jpg",
    "faces_real/utkface/40_0_2_20170104170505569.jpg.chip.jpg",
    "faces_real/utkface/25_1_1_20161220222224947.jpg.chip.jpg",
    "faces_real/celeba/1.jpg",
)
ROW_VIDEO = ("videos_real/liveportrait_d0.mp4", 30)
CLIP = "videos_real/liveportrait_d11.mp4"
# NOTE: 40 UTKFace donors spread over all ages (the paper samples ~100 from a large set).
POOL_SLICE = slice(0, None, 245)
COLUMNS = ("real", "SBI fake", "|SBI-real| x4", "SBI mask M", "SBI X-ray B",
           "BI fake", "BI mask M", "BI X-ray B")  # fmt: skip


def _read_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path))
    if bgr is None:
        raise SystemExit(f"cannot read {path}")
    return np.ascontiguousarray(bgr[..., ::-1])


def _video_frames(path: Path, indices: list[int]) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames, idx = [], 0
    try:
        while idx <= max(indices):
            ok, bgr = cap.read()
            if not ok:
                raise SystemExit(f"{path} ended before frame {idx}")
            if idx in indices:
                frames.append(np.ascontiguousarray(bgr[..., ::-1]))
            idx += 1
    finally:
        cap.release()
    return frames


def _face(detector: FaceMeshDetector, rgb_u8: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    found = detector.detect(rgb_u8)
    if not found:
        raise SystemExit("no face found in a contact-sheet image")
    crop, lm, _ = crop_face(rgb_u8, found[0].landmarks_xy, CropPolicy())
    return crop, lm


def _gray(map_f32: np.ndarray) -> np.ndarray:
    return cv2.cvtColor((np.clip(map_f32, 0, 1) * 255).astype(np.uint8), cv2.COLOR_GRAY2RGB)


def _tile(rgb_u8: np.ndarray, size: int, label: str = "") -> np.ndarray:
    tile = cv2.resize(rgb_u8, (size, size), interpolation=cv2.INTER_AREA)
    if label:
        cv2.rectangle(tile, (0, size - 14), (size, size), (0, 0, 0), -1)
        cv2.putText(
            tile,
            label,
            (3, size - 3),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.36,
            (255, 255, 0),
            1,
            cv2.LINE_AA,
        )
    return tile


def _header(labels: tuple[str, ...] | list[str], size: int, title: str = "") -> np.ndarray:
    band = np.full((22 if not title else 44, size * len(labels), 3), 255, np.uint8)
    if title:
        cv2.putText(band, title, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    for i, text in enumerate(labels):
        cv2.putText(
            band,
            text,
            (i * size + 4, band.shape[0] - 7),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45,
            (0, 0, 0),
            1,
            cv2.LINE_AA,
        )
    return band


def _face_row(
    crop: np.ndarray,
    lm: np.ndarray,
    pool_crops: list[np.ndarray],
    pool_lms: np.ndarray,
    rng: np.random.Generator,
    size: int,
    name: str,
) -> np.ndarray:
    sbi = self_blend(crop, lm, rng)
    p = sbi.params
    diff = np.clip(np.abs(sbi.image_rgb_u8.astype(np.int16) - sbi.target_rgb_u8) * 4, 0, 255)
    donor_idx = nearest_donor(lm, pool_lms, rng, n_candidates=100)
    bi = blend_with_donor(crop, lm, pool_crops[donor_idx], pool_lms[donor_idx], rng)
    swap = "T(I) into I" if p.transform_source else "I into T(I)"
    tiles = [
        _tile(crop, size, name),
        _tile(sbi.image_rgb_u8, size, f"{swap}, r={p.blend_ratio:g}"),
        _tile(diff.astype(np.uint8), size, f"k1={p.blur_k1} k2={p.blur_k2}"),
        _tile(
            _gray(sbi.mask_f32),
            size,
            f"{p.hull_shape}{' (reduced)' if p.reduced_landmarks else ''}",
        ),
        _tile(_gray(sbi.xray_f32), size, "B = 4M(1-M)"),
        _tile(bi.image_rgb_u8, size, f"donor #{donor_idx} of pool"),
        _tile(_gray(bi.mask_f32), size, bi.params.hull_shape),
        _tile(_gray(bi.xray_f32), size, "B = 4M(1-M)"),
    ]
    return np.hstack(tiles)


def _clip_strip(
    data_root: Path, detector: FaceMeshDetector, rng: np.random.Generator, size: int, mode: str
) -> np.ndarray:
    frames = _video_frames(data_root / CLIP, list(range(0, 36, 6)))
    faces = [_face(detector, f) for f in frames]
    results = temporal_self_blend([c for c, _ in faces], [lm for _, lm in faces], rng, mode)
    top = [
        _tile(r.image_rgb_u8, size, f"t={6 * i} r={r.params.blend_ratio:.2f}")
        for i, r in enumerate(results)
    ]
    bottom = [
        _tile(_gray(r.mask_f32), size, f"M t={6 * i} ({r.params.hull_shape})")
        for i, r in enumerate(results)
    ]
    return np.vstack([np.hstack(top), np.hstack(bottom)])


def _build_sheet(data_root: Path, rng: np.random.Generator, size: int) -> np.ndarray:
    with FaceMeshDetector() as detector:
        rows = [
            (_face(detector, _read_rgb(data_root / rel)), Path(rel).parts[1]) for rel in ROW_STILLS
        ]
        frame = _video_frames(data_root / ROW_VIDEO[0], [ROW_VIDEO[1]])[0]
        rows.append((_face(detector, frame), "video frame"))
        pool_paths = sorted((data_root / "faces_real/utkface").iterdir())[POOL_SLICE]
        pool = [_face(detector, _read_rgb(p)) for p in pool_paths]
        pool_crops = [c for c, _ in pool]
        pool_lms = np.stack([lm for _, lm in pool])
        grid = [_header(COLUMNS, size)]
        grid += [_face_row(c, lm, pool_crops, pool_lms, rng, size, name) for (c, lm), name in rows]
        for mode in ("drift", "jump"):
            strip = _clip_strip(data_root, detector, rng, size, mode)
            pad = np.full((strip.shape[0], grid[0].shape[1] - strip.shape[1], 3), 255, np.uint8)
            title = f"temporal_self_blend(mode='{mode}'): 6 frames of one clip, fake and mask"
            grid += [_header([""] * len(COLUMNS), size, title), np.hstack([strip, pad])]
    return np.vstack(grid)


def main(argv: list[str] | None = None) -> int:
    default_root = os.environ.get("FORENSIC_SHARED_DATA", str(REPO_ROOT.parent / "shared/data"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=Path(default_root))
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs/synthesis_contact_sheet.png")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tile", type=int, default=150, help="tile side in pixels")
    args = parser.parse_args(argv)
    sheet = _build_sheet(args.data_root, np.random.default_rng(args.seed), args.tile)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), sheet[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9])
    size_mb = args.out.stat().st_size / 1e6
    print(f"wrote {args.out} ({sheet.shape[1]}x{sheet.shape[0]}, {size_mb:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
