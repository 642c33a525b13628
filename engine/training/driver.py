"""The step loop every training loop shares: timing, logging cadence, checkpoint cadence.

Three training loops exist because their data differ (``engine.training.loop``: self-blended
pairs of faces; ``engine.training.loop_video_gan``: clips and GAN portraits;
``engine.training.gen_loop``: generator-trace pairs), but the loop around a step is the same:
take a step, count it and its time (``run.step``, ``run.elapsed_s``, which a resumed run carries
on from), log every few steps with the mean seconds a step of that window, do what the caller
does after a step (validation, snapshots), and write the checkpoint every few minutes. A run
killed at any moment therefore loses at most ``checkpoint_every_s`` of work, whichever loop it
was. The caller writes the final checkpoint (its own format).

Also shared: :func:`seeded` (a step's dropout and other global-RNG draws come from the run's own
generator, so a resumed run repeats the same steps) and :func:`apply_update`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

import numpy as np

__all__ = ["StepCounter", "apply_update", "drive", "seeded"]

T = TypeVar("T")


class StepCounter(Protocol):
    """What :func:`drive` counts on a run."""

    step: int
    elapsed_s: float


def drive(
    run: StepCounter,
    *,
    done: Callable[[], bool],
    step: Callable[[], Mapping[str, float]],
    log_every: int,
    on_log: Callable[[Mapping[str, float], float], None],
    checkpoint_every_s: float,
    save: Callable[[], None],
    after_step: Callable[[], None] | None = None,
    log_last: int | None = None,
) -> None:
    """Step until ``done()``.

    Args:
        run: the run; its ``step`` and ``elapsed_s`` are advanced here.
        done: whether to stop (checked before every step).
        step: one optimiser step; returns the loss parts to log.
        log_every: log every this many steps (and at step ``log_last``, if given).
        on_log: ``(parts, mean seconds a step since the last log)``.
        checkpoint_every_s: wall seconds between checkpoints.
        save: writes the checkpoint.
        after_step: called after each counted step (validation, snapshots).
        log_last: a step number that is logged whatever ``log_every`` says.
    """
    last_save = time.monotonic()
    window: list[float] = []
    while not done():
        t0 = time.perf_counter()
        parts = step()
        run.step += 1
        dt = time.perf_counter() - t0
        run.elapsed_s += dt
        window.append(dt)
        if run.step % log_every == 0 or run.step == log_last:
            on_log(parts, float(np.mean(window)))
            window.clear()
        if after_step is not None:
            after_step()
        if time.monotonic() - last_save >= checkpoint_every_s:
            save()
            last_save = time.monotonic()


def seeded(generator: Any, fn: Callable[[], T]) -> T:
    """``fn()`` with torch's global generator seeded from ``generator`` (the run's own).

    Dropout and other layers draw from the global generator; seeding it per step from the run's
    generator (whose state the checkpoint keeps) makes every step, and a resumed run,
    reproducible.
    """
    import torch

    step_seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(step_seed)
        return fn()


def apply_update(optimizer: Any, loss: Any, *, step: int, lr: float | None = None,
                 parts: Mapping[str, float] | None = None) -> None:
    """Refuse a non-finite loss, set the learning rate (``None``: a scheduler does), then
    back-propagate and take the optimiser step."""
    import torch

    if not torch.isfinite(loss):
        detail = f": {dict(parts)}" if parts else ""
        raise FloatingPointError(f"non-finite loss at step {step}{detail}")
    if lr is not None:
        for group in optimizer.param_groups:
            group["lr"] = lr
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
