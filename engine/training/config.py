"""Training configuration: a typed dataclass read from TOML; unknown keys are an error.

One TOML file per shipped model lives in ``configs/training/``. Every field has a meaning in the
loop; nothing is merged from dicts at run time.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from engine.training.config_io import config_from_dict, config_to_dict, load_toml_config

if TYPE_CHECKING:
    from engine.training.datasets import PairRecipe

__all__ = ["RELEASE_ONLY", "Method", "TrainConfig", "load_config"]

Method = Literal["sbi", "xray", "mat"]

# NOTE: fields that change nothing in training, only the release's validation/calibration set.
RELEASE_ONLY = ("val_capture_prob",)


@dataclass(frozen=True)
class TrainConfig:
    """How one detector is trained.

    Attributes:
        detector: registry name of the detector to train.
        method: loss recipe: ``"sbi"`` (CE), ``"xray"`` (100 * BCE(map) + CE) or ``"mat"``
            (CE + regional independence loss, with attention-guided augmentation).
        seed: seed of every random draw (data split, synthesis, init of new layers).
        sample_seed: added to ``seed`` for the training draws only (batch order, synthesis,
            dropout): a later stage sets it so it sees new fakes while its validation set, and
            so its measured AUC, stays that of ``seed``.
        steps: optimiser steps at most.
        time_budget_s: wall-clock seconds of training at most (0 = no limit); the learning
            rate schedule follows whichever of steps and time runs out first.
        batch_reals: real faces per batch; each brings its fake twin (batch = 2x).
        lr: peak learning rate (Adam), reached after ``warmup_steps``, then cosine to 1%.
        warmup_steps: linear warm-up steps.
        weight_decay: Adam weight decay.
        freeze_stages: encoder stem + this many stride groups are frozen (CPU speed).
        threads: torch intra-op threads.
        device: where the network trains: ``"cpu"``, or ``"cuda"`` (a CUDA build of torch and
            a GPU; only while steps remain, so a finished GPU run is released on a CPU).
        data_workers: processes that synthesise training pairs in parallel (0: the training
            process makes them). Each worker draws from its own stream seeded by ``seed``,
            ``sample_seed``, the step the run (re)started at and its index: a run is
            reproducible for a given worker count, not batch for batch equal to one without.
        trunk_runtime: ``"onnx"`` runs the frozen stem + stride groups in ONNX Runtime (same
            numbers, several times faster on a CPU), ``"torch"`` in PyTorch.
        p_bi: probability that a fake is a donor blend (BI) instead of a self-blend (SBI).
        capture_prob: probability that a pair goes through the capture chain (resampling,
            noise, the face's own scale, blur, sharpening, H.264/JPEG round trips; one draw
            for the real and its fake: ``engine.synthesis.capture``). 0: JPEG only, as the
            configs before it.
        xray_target: the Face X-ray target of a self-blend with ratio r < 1: ``"mask"``
            (4 M (1 - M) of the blended M: face-wide) or ``"boundary"`` (of M scaled to peak 1:
            a band where the blended region ends); ``engine.training.datasets.PairRecipe``.
        val_capture_prob: share of the validation pairs put through the capture chain (one
            seeded draw each, the same in every stage with this value): the release then fits
            the calibration, and measures, on pairs that look like casework. 0: clean pairs.
        video_share: share of the training draws that are frames of real clips (0: each face
            as often as any other, about 14% clip frames in the face cache).
        retouch_prob: probability that a real face is retouched (a beauty filter on the face
            only, ``engine.synthesis.retouch``) before its fake is made from it: the pair shares
            the retouch, so a retouched real face is taught as real. 0: never, as before.
        part_prob: probability that a fake blends face parts only (eyes, nose, mouth:
            ``engine.synthesis.parts``), as a hand-made photo composite does. 0: never.
        decoder_prob: probability that a pair is a self-blend whose source is the face as an
            autoencoder decoded it (TAEF2; an autoencoder face swap pastes a decoder-drawn
            face), made from the faces of ``decoder_bank``. 0: never.
        decoder_bank: the folder of those decoded faces (``engine.training.decoded_faces``),
            relative to the parent of ``--out`` like ``init_from``; needed with
            ``decoder_prob``.
        sources: face-cache sources used (e.g. ``["utkface", "celeba"]``).
        max_reals: cap on real faces used from the cache (0 = all).
        val_reals: real faces from the cache's validation split (identity/clip-disjoint
            from training) used for validation and calibration (half each).
        val_every_steps: validation AUC is logged this often.
        log_every_steps: training loss is logged this often.
        checkpoint_every_s: a resumable checkpoint is written at least this often.
        snapshot_every_steps: also keep the network of every this many steps as
            ``step_<n>.pt`` next to the checkpoint (0: none), so checkpoints can be compared
            afterwards (``engine.training.bench_crops score --checkpoint``).
        map_loss_weight: weight of the boundary-map BCE (Face X-ray: 100).
        ril_weight: weight of the regional independence loss (MAT).
        ril_alpha: centre update rate of the RIL (decayed by ``ril_alpha_decay`` per epoch).
        ril_alpha_decay: per-epoch factor on ``ril_alpha``.
        ril_margin_real: RIL intra-class margin for real faces.
        ril_margin_fake: RIL intra-class margin for fake faces.
        ril_margin_inter: RIL inter-class margin between centres.
        agda_prob: probability that a MAT step trains on attention-guided augmented images.
        init_from: start from the network (and MAT's regional-independence centres) of another
            run's ``checkpoint.pt`` instead of ImageNet; a relative path is taken from the
            parent of ``--out``, i.e. a sibling run directory such as ``mat_effl0/checkpoint.pt``
            (a second, longer stage after the first config's run). ``""``: ImageNet start.
        trunk_from: after ``init_from``, replace the frozen trunk (stem + ``freeze_stages``
            stride groups) with that of another run's ``checkpoint.pt`` (same path rule). Heads
            trained on a detector's own trunk then adapt to a trunk that another detector
            fine-tuned, and the shipped graphs share that trunk bit for bit, so
            ``engine.runtime.merge`` still runs it once for all of them. ``""``: keep it.
    """

    detector: str
    method: Method
    seed: int = 0
    sample_seed: int = 0
    steps: int = 600
    time_budget_s: float = 0.0
    batch_reals: int = 16
    lr: float = 3e-4
    warmup_steps: int = 30
    weight_decay: float = 1e-6
    freeze_stages: int = 1
    threads: int = 2
    device: Literal["cpu", "cuda"] = "cpu"
    data_workers: int = 0
    trunk_runtime: Literal["torch", "onnx"] = "torch"
    p_bi: float = 0.0
    capture_prob: float = 0.0
    xray_target: Literal["mask", "boundary"] = "mask"
    video_share: float = 0.0
    retouch_prob: float = 0.0
    part_prob: float = 0.0
    decoder_prob: float = 0.0
    decoder_bank: str = ""
    val_capture_prob: float = 0.0
    sources: tuple[str, ...] = ("utkface", "celeba", "videos_real")
    max_reals: int = 0
    val_reals: int = 400
    val_every_steps: int = 200
    log_every_steps: int = 10
    checkpoint_every_s: float = 180.0
    snapshot_every_steps: int = 0
    map_loss_weight: float = 100.0
    ril_weight: float = 1.0
    ril_alpha: float = 0.05
    ril_alpha_decay: float = 0.9
    ril_margin_real: float = 0.05
    ril_margin_fake: float = 0.1
    ril_margin_inter: float = 0.2
    agda_prob: float = 0.0
    init_from: str = ""
    trunk_from: str = ""

    def __post_init__(self) -> None:
        if self.method not in ("sbi", "xray", "mat"):
            raise ValueError(f"method must be sbi, xray or mat; got {self.method!r}")
        for name in ("steps", "batch_reals", "threads", "val_reals"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        for name in ("p_bi", "agda_prob", "capture_prob", "video_share", "val_capture_prob",
                     "retouch_prob", "part_prob", "decoder_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1]")
        if self.decoder_prob > 0.0 and not self.decoder_bank:
            raise ValueError("decoder_prob needs decoder_bank (engine.training.decoded_faces)")
        if self.trunk_runtime not in ("torch", "onnx"):
            raise ValueError(f"trunk_runtime must be torch or onnx; got {self.trunk_runtime!r}")
        if self.xray_target not in ("mask", "boundary"):
            raise ValueError(f"xray_target must be mask or boundary; got {self.xray_target!r}")
        if self.device not in ("cpu", "cuda"):
            raise ValueError(f"device must be cpu or cuda; got {self.device!r}")
        if self.snapshot_every_steps < 0:
            raise ValueError("snapshot_every_steps must be >= 0")
        if self.data_workers < 0:
            raise ValueError("data_workers must be >= 0")
        if self.trunk_runtime == "onnx" and self.device != "cpu":
            raise ValueError("trunk_runtime 'onnx' runs on the CPU; use 'torch' with cuda")
        if self.trunk_runtime == "onnx" and self.freeze_stages < 1:
            raise ValueError("trunk_runtime 'onnx' needs freeze_stages >= 1 (a frozen trunk)")
        if self.val_reals < 4:
            raise ValueError("val_reals must be >= 4 (half calibrates, half measures)")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for checkpoints and model cards)."""
        return config_to_dict(self)

    def same_training(self, other: TrainConfig) -> bool:
        """Whether ``other`` trains exactly as this config does: equal in every field except
        :data:`RELEASE_ONLY` (how the finished network is validated and calibrated), so a run
        can be released with a casework calibration set it was not trained with."""
        keep = {name: getattr(self, name) for name in RELEASE_ONLY}
        return dataclasses.replace(other, **keep) == self

    def recipe(self) -> PairRecipe:
        """How this config's training pairs are made."""
        from engine.training.datasets import PairRecipe

        return PairRecipe(p_bi=self.p_bi, capture_prob=self.capture_prob,
                          xray_target=self.xray_target, video_share=self.video_share,
                          retouch_prob=self.retouch_prob, part_prob=self.part_prob,
                          decoder_prob=self.decoder_prob)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build from a dict; unknown keys raise ``ValueError`` naming them."""
        return config_from_dict(cls, data)


def load_config(path: Path) -> TrainConfig:
    """Read a TOML training config.

    Raises:
        ValueError: unknown keys or invalid values (the message names them and the file).
    """
    return load_toml_config(TrainConfig, path)
