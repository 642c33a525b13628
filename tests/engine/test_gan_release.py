"""Release of the GAN detector: Platt on the policy view only, every view measured apart."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("torch")

from engine.detectors import registry
from engine.runtime.loaded import postprocess
from engine.training.datasets_gan import LabelledSet
from engine.training.loop_video_gan import VgValidation
from engine.training.release_video_gan import measure_gan


class _MeanGrey:
    """Stand-in detector: its fake logit is the mean normalised pixel value times 4."""

    def __init__(self) -> None:
        self.cfg = registry.get_cfg("gan_effl0")

    def predict(self, batch: np.ndarray, *, want_maps: bool = False):  # type: ignore[no-untyped-def]
        logits = 4.0 * batch.reshape(len(batch), -1).mean(axis=1, keepdims=True)
        return postprocess(logits, None, self.cfg, None, want_maps=False)


def _view(levels: list[int], labels: list[int], side: int) -> LabelledSet:
    crops = np.stack([np.full((side, side, 3), v, np.uint8) for v in levels])
    return LabelledSet(crops, np.array(labels, dtype=np.int64))


def test_views_are_measured_on_the_half_not_used_for_calibration() -> None:
    labels = [0, 0, 0, 0, 1, 1, 1, 1]
    separable = [60, 80, 70, 90, 160, 180, 170, 190]
    inverted = [160, 180, 170, 190, 60, 80, 70, 90]  # a view where fakes look "real"
    val = VgValidation(views={"policy": _view(separable, labels, 64),
                              "oval": _view(inverted, labels, 64),
                              "margin0": _view(separable, labels, 32)})
    platt, metrics = measure_gan(SimpleNamespace(detector=_MeanGrey()), val)  # type: ignore[arg-type]
    assert platt.a > 0
    assert set(metrics) == {"val_policy", "val_oval", "val_margin0"}
    assert metrics["val_policy"]["auc"] == 1.0
    assert metrics["val_margin0"]["ap"] == 1.0
    assert metrics["val_oval"]["auc"] == 0.0  # reported as measured, never flipped
    for m in metrics.values():
        assert (m["n_real"], m["n_fake"]) == (2, 2)  # the measuring half
        assert m["n_all_val"] == 8
