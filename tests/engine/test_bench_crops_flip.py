"""``bench_crops score --flip``: the mean logit of each crop and its mirror image."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from engine.training.bench_crops import BenchCrops, score


class _LeftRight:
    """A stand-in detector whose logit is how much brighter the left half is than the right:
    a mirror image negates it, so the mean of the two views is exactly 0 (p 0.5)."""

    def predict(self, crops: np.ndarray) -> SimpleNamespace:
        half = crops.shape[2] // 2
        x = crops.astype(np.float64)
        logit = (x[:, :, :half].mean(axis=(1, 2, 3)) - x[:, :, half:].mean(axis=(1, 2, 3))) / 50.0
        p = 1.0 / (1.0 + np.exp(-logit))
        return SimpleNamespace(p_fake=p, p_fake_raw=p)


def test_flip_averages_the_logits_of_a_crop_and_its_mirror() -> None:
    crops = np.zeros((3, 8, 8, 3), np.uint8)
    crops[:, :, :4] = np.array([200, 120, 60])[:, None, None, None]
    bench = BenchCrops(items=("a", "b"), crops=crops, item_of=np.array([0, 0, 1]),
                       frame_of=np.array([0, 1, 0]))
    plain = score(bench, {"lr": (_LeftRight(), True)})
    flipped = score(bench, {"lr": (_LeftRight(), True)}, flip=True)
    assert plain[0]["lr"] > 0.7
    assert plain[1]["lr"] > 0.7
    assert abs(flipped[0]["lr"] - 0.5) < 1e-9
    assert abs(flipped[1]["lr"] - 0.5) < 1e-9
