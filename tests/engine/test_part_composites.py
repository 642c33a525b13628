"""Photo composites of face parts (engine.evaluation.part_composites): where the composite
changes a face, and what the measurement counts."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from engine.evaluation.card_text import (
    PART_COMPOSITES_KEY,
    limits_sentences,
    part_composite_reach,
)
from engine.evaluation.part_composites import (
    BLENDS,
    VARIANTS,
    Faces,
    card_entry,
    composite,
    composites_of,
    cut_mask,
    markdown,
    measure,
    part_auc,
)
from engine.runtime import WeightsStore
from engine.training.card import render_markdown
from tests.engine.test_synthesis_masks import real_faces


@pytest.fixture(scope="module")
def faces(shared_data: Path) -> Faces:
    found = real_faces(shared_data)
    return Faces(tuple(f.name for f in found), np.stack([f.rgb_u8 for f in found]),
                 np.stack([f.landmarks_xy for f in found]).astype(np.float32))


def _changed(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    return np.abs(a.astype(int) - b.astype(int)).max(-1) > 0


def _detail(img: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return grey - cv2.GaussianBlur(grey, (0, 0), 2.0)


@pytest.mark.parametrize("variant", ["one_eye", "mouth", "whole_face"])
def test_a_composite_takes_the_donors_detail_inside_the_cut_only(
    faces: Faces, variant: str,
) -> None:
    """Inside the cut both blends carry the donor's detail (the feathered paste is the aligned
    donor itself there; the clone takes its gradients); outside the cut, past the feather, the
    target is untouched."""
    target, donor = 0, 1
    side = faces.crops.shape[1]
    cut = cut_mask(faces.landmarks[target], side, VARIANTS[variant])
    core = cv2.erode(cut, np.ones((19, 19), np.uint8)) > 0
    near = cv2.dilate(cut, np.ones((25, 25), np.uint8)) > 0  # 3 sigma of a feather, 12 px
    pasted = {blend: composite(faces.crops[target], faces.landmarks[target], faces.crops[donor],
                               faces.landmarks[donor], VARIANTS[variant], blend)
              for blend in BLENDS}
    donor_detail = _detail(pasted["feather"])[core]
    target_detail = _detail(faces.crops[target])[core]
    assert not np.allclose(donor_detail, target_detail, atol=1.0)
    for blend, out in pasted.items():
        assert out.shape == faces.crops[target].shape
        assert out.dtype == np.uint8
        mine = _detail(out)[core]
        assert np.abs(mine - donor_detail).mean() < 0.5 * np.abs(mine - target_detail).mean(), (
            blend)
        assert not _changed(out, faces.crops[target])[~near].any(), blend
    eye = cut_mask(faces.landmarks[target], side, VARIANTS["one_eye"]).sum()
    whole = cut_mask(faces.landmarks[target], side, VARIANTS["whole_face"]).sum()
    assert eye < 0.15 * whole


def test_every_face_gets_another_face_as_its_donor(faces: Faces) -> None:
    """Seven faces: the fixed offset of 7 would give each face itself; it must not."""
    seven = Faces(tuple(f"f{i}" for i in range(7)),
                  np.stack([faces.crops[i % 4] for i in range(7)]),
                  np.stack([faces.landmarks[i % 4] for i in range(7)]))
    out, made = composites_of(seven, VARIANTS["mouth"], "feather")
    assert made.all()
    # a face pasted onto itself would come out unchanged; each neighbour here is another face
    assert all(_changed(out[i], seven.crops[i]).any() for i in range(7))
    with pytest.raises(ValueError, match="at least two faces"):
        composites_of(Faces(("a",), faces.crops[:1], faces.landmarks[:1]), None, "feather")


def test_the_card_sentence_reads_every_part_row_the_measurement_writes() -> None:
    """card_text.PART_VARIANTS names the composites that replace a part: every variant but
    the whole face."""
    from engine.evaluation.card_text import PART_VARIANTS

    assert set(PART_VARIANTS) == set(VARIANTS) - {"whole_face"}


def test_an_unknown_blend_is_refused(faces: Faces) -> None:
    with pytest.raises(ValueError, match="blend must be one of"):
        composite(faces.crops[0], faces.landmarks[0], faces.crops[1], faces.landmarks[1],
                  VARIANTS["nose"], "median")


def test_measure_counts_composites_against_their_own_originals(faces: Faces) -> None:
    """A detector that knows the originals scores every composite above them (AUC 1); one that
    scores everything alike ranks nothing (AUC 0.5, no composite above its original)."""
    originals = {hashlib.sha256(c.tobytes()).hexdigest() for c in faces.crops}

    def knows(x: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
        return np.array([0.0 if hashlib.sha256(c.tobytes()).hexdigest() in originals else 1.0
                         for c in x])

    def flat(x: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
        return np.full(len(x), 0.3)

    rows = measure(faces, {"knows": (knows, 0.5), "flat": (flat, 0.5)})
    assert len(rows) == len(VARIANTS) * len(BLENDS) * 3  # two detectors and their mean
    n = len(faces.crops)
    for r in rows:
        assert r.n == n
        if r.detector == "knows":
            assert (r.auc, r.above_original, r.composites_above, r.originals_above) == (
                1.0, n, n, 0)
        elif r.detector == "flat":
            assert (r.auc, r.above_original, r.composites_above) == (0.5, 0, 0)
        else:
            assert r.detector == "mean"
            assert r.threshold is None
            assert r.auc == 1.0
    assert part_auc(rows, "knows") == 1.0
    assert part_auc(rows, "flat") == 0.5
    text = markdown(rows, "python -m engine.evaluation.part_composites --crops C", "index.csv")
    assert "| one eye with its brow | Poisson (clone tool) | 1.000;" in text
    assert "Untouched faces at or above the threshold: knows 0/" in text
    entry = card_entry(rows, "knows", "cmd", "index.csv")
    assert entry["part_auc_poisson"] == 1.0
    assert entry["rows"]["whole_face/feather"]["auc"] == 1.0
    card = json.loads(WeightsStore().card_path("sbi_effl0").read_text(encoding="utf-8"))
    page = render_markdown({**card, PART_COMPOSITES_KEY: entry})
    assert "## Photo composites of face parts" in page
    assert f"| the mouth; Poisson (clone tool) | 1.000 | {n}/{n} (100%" in page


def test_the_card_sentence_warns_only_when_parts_escape_the_detector() -> None:
    def entry(part: float, whole: float) -> dict[str, object]:
        rows = {f"{name}/poisson": {"auc": part + 0.01 * i}
                for i, name in enumerate(("one_eye", "nose", "mouth", "both_eyes",
                                          "eyes_nose_mouth"))}
        return {"rows": rows | {"whole_face/poisson": {"auc": whole}}}

    blind = part_composite_reach(entry(0.52, 0.81))
    assert blind.startswith("Photo composites of face parts largely escape it")
    assert "AUC 0.52-0.56" in blind
    assert "(a whole face pasted in: 0.81" in blind
    assert "'no support'" in blind
    sees = part_composite_reach(entry(0.88, 0.9))
    assert sees.startswith("Photo composites of face parts: ")
    assert "escape" not in sees
    assert part_composite_reach(None) == ""
    assert part_composite_reach({"rows": {}}) == ""
    card = {PART_COMPOSITES_KEY: entry(0.52, 0.81)}
    assert limits_sentences(card) == blind
    assert limits_sentences({}) == ""


def test_the_command_measures_a_benchmark_and_records_the_cards(
    shared_data: Path, tmp_path: Path,
) -> None:
    """End to end, as documented: crops cut by the app's face stage, then the command writes its
    table and each detector's card entry (in a copy of the models folder)."""
    import shutil

    from engine.evaluation import part_composites
    from engine.evaluation.bench_index import read_index_logged
    from engine.training import bench_crops
    from tests.engine.test_synthesis_masks import STILLS

    index = tmp_path / "index.csv"
    index.write_text("path,label,kind\n" + "".join(
        f"{shared_data / rel},real,real_image\n" for rel in STILLS), encoding="utf-8")
    crops = tmp_path / "crops"
    bench_crops.extract(read_index_logged(index), crops)
    models = tmp_path / "models"
    models.mkdir()
    store = WeightsStore()
    for suffix in ("json", "md", "onnx", "pt"):
        shutil.copy(store.root / f"sbi_effl0.{suffix}", models)
    table = tmp_path / "table.md"
    assert part_composites.main(["--crops", str(crops), "--index", str(index), "--models-dir",
                                 str(models), "--detector", "sbi_effl0", "--markdown",
                                 str(table), "--record-cards", "--threads", "1"]) == 0
    text = table.read_text(encoding="utf-8")
    assert text.startswith("Command: `python -m engine.evaluation.part_composites --crops")
    assert f"{len(STILLS)} composites a row" in text
    card = json.loads((models / "sbi_effl0.json").read_text(encoding="utf-8"))
    assert card[PART_COMPOSITES_KEY]["rows"]["one_eye/poisson"]["n"] == len(STILLS)
    assert "## Photo composites of face parts" in (models / "sbi_effl0.md").read_text(
        encoding="utf-8")
