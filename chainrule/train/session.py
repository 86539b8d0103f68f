"""One training run, set up from a model spec, a data set and options, or resumed from a checkpoint.

This is the Python API that ``chainrule train`` and ``chainrule evaluate`` are thin shells over.
Defaults by data (documented in ``chainrule train --help``):

* regression (``line``, CSV with float targets): ``mse`` with a linear output;
* classification with one output unit (two classes, e.g. ``mlp:2-4-1 --data xor``): ``bce`` with a
  sigmoid output, i.e. logistic regression on the last hidden layer (Bishop, *PRML*, §4.3.2);
* classification with one output per class: ``softmax_ce`` (Bishop, §4.3.4);
* ``mse``/``half_mse`` on a classification set: a sigmoid output (as in the NumPy network of
  seed 001); on a regression set: linear.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from chainrule.derive.spec import ModelSpec, parse_spec
from chainrule.errors import ChainruleError
from chainrule.fsutil import check_output
from chainrule.kernels.facts import get_loss  # the registry's facts without SymPy (warm cache)
from chainrule.train.checkpoint import (
    Checkpoint,
    load_checkpoint,
    load_params,
    restore_state,
    save_checkpoint,
)
from chainrule.train.data import Dataset, fit_inputs, fit_targets, load_dataset
from chainrule.train.loop import Batches, Callbacks, TrainState, new_state, train
from chainrule.train.network import Network, build_network
from chainrule.train.optim import Optimizer, make_optimizer
from chainrule.train.schedule import check_schedule, extend_restarts


@dataclass(frozen=True)
class TrainOptions:
    epochs: int = 10
    batch: int = 32
    lr: float = 0.1
    optimizer: str = "sgd"
    schedule: str = "cosine"  # learning-rate schedule: cosine or constant
    loss: str | None = None  # None: chosen by the data (see the module docstring)
    activation: str | None = None  # None: tanh for lenet5, ReLU otherwise
    output_activation: str | None = None
    l2: float = 0.0
    l1: float = 0.0
    dropout: float = 0.0
    seed: int = 0
    limit: int | None = None
    device: str = "cpu"
    dtype: str = "float32"
    restarts: tuple[int, ...] = ()  # epochs where a new cosine cycle starts (resume past the plan)


@dataclass
class Session:
    """A network, its data fitted to it, an optimiser, and where the run stands."""

    spec: ModelSpec
    dataset: Dataset
    network: Network
    batches: Batches
    optimizer: Optimizer
    state: TrainState
    options: TrainOptions
    out: Path | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def run(self, *, epochs: int | None = None, callbacks: Callbacks | None = None) -> TrainState:
        """Train to ``epochs`` in total (default: the options' epochs), checkpointing to ``out``."""
        return train(self.network, self.batches, self.optimizer,
                     epochs=self.options.epochs if epochs is None else epochs,
                     batch=self.options.batch, state=self.state, callbacks=callbacks,
                     schedule=check_schedule(self.options.schedule),
                     schedule_epochs=self.options.epochs, restarts=self.options.restarts,
                     save=self.save if self.out is not None else None)

    def save(self, state: TrainState | None = None, path: Path | None = None) -> Path:
        target = path or self.out
        if target is None:
            raise ChainruleError("no checkpoint path given: pass --out FILE")
        return save_checkpoint(target, params=self.network.params, optimizer=self.optimizer,
                               state=state or self.state, meta=self.meta)


def default_loss(dataset: Dataset, n_out: int) -> str:
    if dataset.n_classes is None:
        return "mse"
    return "bce" if n_out == 1 else "softmax_ce"


def default_output(loss: str, dataset: Dataset) -> str | None:
    if loss in ("mse", "half_mse") and dataset.n_classes is not None:
        return "sigmoid"
    return None  # the network's default for the loss


def start(model: str, data: str, options: TrainOptions, *, out: Path | None = None) -> Session:
    """A fresh run: parse, load, build (seeded) and fit the data to the model."""
    spec = parse_spec(model)
    check_schedule(options.schedule)
    check_writable(out)
    dataset = load_dataset(data).limited(options.limit)
    loss = get_loss(options.loss).name if options.loss else default_loss(dataset, spec.n_outputs)
    network = build_network(spec, activation=options.activation, loss=loss,
                            output_activation=options.output_activation or default_output(loss, dataset),
                            dropout=options.dropout, seed=options.seed,
                            dtype=_dtype(options.dtype), device=options.device)
    optimizer = make_optimizer(options.optimizer, network.params, lr=options.lr, l2=options.l2,
                               l1=options.l1)
    return _session(spec, dataset, network, optimizer, new_state(options.seed), options, out, data)


def resume(path: Path, model: str, data: str, *, epochs: int, out: Path | None = None) -> Session:
    """Continue the run saved in ``path``; its model, data and options must be the ones given."""
    checkpoint = load_checkpoint(path)
    spec = parse_spec(model)
    saved = checkpoint.meta
    if _shape_of(parse_spec(checkpoint.model["spec"])) != _shape_of(spec):
        raise ChainruleError(f"checkpoint {str(path)!r} is from another model "
                             f"({checkpoint.model['spec']!r}), not {model!r}")
    if saved["data"]["name"] != data:
        raise ChainruleError(f"checkpoint {str(path)!r} was trained on data "
                             f"{saved['data']['name']!r}, not {data!r}")
    check_writable(out)
    options = resumed_options(saved["options"], epochs, source=str(path))
    network = network_from_checkpoint(checkpoint, source=str(path), device=options.device)
    hyper = saved["optimizer"]["hyperparameters"]
    optimizer = make_optimizer(saved["optimizer"]["name"], network.params, **hyper)
    optimizer.load_state(checkpoint.optimizer, saved["optimizer"]["state"])
    dataset = load_dataset(data).limited(options.limit)
    return _session(spec, dataset, network, optimizer, restore_state(checkpoint), options, out, data)


def resumed_options(saved: dict[str, Any], epochs: int, *, source: str) -> TrainOptions:
    """The options of a run resumed to ``epochs``: the saved ones, with the plan extended (and a
    warm restart added) when ``epochs`` goes past it, and kept when it stops short of it
    (:mod:`chainrule.train.schedule`, "Resume semantics")."""
    unknown = sorted(set(saved) - {f.name for f in fields(TrainOptions)})
    if unknown:
        raise ChainruleError(f"checkpoint {source!r} has unknown training options {unknown}: "
                             "it was not written by this version of chainrule, or was altered")
    planned, restarts = saved.get("epochs"), saved.get("restarts", [])
    if (not isinstance(planned, int) or isinstance(planned, bool) or planned < 0
            or not isinstance(restarts, list)
            or not all(isinstance(r, int) and not isinstance(r, bool) for r in restarts)):
        raise ChainruleError(f"checkpoint {source!r} has a corrupt schedule record "
                             "(options.epochs, options.restarts)")
    if saved.get("schedule", "cosine") == "constant":
        extended: tuple[int, ...] = tuple(restarts)
    else:
        extended = extend_restarts(restarts, planned, epochs)
    return TrainOptions(**{**saved, "epochs": max(epochs, planned), "restarts": extended})


def network_from_checkpoint(checkpoint: Checkpoint, *, source: str, device: str = "cpu") -> Network:
    """The network a checkpoint describes, with its saved weights."""
    model = checkpoint.model
    if model.get("loss") == "perceptron":
        from chainrule.train.perceptron import new_perceptron
        network: Any = new_perceptron(parse_spec(model["spec"]))
    else:
        network = build_network(parse_spec(model["spec"]), activation=model["activation"],
                                loss=model["loss"], output_activation=model["output_activation"],
                                dropout=model["dropout"], dtype=_dtype(model["dtype"]),
                                device=device)
    load_params(network.params, checkpoint, source=source)
    return network


def fit_batches(dataset: Dataset, spec: ModelSpec, *, dtype: np.dtype) -> Batches:
    """The data set's splits fitted to the model's input shape and output head."""
    def inputs(x: np.ndarray) -> np.ndarray:
        return fit_inputs(x, spec.input_shape, model=spec.text, data=dataset.name, dtype=dtype)

    def targets(y: np.ndarray) -> np.ndarray:
        return fit_targets(dataset, y, spec.n_outputs, model=spec.text, dtype=dtype)

    labels = dataset.n_classes is not None
    return Batches(inputs(dataset.x_train), targets(dataset.y_train),
                   dataset.y_train if labels else None, inputs(dataset.x_test),
                   targets(dataset.y_test), dataset.y_test if labels else None)


class DescribedModel(Protocol):
    """What a checkpoint records of a model: a Network or a PerceptronModel."""

    spec: ModelSpec
    activation: str
    output_activation: str
    loss: str
    dtype: Any  # np.dtype or a NumPy scalar type


def model_meta(network: DescribedModel) -> dict[str, Any]:
    return {"spec": network.spec.text, "activation": network.activation,
            "output_activation": network.output_activation, "loss": network.loss,
            "dropout": float(getattr(network, "dropout", 0.0)),
            "dtype": np.dtype(network.dtype).name}


def check_writable(out: Path | None) -> None:
    """Fail before training, not after the first epoch, when ``--out`` cannot be written (a
    missing folder, no permission, a read-only mount, a folder, a symlink or stdout at the path)."""
    if out is not None:
        check_output(out, what="checkpoint", binary=True)


def _session(spec: ModelSpec, dataset: Dataset, network: Network, optimizer: Optimizer,
             state: TrainState, options: TrainOptions, out: Path | None, data: str) -> Session:
    batches = fit_batches(dataset, spec, dtype=network.dtype)
    meta = {"model": model_meta(network), "seed": options.seed, "options": asdict(options),
            "data": {"name": data, "task": dataset.task, "n_classes": dataset.n_classes,
                     "input_shape": list(dataset.input_shape),
                     "input_norm": list(dataset.input_norm) if dataset.input_norm else None,
                     "classes": list(dataset.class_names) if dataset.class_names else None,
                     "fingerprint": dataset.fingerprint()}}
    return Session(spec, dataset, network, batches, optimizer, state, options, out, meta)


def _shape_of(spec: ModelSpec) -> tuple[Any, ...]:
    return spec.family, spec.input_shape, spec.layers


def _dtype(name: str) -> type:
    if name not in ("float32", "float64"):
        raise ChainruleError(f"dtype must be float32 or float64, got {name!r}")
    return np.float32 if name == "float32" else np.float64
