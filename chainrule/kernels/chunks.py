"""Many training steps per call: the protocol between the training loop and a compiled step loop.

The loop (:mod:`chainrule.train.loop`) normally calls ``Network.train_step`` once per mini-batch,
from Python. A backend that can run a whole run of mini-batches without Python between them (the
CPU's generated epoch function, the CUDA backend's captured step replayed over device-resident
data) offers a :class:`ChunkTrainer` for a :class:`ChunkRequest` (the lowered network, its training
data and its optimiser's rules), through ``Backend.chunk_trainer`` (None: no such path, for
example with dropout; the loop then steps one batch at a time). The loop then asks it for chunks of consecutive batches of the epoch's order, and does between the
chunks what it did between the steps: progress, the NaN stop, Ctrl-C, checkpoints. A chunk's
results equal, bit for bit, those of the same batches stepped one by one, except where the CPU's
epoch holds a float32 layer's weights transposed (kernels/blocks.py ``epoch_transposes``): BLAS
may round those products differently, so they equal the steps to float32 rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from chainrule.kernels.fused_step import ParamUpdates


@dataclass(frozen=True)
class ChunkRequest:
    """Everything a chunk trainer may bind once, before the first chunk."""

    layers: Sequence[Any]  # the lowered hidden layers (kernels/lowering.py), bottom first
    output: Any  # the lowered output layer
    params: dict[str, np.ndarray]  # updated in place, as train_step does
    x: np.ndarray  # (n, *input_shape) training inputs, in the network's dtype
    t: np.ndarray  # (n, n_out) targets, encoded for the loss
    labels: np.ndarray | None  # (n,) class labels for accuracy, or None (regression)
    updates: ParamUpdates  # the optimiser's rules per parameter (kind, state slots)
    # lr_scales (K,) -> (K, 2, 8) float64: per step, the hyperparameter rows (HYPER_SLOTS of
    # kernels/update.py) for [weights, biases]; calling it advances the optimiser by K steps
    hypers: Callable[[np.ndarray], np.ndarray]
    dropout: float = 0.0
    # draws the dropout masks, as train_step's rng does (the run's generator); None: none
    rng: np.random.Generator | None = None


@dataclass(frozen=True)
class ChunkResult:
    """What a chunk of steps did. ``steps`` may be fewer than asked: the chunk stops after the
    first step whose loss is not finite (which, like ``train_step``, leaves the parameters as
    they were) or whose update wrote a value that is not finite."""

    steps: int  # batches completed, the failing one included
    loss_sum: float  # Σ over the completed batches of (mean batch loss · batch size)
    seen: int  # samples in the completed batches
    correct: int  # correct predictions among them (0 when the data have no labels)
    last_loss: float  # the mean loss of the last completed batch
    nonfinite: int  # non-finite values written by the last completed batch's update
    # (steps,) the mean loss of each completed batch, or None: the loop then adds them one by
    # one, as it does when it steps, so that its running sums do not depend on the chunks
    batch_losses: np.ndarray | None = None


class ChunkTrainer(Protocol):
    """Runs batches ``first`` .. ``last - 1`` of an epoch: batch ``i`` is the samples
    ``order[i * batch:(i + 1) * batch]``. ``lr_scales[i - first]`` is the schedule's factor for
    batch ``i`` (what the per-step loop sets as ``optimizer.lr_scale``)."""

    def train_chunk(self, order: np.ndarray, batch: int, first: int, last: int,
                    lr_scales: np.ndarray) -> ChunkResult: ...
