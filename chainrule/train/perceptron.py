"""Training a ``perceptron:N`` model with the Rosenblatt rule, not with gradient descent.

The rule itself is :func:`chainrule.derive.perceptron.perceptron_trace` (Hagan et al., *Neural
Network Design*, ch. 4); this module feeds it a data set, starting from zero weights, and reports
each pass as an epoch (errors in the pass, train and test accuracy of the weights after it).
On XOR the rule never converges (Minsky & Papert, 1969): no line separates the classes.
The trace keeps every step, so epochs × samples is capped before it runs
(``CHAINRULE_MAX_PERCEPTRON_STEPS``, ``CHAINRULE_MAX_TRACE_VALUES``; see
:mod:`chainrule.train.data.limits`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from chainrule.derive.perceptron import PerceptronTrace, hardlim_value, perceptron_trace
from chainrule.derive.spec import ModelSpec
from chainrule.errors import ChainruleError
from chainrule.train.data.dataset import Dataset
from chainrule.train.data.limits import PERCEPTRON_STEPS, TRACE_VALUES, check_values
from chainrule.train.loop import EpochStats
from chainrule.train.metrics import accuracy


@dataclass
class PerceptronModel:
    """hardlim(W·x + b) with W (1, n) and b (1,), in the same ``params`` layout as a Network."""

    spec: ModelSpec
    params: dict[str, np.ndarray]
    activation: str = "hardlim"
    output_activation: str = "hardlim"
    loss: str = "perceptron"
    dtype: type = np.float64

    def forward(self, x: np.ndarray) -> np.ndarray:
        """(n, N) → (n, 1) outputs 0 or 1."""
        net = x.reshape(x.shape[0], -1) @ self.params["layer0.weight"].T + self.params["layer0.bias"]
        return np.vectorize(hardlim_value, otypes=[np.float64])(net)  # (n, 1)


@dataclass(frozen=True)
class PerceptronRun:
    model: PerceptronModel
    trace: PerceptronTrace
    history: list[EpochStats]


def new_perceptron(spec: ModelSpec) -> PerceptronModel:
    n = spec.n_inputs
    return PerceptronModel(spec, {"layer0.weight": np.zeros((1, n)), "layer0.bias": np.zeros(1)})


def train_perceptron(spec: ModelSpec, data: Dataset, *, epochs: int, lr: float) -> PerceptronRun:
    """Run the rule for up to ``epochs`` passes over the training split."""
    if data.n_classes != 2:
        raise ChainruleError(f"a perceptron separates two classes; data {data.name!r} has "
                             f"{data.n_classes or 'no'} classes")
    if data.n_features != spec.n_inputs:
        raise ChainruleError(f"data {data.name!r} has {data.n_features} inputs per sample, but "
                             f"model {spec.text!r} expects {spec.n_inputs}")
    steps = epochs * len(data.x_train)
    PERCEPTRON_STEPS.check(steps, f"the trace of --epochs {epochs} × {len(data.x_train)} samples")
    TRACE_VALUES.check(steps * spec.n_inputs, f"the trace of --epochs {epochs} × "
                       f"{len(data.x_train)} samples × {spec.n_inputs} inputs")
    check_values(data.x_train, f"data {data.name!r}")
    model = new_perceptron(spec)
    x_train = data.x_train.reshape(len(data.x_train), -1).astype(np.float64)
    started = time.perf_counter()
    trace = perceptron_trace(x_train.tolist(), data.y_train.astype(float).tolist(),
                             w=[0.0] * spec.n_inputs, b=0.0, lr=lr, epochs=epochs)
    seconds = (time.perf_counter() - started) / max(1, trace.epochs)
    history = [_epoch_stats(model, data, trace, epoch, seconds)
               for epoch in range(1, trace.epochs + 1)]
    _set_weights(model, trace.w, trace.b)
    return PerceptronRun(model, trace, history)


def _epoch_stats(model: PerceptronModel, data: Dataset, trace: PerceptronTrace, epoch: int,
                 seconds: float) -> EpochStats:
    last = [s for s in trace.steps if s.epoch == epoch][-1]
    _set_weights(model, last.w, last.b)
    errors = trace.errors_per_epoch()[epoch - 1]
    n = len(data.x_train)
    return EpochStats(epoch=epoch, loss=errors / n,
                      train_acc=accuracy(model.forward(data.x_train), data.y_train),
                      test_acc=accuracy(model.forward(data.x_test), data.y_test),
                      seconds=seconds, samples_per_s=n / max(seconds, 1e-9))


def _set_weights(model: PerceptronModel, w: list[float], b: float | None) -> None:
    model.params["layer0.weight"][0, :] = w
    model.params["layer0.bias"][0] = b or 0.0
