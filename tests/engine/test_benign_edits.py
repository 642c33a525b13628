"""Benign edits of real faces: where they act, how the counts are made, what the card says."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.evaluation.benign_edits import (
    EDITS,
    card_entry,
    edit_batch,
    face_mask,
    markdown,
    measure,
)
from engine.evaluation.card_text import BENIGN_EDITS_KEY as CARD_KEY
from engine.evaluation.card_text import strongest_trigger
from engine.runtime.weights import WeightsStore
from engine.training.bench_crops import BenchCrops
from engine.training.card import render_markdown

EDIT = {e.name: e for e in EDITS}


@pytest.fixture(scope="module")
def crops():
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, size=(3, 256, 256, 3), dtype=np.uint8)


def test_face_mask_covers_the_landmark_box_and_not_the_margin():
    mask = face_mask(256)[..., 0]
    assert mask.shape == (256, 256)
    assert mask[128, 128] == pytest.approx(1.0)
    assert mask[2, 2] == pytest.approx(0.0, abs=1e-6)
    # The landmark box is 256 / 1.5 = 171 px: the ellipse reaches about 85 px up and down.
    assert mask[128 - 75, 128] > 0.9
    assert mask[128 - 100, 128] < 0.05
    assert np.abs(mask[:, 1:] - mask[:, 1:][:, ::-1]).max() < 0.01  # centred on pixel 128


def test_face_edits_leave_the_margin_alone_and_whole_edits_do_not(crops):
    corner = (slice(0, 20), slice(0, 20))
    for name in ("beauty_face_mild", "beauty_face_strong", "blur_face"):
        out = edit_batch(EDIT[name], crops)
        assert out.dtype == np.uint8
        assert out.shape == crops.shape
        assert np.array_equal(out[:, corner[0], corner[1]], crops[:, corner[0], corner[1]])
        assert not np.array_equal(out[:, 118:138, 118:138], crops[:, 118:138, 118:138])
    for name in ("beauty_whole", "sharpen_whole", "jpeg_60", "half_resolution"):
        out = edit_batch(EDIT[name], crops)
        assert not np.array_equal(out[:, corner[0], corner[1]], crops[:, corner[0], corner[1]])
    again = edit_batch(EDIT["beauty_face_mild"], crops)
    assert np.array_equal(again, edit_batch(EDIT["beauty_face_mild"], crops))


def test_items_are_scored_as_the_app_scores_them(crops):
    """Item = mean over frames of the max over the frame's faces; counts at the threshold."""
    item_of = np.array([0, 0, 1])
    frame_of = np.array([0, 0, 0])
    # Face 0 of item 0 scores 0.9, face 1 scores 0.1; item 1's face 0.6 -> items 0.9 and 0.6.
    faces_p = {0: 0.9, 1: 0.1, 2: 0.6}

    def predict(batch):
        return np.array([faces_p[int(np.flatnonzero((crops == c).all(axis=(1, 2, 3)))[0])]
                         if (crops == c).all(axis=(1, 2, 3)).any() else 0.95 for c in batch])

    bench = BenchCrops(("a", "b"), crops, item_of, frame_of)
    rows = measure(bench, {"det": (predict, 0.7)}, edits=[EDIT["beauty_whole"]])
    unedited, edited = rows
    assert (unedited.edit, unedited.n_crops, unedited.crops_above) == ("none", 3, 1)
    assert (unedited.n_items, unedited.items_above) == (2, 1)
    assert (edited.edit, edited.crops_above, edited.items_above) == ("beauty_whole", 3, 2)
    assert unedited.mean_p_fake == pytest.approx((0.9 + 0.1 + 0.6) / 3)
    text = markdown(rows, "cmd", "index.csv")
    assert "det (≥ 0.7)" in text
    assert "1/2 (50%" in text
    assert "2/2 (100%" in text


def test_the_card_names_the_edit_that_triggers_most_and_only_a_rise():
    entry = {"command": "python -m engine.evaluation.benign_edits --crops X", "edits": {
        "none": {"items_above": 3, "n_items": 101, "crops_above": 5, "n_crops": 900},
        "beauty_face_mild": {"items_above": 40, "n_items": 101, "crops_above": 500,
                             "n_crops": 900, "words": "a mild beauty filter on the face only"},
        "jpeg_60": {"items_above": 2, "n_items": 101, "crops_above": 4, "n_crops": 900,
                    "words": "a JPEG round trip"}}}
    sentence = strongest_trigger(entry)
    assert "a mild beauty filter on the face only" in sentence
    assert "40/101 (40%" in sentence
    assert "3/101 (3.0%" in sentence
    assert strongest_trigger(None) == ""
    calm = {**entry, "edits": {k: v for k, v in entry["edits"].items() if k != "beauty_face_mild"}}
    assert strongest_trigger(calm) == ""


def test_card_entry_and_its_page(crops):
    bench = BenchCrops(("a", "b", "c"), crops, np.array([0, 1, 2]), np.zeros(3, np.int64))
    rows = measure(bench, {"sbi_effl0": (lambda b: np.full(len(b), 0.2), 0.5)},
                   edits=[EDIT["blur_face"]])
    entry = card_entry(rows, "sbi_effl0", "cmd", "index.csv")
    assert set(entry["edits"]) == {"none", "blur_face"}
    assert entry["edits"]["blur_face"]["words"].startswith("a slight blur")
    card = json.loads(WeightsStore().card_path("sbi_effl0").read_text(encoding="utf-8"))
    page = render_markdown({**card, CARD_KEY: entry})
    assert "## Benign edits of real faces" in page
    assert "| a slight blur of the face only (Gaussian sigma 1.2 px) | 0/3 (0%" in page
