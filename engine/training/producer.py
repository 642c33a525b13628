"""Training pairs synthesised by worker processes, for a trainer faster than one CPU core.

On a GPU one optimiser step of the CPU-sized detectors takes milliseconds, while synthesising
a batch of self-blends takes a core hundreds of milliseconds: the data, not the network, sets
the pace. :class:`WorkerBatches` runs ``cfg.data_workers`` copies of the in-process
:class:`~engine.training.datasets.PairSampler`, each with its own seeded stream, through a
``torch.utils.data.DataLoader`` (batches come back in shared memory, pinned for the copy to
the GPU). The synthesis code is the same as in-process training; only who calls it changes.

Reproducibility: worker ``w`` of a run that (re)started at step ``s`` draws from
``np.random.default_rng([seed + sample_seed, s, w])``, and the loader hands batches out in
worker order, so the same config, worker count and resume points give the same batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from engine.runtime.cfg import DetectorCfg
from engine.training.datasets import Batch, PairRecipe, PairSampler, RealFaces

__all__ = ["WorkerBatches", "worker_seed"]


def worker_seed(base_seed: int, start_step: int, worker: int) -> list[int]:
    """The seed sequence of one worker's stream (see the module docstring)."""
    return [int(base_seed), int(start_step), int(worker)]


class _PairStream(IterableDataset):  # type: ignore[type-arg]
    """An endless stream of batches from one seeded :class:`PairSampler` per worker."""

    def __init__(self, faces: RealFaces, cfg: DetectorCfg, *, recipe: PairRecipe,
                 batch_reals: int, base_seed: int, start_step: int) -> None:
        self.faces = faces
        self.cfg = cfg
        self.recipe = recipe
        self.batch_reals = batch_reals
        self.base_seed = base_seed
        self.start_step = start_step

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        info = get_worker_info()
        worker = 0 if info is None else info.id
        # NOTE: one synthesis per worker process; torch threads would only fight over the cores
        # the other workers use. OpenCV's are left alone: cv2.setNumThreads in a forked child
        # of a process that used OpenCV's thread pool hangs with OpenCV 5 (seen with 5.0.0).
        torch.set_num_threads(1)
        rng = np.random.default_rng(worker_seed(self.base_seed, self.start_step, worker))
        sampler = PairSampler(self.faces, self.cfg, rng, p_bi=self.recipe.p_bi,
                              recipe=self.recipe)
        while True:
            batch = sampler.sample(self.batch_reals)
            yield {"images": torch.from_numpy(batch.images),
                   "labels": torch.from_numpy(batch.labels),
                   "xray": torch.from_numpy(batch.xray)}


class WorkerBatches:
    """Batches of real/fake pairs from ``workers`` processes; iterate with :meth:`next`.

    Args:
        faces: the training faces (shared with the workers by fork where the OS allows).
        cfg: the detector config (its preprocessing is applied in the workers).
        recipe: how pairs are made (donor-blend share, capture chain, X-ray target, clip
            frame share).
        batch_reals: real faces per batch.
        base_seed: ``seed + sample_seed`` of the training config.
        start_step: the step this run starts or resumes at.
        workers: number of worker processes (>= 1).
        pin_memory: pin batches for a faster, asynchronous copy to a GPU.
    """

    def __init__(self, faces: RealFaces, cfg: DetectorCfg, *, recipe: PairRecipe,
                 batch_reals: int, base_seed: int, start_step: int, workers: int,
                 pin_memory: bool) -> None:
        if workers < 1:
            raise ValueError("WorkerBatches needs at least one worker")
        stream = _PairStream(faces, cfg, recipe=recipe, batch_reals=batch_reals,
                             base_seed=base_seed, start_step=start_step)
        self._loader = DataLoader(stream, batch_size=None, num_workers=workers,
                                  pin_memory=pin_memory, prefetch_factor=4,
                                  persistent_workers=False)
        self._it: Iterator[dict[str, Any]] | None = None
        self.reals_drawn = 0

    def next(self) -> Batch:
        """The next batch (its arrays are views of the loader's tensors)."""
        if self._it is None:
            self._it = iter(self._loader)
        item = next(self._it)
        self.reals_drawn += int(item["labels"].shape[0]) // 2
        return Batch(images=item["images"].numpy(), labels=item["labels"].numpy(),
                     xray=item["xray"].numpy())

    def close(self) -> None:
        """Stop the workers (also done when the object is collected)."""
        self._it = None
