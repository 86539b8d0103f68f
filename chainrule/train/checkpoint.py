"""Checkpoints: one ``.npz`` (no pickles) holding the weights, the optimiser state, the current
epoch's sample order, and a JSON metadata record (spec, data, activation, loss, epoch, optimiser
name + hyperparameters + state, RNG state, seed, chainrule version).

Written atomically (temporary file + rename, :mod:`chainrule.fsutil`), loaded with
``allow_pickle=False``. Restoring the RNG state and the optimiser state exactly is what makes a
resumed run bit-identical to an uninterrupted one.

Checkpoints are shared files, so loading trusts nothing (:mod:`chainrule.train.checkpoint_schema`):
the file must be a regular file within ``CHAINRULE_MAX_CHECKPOINT_BYTES``; each member's ``.npy``
header is read through :mod:`zipfile` and its shape and dtype checked against the metadata's model
spec and optimiser *before* any array is loaded; the metadata is checked field by field (types,
allowed keys, ranges); and the weights and optimiser state must be finite. Any failure is one
:class:`~chainrule.errors.ChainruleError`.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from chainrule import __version__
from chainrule.errors import ChainruleError
from chainrule.fsutil import atomic_write_bytes
from chainrule.train.checkpoint_schema import FORMAT, read_checked
from chainrule.train.loop import EpochStats, TrainState
from chainrule.train.optim import Optimizer


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint file holds."""

    meta: dict[str, Any]
    params: dict[str, np.ndarray]
    optimizer: dict[str, np.ndarray]  # "slot/param" → array
    order: np.ndarray | None

    @property
    def model(self) -> dict[str, Any]:
        return self.meta["model"]


def save_checkpoint(path: str | Path, *, params: dict[str, np.ndarray], optimizer: Optimizer,
                    state: TrainState, meta: dict[str, Any]) -> Path:
    """Write a checkpoint atomically; ``meta`` carries ``model``, ``data``, ``seed``, ``batch``…"""
    record = {**meta, "format": FORMAT, "chainrule_version": __version__,
              "epoch": state.epoch, "position": state.position,
              "optimizer": {"name": optimizer.name, "hyperparameters": optimizer.hyperparameters(),
                            "state": optimizer.state_meta()},
              "rng": state.rng.bit_generator.state,
              "partial": {"loss_sum": state.loss_sum, "correct": state.correct,
                          "seen": state.seen, "seconds": state.seconds},
              "history": [s.as_dict() for s in state.history]}
    arrays = {"meta": np.array(json.dumps(record))}
    arrays |= {f"param/{k}": v for k, v in params.items()}
    arrays |= {f"optim/{k}": v for k, v in optimizer.state_arrays().items()}
    if state.order is not None:
        arrays["order"] = state.order
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as allow_pickle
    return atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint, or raise one clear error when the file is not a valid one."""
    meta, arrays = read_checked(Path(path))
    return Checkpoint(meta,
                      {k.removeprefix("param/"): v for k, v in arrays.items() if k.startswith("param/")},
                      {k.removeprefix("optim/"): v for k, v in arrays.items() if k.startswith("optim/")},
                      arrays.get("order"))


def restore_state(checkpoint: Checkpoint) -> TrainState:
    """The :class:`TrainState` saved in ``checkpoint`` (RNG state included)."""
    meta = checkpoint.meta
    rng = np.random.Generator(np.random.PCG64())
    rng.bit_generator.state = meta["rng"]
    partial = meta["partial"]
    return TrainState(rng=rng, epoch=int(meta["epoch"]), position=int(meta["position"]),
                      order=None if checkpoint.order is None else checkpoint.order.copy(),
                      loss_sum=float(partial["loss_sum"]), correct=int(partial["correct"]),
                      seen=int(partial["seen"]), seconds=float(partial["seconds"]),
                      history=[EpochStats(**s) for s in meta["history"]])


def load_params(params: dict[str, np.ndarray], checkpoint: Checkpoint, *, source: str) -> None:
    """Copy the checkpoint's weights into ``params`` (in place), checking names and shapes."""
    saved = checkpoint.params
    if list(saved) != list(params):
        raise ChainruleError(f"checkpoint {source!r} is from another model "
                             f"({checkpoint.model.get('spec')!r}): its parameters "
                             f"{list(saved)} do not match {list(params)}")
    for key, target in params.items():
        if saved[key].shape != target.shape:
            raise ChainruleError(f"checkpoint {source!r} is from another model: {key} has shape "
                                 f"{saved[key].shape}, expected {target.shape}")
        target[...] = saved[key]
