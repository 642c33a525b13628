"""The training loop: resumable, logged, sized for a few CPU cores or one GPU.

``run_training(cfg, train_faces, val_faces, out)`` builds the registered detector (ImageNet
encoder, frozen stem and first stride groups, optionally run in ONNX Runtime), trains it on real
faces and their synthetic twins until ``cfg.steps`` or ``cfg.time_budget_s`` runs out, logs, and
checkpoints every few minutes (``out/checkpoint.pt``; rerunning the same command resumes).
``engine.training.release`` then calibrates, measures, exports and writes the model card.

With ``device = "cuda"`` the network trains on the GPU and ``data_workers`` processes
synthesise the pairs (``engine.training.producer``); the network is moved back to the CPU when
training ends, so export and release are the same code whichever device trained it. The
checkpoint records the hardware it was trained on, so a GPU run released on a CPU machine
still names its GPU in the card.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import platform
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from engine.detectors import registry
from engine.detectors.backbones import TrunkFeatures
from engine.detectors.base import Detector
from engine.runtime.loaded import postprocess
from engine.training.augment import agda
from engine.training.config import TrainConfig
from engine.training.datasets import Batch, PairSampler, RealFaces, ValSet, make_val_set
from engine.training.driver import apply_update, drive, seeded
from engine.training.losses import RegionalIndependenceLoss, classification_loss, xray_loss
from engine.training.metrics import roc_auc
from engine.training.producer import WorkerBatches
from engine.training.trunk import OnnxTrunk

__all__ = [
    "TrainRun",
    "evaluate",
    "hardware_description",
    "imagenet_detector",
    "init_from_run",
    "learning_rate",
    "load_checkpoint",
    "progress",
    "read_checkpoint",
    "run_training",
    "save_checkpoint",
    "save_snapshot",
    "setup",
    "train_step",
    "train_steps",
    "trunk_from_run",
    "untrained_detector",
    "validation_set",
    "write_checkpoint",
]

logger = logging.getLogger(__name__)

StepFn = Callable[["TrainRun", TrainConfig, torch.Tensor, torch.Tensor, Batch],
                  tuple[torch.Tensor, dict[str, float]]]


@dataclass
class TrainRun:
    """The mutable state of one training run (everything a checkpoint holds)."""

    detector: Detector
    optimizer: torch.optim.Optimizer
    sampler: PairSampler
    generator: torch.Generator
    ril: RegionalIndependenceLoss | None
    trunk: OnnxTrunk | None = None
    step: int = 0
    elapsed_s: float = 0.0
    device: torch.device = dataclasses.field(default_factory=lambda: torch.device("cpu"))
    hardware: str = ""
    data_note: str = ""
    train_command: str = ""

    def inputs(self, images: torch.Tensor) -> torch.Tensor | TrunkFeatures:
        """What the network is fed: the images (on the training device), or the frozen trunk's
        taps computed in ONNX Runtime (same numbers, several times faster on a CPU)."""
        if self.trunk is None:
            return images.to(self.device, non_blocking=True)
        return self.trunk(images.numpy())

    def to(self, device: torch.device) -> None:
        """Move the network, its optimiser state and the MAT centres to ``device``."""
        self.detector.net.to(device)
        if self.ril is not None:
            self.ril.to(device)
        for state in self.optimizer.state.values():
            for key, value in state.items():
                if isinstance(value, torch.Tensor) and key != "step":
                    state[key] = value.to(device)
        self.device = device


def hardware_description(cfg: TrainConfig) -> str:
    """What the training ran on, for the model card (the GPU's name, or the CPU and threads)."""
    if cfg.device == "cuda":
        return (f"{torch.cuda.get_device_name()} GPU (CUDA {torch.version.cuda}), "
                f"torch {torch.__version__}, {cfg.data_workers} data workers on "
                f"{os.cpu_count()} logical CPUs")
    cpu = platform.processor() or platform.machine()
    return (f"{cpu}, {os.cpu_count()} logical CPUs shared with other jobs, "
            f"torch {torch.__version__} with {torch.get_num_threads()} threads, no GPU")


def progress(run: TrainRun, cfg: TrainConfig) -> float:
    """How far training is, in [0, 1]: steps done, or wall time used if that is further.

    The wall-time budget (``cfg.time_budget_s``) lets a run on a shared CPU end on time with a
    fully annealed learning rate; the card records how many steps it actually took.
    """
    done = run.step / cfg.steps
    if cfg.time_budget_s > 0:
        done = max(done, run.elapsed_s / cfg.time_budget_s)
    return float(min(1.0, done))


def _lr_lambda(cfg: Any) -> Callable[[int], float]:
    """Step-indexed warm-up + cosine factor for ``LambdaLR`` (kept for the video/GAN loop)."""

    def factor(step: int) -> float:
        if step < cfg.warmup_steps:
            return float((step + 1) / cfg.warmup_steps)
        done = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
        return 0.01 + 0.99 * 0.5 * (1.0 + float(np.cos(np.pi * min(1.0, done))))

    return factor


def learning_rate(run: TrainRun, cfg: TrainConfig) -> float:
    """Linear warm-up over ``warmup_steps``, then cosine from ``lr`` to 1% of it."""
    if run.step < cfg.warmup_steps:
        return cfg.lr * (run.step + 1) / cfg.warmup_steps
    return float(cfg.lr * (0.01 + 0.99 * 0.5 * (1.0 + np.cos(np.pi * progress(run, cfg)))))


DetectorFactory = Callable[[str], Detector]


def imagenet_detector(name: str) -> Detector:
    """The registered detector with its encoder initialised from ImageNet (the default)."""
    return registry.create_detector(name, pretrained_backbone=True)


def untrained_detector(name: str) -> Detector:
    """The registered detector, randomly initialised: for a run whose ``init_from`` replaces
    every weight anyway (it needs no ImageNet weight package, e.g. on a rented GPU)."""
    return registry.create_detector(name, pretrained_backbone=False)


def setup(
    cfg: TrainConfig, train_faces: RealFaces, *, factory: DetectorFactory = imagenet_detector
) -> TrainRun:
    """Build the detector (seeded new layers), optimiser and sampler.

    ``factory`` builds the detector from its name; tests inject a smaller input size.
    """
    torch.set_num_threads(cfg.threads)
    with torch.random.fork_rng():
        torch.manual_seed(cfg.seed)  # NOTE: seeds only the init of the new layers
        detector = factory(cfg.detector)
    detector.net.freeze_backbone_stages(cfg.freeze_stages)
    params = [p for p in detector.net.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    ril = None
    if cfg.method == "mat":
        n_maps, channels = _mat_shape(detector)
        ril = RegionalIndependenceLoss(
            n_maps, channels, alpha=cfg.ril_alpha, margin_real=cfg.ril_margin_real,
            margin_fake=cfg.ril_margin_fake, margin_inter=cfg.ril_margin_inter,
        )
    rng = np.random.default_rng(cfg.seed + cfg.sample_seed)
    sampler = PairSampler(train_faces, detector.cfg, rng, p_bi=cfg.p_bi, recipe=cfg.recipe())
    generator = torch.Generator().manual_seed(cfg.seed + cfg.sample_seed)
    trunk = None
    if cfg.trunk_runtime == "onnx":
        trunk = OnnxTrunk(detector.net.encoder, cfg.freeze_stages, detector.cfg.input_size,
                          threads=cfg.threads)
    return TrainRun(detector, optimizer, sampler, generator, ril, trunk)


def _mat_shape(detector: Detector) -> tuple[int, int]:
    size = detector.cfg.input_size
    with torch.inference_mode():
        parts = detector.net.eval().forward_train(torch.zeros(1, 3, size, size))["parts"]
    return int(parts.shape[1]), int(parts.shape[2])


def _step_sbi(run: TrainRun, cfg: TrainConfig, x: torch.Tensor, y: torch.Tensor,
              batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
    loss = classification_loss(run.detector.net.forward_train(run.inputs(x))["logits"], y)
    return loss, {"ce": float(loss.detach())}


def _step_xray(run: TrainRun, cfg: TrainConfig, x: torch.Tensor, y: torch.Tensor,
               batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
    out = run.detector.net.forward_train(run.inputs(x))
    xray = torch.from_numpy(batch.xray).to(run.device, non_blocking=True)
    return xray_loss(out["logits"], out["map_logits"], y, xray, map_weight=cfg.map_loss_weight)


def _step_mat(run: TrainRun, cfg: TrainConfig, x: torch.Tensor, y: torch.Tensor,
              batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
    net = run.detector.net
    used_agda = float(torch.rand(1, generator=run.generator)) < cfg.agda_prob
    if used_agda:
        net.eval()  # attention for the augmentation only: no gradient, no BN update
        with torch.no_grad():
            attention = net.forward_train(run.inputs(x))["attention"]
        net.train()
        x = agda(x.to(run.device), attention, run.generator)
    out = net.forward_train(run.inputs(x))
    ce = classification_loss(out["logits"], y)
    assert run.ril is not None
    ril = run.ril(out["parts"], y)
    return ce + cfg.ril_weight * ril, {"ce": float(ce.detach()), "ril": float(ril.detach()),
                                       "agda": float(used_agda)}


_STEPS: dict[str, StepFn] = {"sbi": _step_sbi, "xray": _step_xray, "mat": _step_mat}


def train_step(run: TrainRun, cfg: TrainConfig, batch: Batch) -> dict[str, float]:
    """One optimiser step on ``batch``; returns the loss parts."""
    run.detector.net.train()
    x = torch.from_numpy(batch.images)
    y = torch.from_numpy(batch.labels).to(run.device, non_blocking=True)
    # NOTE: dropout draws from torch's global generator; seeding it per step from the run's
    # own generator makes every step (and a resumed run) reproducible.
    loss, parts = seeded(run.generator, lambda: _STEPS[cfg.method](run, cfg, x, y, batch))
    lr = learning_rate(run, cfg)
    apply_update(run.optimizer, loss, step=run.step, lr=lr, parts=parts)
    return {"loss": float(loss.detach()), **parts, "lr": lr}


def evaluate(run: TrainRun, val: ValSet, *, batch_size: int = 64) -> npt.NDArray[Any]:
    """Raw ``p_fake`` of every validation crop (the inference preprocessing, eval mode)."""
    detector = run.detector
    net = detector.net.eval()
    out = []
    for start in range(0, len(val.crops), batch_size):
        images = torch.from_numpy(detector.preprocess(val.crops[start : start + batch_size]))
        with torch.inference_mode():
            logits, _ = net.forward_with_map(run.inputs(images))
        out.append(postprocess(logits.cpu().numpy(), None, detector.cfg, None,
                               want_maps=False).p_fake_raw)
    return np.concatenate(out)


def save_checkpoint(run: TrainRun, cfg: TrainConfig, path: Path) -> None:
    """Write everything needed to resume, atomically."""
    state: dict[str, Any] = {
        "config": cfg.to_dict(),
        "net": run.detector.net.state_dict(),
        "optimizer": run.optimizer.state_dict(),
        "sampler": _plain(run.sampler.state()),
        "generator": run.generator.get_state(),
        "ril": None if run.ril is None else {**run.ril.state_dict(), "alpha": run.ril.alpha},
        "step": run.step,
        "elapsed_s": run.elapsed_s,
        "hardware": run.hardware,
        "data_note": run.data_note,
        "train_command": run.train_command,
    }
    write_checkpoint(state, path)
    logger.info("checkpoint at step %d written to %s", run.step, path)


def save_snapshot(run: TrainRun, path: Path) -> None:
    """The network (and MAT's centres) at this step, in checkpoint form: what ``init_from``,
    ``seed_run``-style comparisons and ``bench_crops score --checkpoint`` read; not resumable."""
    state = {"net": run.detector.net.state_dict(), "step": run.step,
             "ril": None if run.ril is None else {**run.ril.state_dict(), "alpha": run.ril.alpha},
             "seeded_from": f"snapshot at step {run.step}"}
    write_checkpoint(state, path)


def write_checkpoint(state: dict[str, Any], path: Path) -> None:
    """``torch.save`` to a temporary file, then rename: an interrupted write never leaves a
    truncated checkpoint where a resume or a release would read it."""
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def _plain(value: Any) -> Any:
    """``value`` with NumPy scalars turned into Python ones, so a checkpoint written under
    one NumPy major version unpickles under another (numpy 2 renamed ``np.core``)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def load_checkpoint(run: TrainRun, cfg: TrainConfig, path: Path) -> None:
    """Resume ``run`` from ``path`` (a full checkpoint, or a finished run's copy without
    optimiser state: ``engine.training.carry``, which can be released but not trained on).

    Raises:
        ValueError: the checkpoint was written with a different configuration, or it has no
            optimiser state and the run has budget left.
    """
    state = read_checkpoint(path)
    if "seeded_from" in state:
        raise ValueError(f"{path} was seeded from {state['seeded_from']} (network only) and "
                         "cannot be resumed; start the next stage from it with init_from")
    # NOTE: compared as configs, so a field added later with its default still matches.
    if not cfg.same_training(TrainConfig.from_dict(state["config"])):
        raise ValueError(f"{path} was written with another config; use a new --out directory")
    run.detector.net.load_state_dict(state["net"])
    if "optimizer" in state:
        run.optimizer.load_state_dict(state["optimizer"])
    run.sampler.restore(state["sampler"])
    run.generator.set_state(state["generator"])
    if run.ril is not None and state["ril"] is not None:
        ril_state = dict(state["ril"])
        run.ril.alpha = float(ril_state.pop("alpha"))
        run.ril.load_state_dict(ril_state)
    run.step = int(state["step"])
    run.elapsed_s = float(state["elapsed_s"])
    run.hardware = str(state.get("hardware", ""))
    run.data_note = str(state.get("data_note", ""))
    run.train_command = str(state.get("train_command", ""))
    if "optimizer" not in state and progress(run, cfg) < 1.0:
        raise ValueError(f"{path} is a finished run's copy without optimiser state, and this "
                         "config has steps or time left: it can be released, not trained on")
    logger.info("resumed from %s at step %d (%.0f s trained)", path, run.step, run.elapsed_s)


def read_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint, unpickled with ``weights_only`` plus NumPy scalars and dtypes.

    The sampler's and the clock's state hold NumPy scalars, which ``weights_only=True`` refuses
    by default; allowing exactly those types keeps arbitrary code out of unpickling.
    """
    allowed = [_numpy_scalar_reconstructor(), np.dtype, *_numpy_dtype_classes()]
    with torch.serialization.safe_globals(allowed):
        state: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=True)
    return state


def _numpy_scalar_reconstructor() -> Any:
    """``numpy.core.multiarray.scalar`` (numpy 1), which numpy 2 moved to ``numpy._core``."""
    if int(np.__version__.split(".")[0]) >= 2:
        from numpy._core.multiarray import scalar  # type: ignore[import-not-found]
    else:
        from numpy.core.multiarray import scalar  # type: ignore[no-redef]
    return scalar


def _numpy_dtype_classes() -> list[type]:
    return [getattr(np.dtypes, n) for n in dir(np.dtypes) if n.endswith("DType")]


def init_from_run(run: TrainRun, path: Path) -> None:
    """Start from another run's network weights (and RIL centres); optimiser state is new."""
    if not path.is_file():
        raise FileNotFoundError(f"init_from: no checkpoint at {path}; run its config first")
    state = read_checkpoint(path)
    run.detector.net.load_state_dict(state["net"])
    if run.ril is not None and state.get("ril") is not None:
        ril_state = dict(state["ril"])
        ril_state.pop("alpha")  # the new run's schedule starts from its own config's alpha
        run.ril.load_state_dict(ril_state)
    logger.info("initialised from %s (step %d of that run)", path, int(state["step"]))


def trunk_from_run(run: TrainRun, cfg: TrainConfig, path: Path) -> None:
    """Replace the frozen trunk (stem + ``cfg.freeze_stages`` stride groups) by another run's.

    Raises:
        FileNotFoundError: no checkpoint at ``path``.
        ValueError: that checkpoint lacks a trunk tensor or has another shape for it.
    """
    if not path.is_file():
        raise FileNotFoundError(f"trunk_from: no checkpoint at {path}; run its config first")
    net = run.detector.net
    trunk_names = net.trunk_state_keys(cfg.freeze_stages)
    source = read_checkpoint(path)["net"]
    missing = [n for n in trunk_names if n not in source]
    if missing:
        raise ValueError(f"trunk_from: {path} has no {missing[:3]} (another encoder?)")
    own = net.state_dict()
    for name in trunk_names:
        if tuple(source[name].shape) != tuple(own[name].shape):
            raise ValueError(f"trunk_from: {name} has shape {tuple(source[name].shape)} in "
                             f"{path}, {tuple(own[name].shape)} here")
    net.load_state_dict({n: source[n] for n in trunk_names}, strict=False)
    logger.info("frozen trunk (%d tensors) taken from %s", len(trunk_names), path)


def _rebuild_onnx_trunk(run: TrainRun, cfg: TrainConfig) -> None:
    """Export the trunk again after its weights were loaded (setup exported ImageNet's)."""
    if run.trunk is not None:
        run.trunk = OnnxTrunk(run.detector.net.encoder, cfg.freeze_stages,
                              run.detector.cfg.input_size, threads=cfg.threads)


def _training_device(cfg: TrainConfig) -> torch.device:
    """The device of ``cfg``; a CUDA request without a usable GPU is an error, never a silent
    fall back to hours on the CPU."""
    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("the config asks for device 'cuda' but torch sees no CUDA GPU "
                           f"(torch {torch.__version__}); use device = 'cpu' or a GPU machine")
    return torch.device(cfg.device)


class _BatchSource:
    """Where training batches come from: the run's own sampler, or worker processes."""

    def __init__(self, run: TrainRun, cfg: TrainConfig) -> None:
        self._run = run
        self._workers: WorkerBatches | None = None
        self._reals_at_start = run.step * cfg.batch_reals
        if cfg.data_workers > 0:
            self._workers = WorkerBatches(
                run.sampler.faces, run.detector.cfg, recipe=cfg.recipe(),
                batch_reals=cfg.batch_reals,
                base_seed=cfg.seed + cfg.sample_seed, start_step=run.step,
                workers=cfg.data_workers, pin_memory=run.device.type == "cuda")

    def next(self, n_reals: int) -> Batch:
        if self._workers is None:
            return self._run.sampler.sample(n_reals)
        return self._workers.next()

    @property
    def epoch(self) -> int:
        """Passes over the training faces so far (MAT's centre-rate decay counts them)."""
        if self._workers is None:
            return self._run.sampler.epoch
        drawn = self._reals_at_start + self._workers.reals_drawn
        return drawn // len(self._run.sampler.faces)

    def close(self) -> None:
        if self._workers is not None:
            self._workers.close()


def train_steps(run: TrainRun, cfg: TrainConfig, checkpoint: Path, val: ValSet) -> None:
    """Train until :func:`progress` reaches 1, logging, validating and checkpointing.

    Training runs on ``cfg.device``; the network ends on the CPU either way.
    """
    if progress(run, cfg) >= 1.0:
        return  # NOTE: nothing to write; a finished copy stays without optimiser state
    run.to(_training_device(cfg))
    if not run.hardware:
        run.hardware = hardware_description(cfg)
    batches = _BatchSource(run, cfg)
    next_val = (run.step // cfg.val_every_steps + 1) * cfg.val_every_steps

    def step() -> dict[str, float]:
        epoch = batches.epoch
        parts = train_step(run, cfg, batches.next(cfg.batch_reals))
        if run.ril is not None and batches.epoch != epoch:
            run.ril.decay_alpha(cfg.ril_alpha_decay)
        return parts

    def on_log(parts: Mapping[str, float], s_per_step: float) -> None:
        logger.info("step %d (%.1f%%) %s %.3g s/step, %.0f s trained", run.step,
                    100 * progress(run, cfg), " ".join(f"{k} {v:.4g}" for k, v in parts.items()),
                    s_per_step, run.elapsed_s)

    def after_step() -> None:
        nonlocal next_val
        if run.step >= next_val and progress(run, cfg) < 1.0:
            next_val += cfg.val_every_steps
            auc = roc_auc(evaluate(run, val), val.labels)
            logger.info("step %d validation AUC %.4f", run.step, auc)
        if cfg.snapshot_every_steps and run.step % cfg.snapshot_every_steps == 0:
            save_snapshot(run, checkpoint.with_name(f"step_{run.step:05d}.pt"))

    try:
        drive(run, done=lambda: progress(run, cfg) >= 1.0, step=step,
              log_every=cfg.log_every_steps, on_log=on_log,
              checkpoint_every_s=cfg.checkpoint_every_s,
              save=lambda: save_checkpoint(run, cfg, checkpoint), after_step=after_step)
    finally:
        batches.close()
    run.to(torch.device("cpu"))
    save_checkpoint(run, cfg, checkpoint)


def validation_set(cfg: TrainConfig, val_faces: RealFaces) -> ValSet:
    """The fixed validation set of ``cfg`` (its own seed: the same fakes in every stage)."""
    return make_val_set(val_faces, p_bi=cfg.p_bi, seed=cfg.seed + 1,
                        capture_prob=cfg.val_capture_prob)


def run_training(
    cfg: TrainConfig,
    train_faces: RealFaces,
    val_faces: RealFaces,
    out: Path,
    *,
    factory: DetectorFactory = imagenet_detector,
    data_note: str = "",
    command: str = "",
) -> tuple[TrainRun, ValSet]:
    """Set up (or resume) and train; returns the run and the validation set.

    ``data_note`` says where the training faces came from when that is not the face cache
    (a face pack), ``command`` the command line that trains; the checkpoint keeps those of the
    run that started it, so a run trained on one machine and released on another reports both.
    """
    out.mkdir(parents=True, exist_ok=True)
    if cfg.decoder_prob > 0.0:
        from engine.training.decoded_faces import load_decoded

        decoded = load_decoded(out.parent / cfg.decoder_bank, train_faces)
        train_faces = dataclasses.replace(train_faces, decoded=decoded)
        logger.info("%d training faces have a decoded twin (%s)", len(decoded), cfg.decoder_bank)
    if factory is imagenet_detector and cfg.init_from:
        factory = untrained_detector  # NOTE: init_from overwrites every weight
    run = setup(cfg, train_faces, factory=factory)
    checkpoint = out / "checkpoint.pt"
    resumed = checkpoint.exists()
    if resumed:
        load_checkpoint(run, cfg, checkpoint)
    else:
        if cfg.init_from:
            init_from_run(run, out.parent / cfg.init_from)
        if cfg.trunk_from:
            trunk_from_run(run, cfg, out.parent / cfg.trunk_from)
    if not run.data_note:
        run.data_note = data_note
    if not run.train_command:
        run.train_command = command
    if resumed or cfg.init_from or cfg.trunk_from:
        _rebuild_onnx_trunk(run, cfg)
    val = validation_set(cfg, val_faces)
    logger.info("training %s: %d train faces, %d validation crops, %d steps of %d pairs",
                cfg.detector, len(train_faces), len(val.labels), cfg.steps, cfg.batch_reals)
    train_steps(run, cfg, checkpoint, val)
    return run, val
