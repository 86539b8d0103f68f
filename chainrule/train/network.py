"""A network built from a model spec, whose forward and backward passes are the generated kernels.

``build_network(parse_spec("mlp:4-5-3"))`` gives a :class:`Network` with insertion-ordered
``params`` ("layer0.weight", "layer0.bias", …; dense weight (n_out, n_in), conv weight
(out, in, k, k)), ``forward`` for inference, ``train_step`` for one fused training step and
``loss_and_gradients`` for the gradients alone, both by backprop (BP1–BP4, Nielsen, *NNDL*,
ch. 2). Hidden layers use ``activation`` (ReLU by default, tanh for LeNet-5 as in LeCun et al.,
1998); the output activation follows the loss: softmax for
softmax_ce, sigmoid for bce, linear for mse and half_mse. The losses are batch means of the
vector forms in derive/losses.py, e.g. mse = mean over the batch of (1/n_out)·Σ (t − a)².
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from chainrule.derive.spec import Layer, ModelSpec
from chainrule.errors import ChainruleError
from chainrule.kernels.chunks import ChunkRequest
from chainrule.kernels.facts import get_activation, get_loss, trainable_losses  # no SymPy if warm
from chainrule.kernels.fused_step import ParamUpdates, store_updates
from chainrule.kernels.layers import LoweredLayer, OutputLayer
from chainrule.kernels.lowering import Choices, lower_model
from chainrule.train.init import init_weight

if TYPE_CHECKING:
    from chainrule.train.optim import Optimizer

@dataclass
class Network:
    """A model spec with parameters, run by the kernels of one backend."""

    spec: ModelSpec
    activation: str
    output_activation: str
    loss: str
    dtype: np.dtype
    params: dict[str, np.ndarray]
    dropout: float = 0.0
    device: str = "cpu"
    layers: list[LoweredLayer] = field(default_factory=list, repr=False)  # kernels/lowering.py
    output_layer: OutputLayer | None = field(default=None, repr=False)

    @property
    def output(self) -> OutputLayer:
        """The output layer (BP1); set by :func:`build_network`."""
        if self.output_layer is None:
            raise ChainruleError("this network has no output layer: build it with build_network")
        return self.output_layer

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Predictions (batch, n_out) in inference mode (no dropout); softmax probabilities for
        softmax_ce."""
        h = self._as_batch(x)
        for layer in self.layers:
            h = layer.forward(self.params, h, train=False)
        return self.output.predict(self.params, h)

    def loss_and_gradients(self, x: np.ndarray, y: np.ndarray, *,
                           rng: np.random.Generator | None = None
                           ) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
        """Mean loss over the batch (no penalty), gradients (same keys and shapes as ``params``)
        and predictions. ``rng`` draws the dropout masks; ``None`` means no dropout. The
        gradients come from the kernels that train, with the STORE rule."""
        loss, predictions = self._forward_loss(x, y, rng)
        grads = {name: np.empty_like(value) for name, value in self.params.items()}
        self._backward(store_updates(grads))
        return loss, grads, predictions

    def train_step(self, x: np.ndarray, y: np.ndarray, optimizer: Optimizer, *,
                   rng: np.random.Generator | None = None) -> tuple[float, np.ndarray, int]:
        """One fused training step: forward, loss, then the backward pass, in which each
        parameter takes the optimiser's step as soon as its gradient is reduced. Returns the
        mean loss (no penalty), the predictions and how many updated values are not finite.
        A loss that is not finite skips the backward pass and leaves the parameters as they were."""
        loss, predictions = self._forward_loss(x, y, rng)
        if not math.isfinite(loss):
            return loss, predictions, 0
        updates = optimizer.updates(self.params)
        self._backward(updates)
        return loss, predictions, updates.nonfinite

    def _forward_loss(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator | None
                      ) -> tuple[float, np.ndarray]:
        h = self._as_batch(x)
        targets = self._as_targets(y, h.shape[0])
        for layer in self.layers:
            h = layer.forward(self.params, h, train=True, rng=rng)
        return self.output.loss_forward(self.params, h, targets)

    def _backward(self, updates: ParamUpdates) -> None:
        """BP1 down to the first layer; every reduction goes through ``updates``."""
        grad = self.output.backward(self.params, updates, need_input_grad=bool(self.layers))
        for index in range(len(self.layers) - 1, -1, -1):
            assert grad is not None  # every layer above the first returns its input gradient
            grad = self.layers[index].backward(self.params, grad, updates,
                                               need_input_grad=index > 0)

    def loss_value(self, x: np.ndarray, y: np.ndarray) -> float:
        """The mean loss alone, without dropout and without a backward pass (what gradient
        checking differentiates, and what evaluation reports)."""
        return self._forward_loss(x, y, None)[0]

    def loss_and_predictions(self, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """:meth:`loss_value` and the predictions of the same forward pass (one pass, not two,
        for an epoch's test split)."""
        return self._forward_loss(x, y, None)

    def chunk_request(self, x: np.ndarray, t: np.ndarray, labels: np.ndarray | None,
                      optimizer: Optimizer, *, rng: np.random.Generator | None = None
                      ) -> ChunkRequest:
        """What a backend's chunk trainer (kernels/chunks.py) binds once per run: the lowered
        layers, the parameters, the training split (n, *input_shape) and targets (n, n_out) in
        the network's dtype (no copy when they already are), the optimiser's rules and
        per-step hyperparameters (:meth:`Optimizer.chunk_hypers`), and ``rng`` for the dropout
        masks, as :meth:`train_step` takes it."""
        return ChunkRequest(self.layers, self.output, self.params, self._as_batch(x),
                            self._as_targets(t, x.shape[0]), labels, optimizer.rules(self.params),
                            optimizer.chunk_hypers, self.dropout, rng)

    def _as_batch(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        shape = self.spec.input_shape
        if x.ndim == len(shape):
            x = x[None]
        if x.shape[1:] != shape:
            if x.ndim == 2 and x.shape[1] == self.spec.n_inputs:
                x = x.reshape(x.shape[0], *shape)
            else:
                raise ChainruleError(f"input of shape {x.shape} does not fit model "
                                     f"{self.spec.text!r}: expected (batch, {', '.join(map(str, shape))})")
        return np.ascontiguousarray(x, dtype=self.dtype)

    def _as_targets(self, y: np.ndarray, batch: int) -> np.ndarray:
        y = np.asarray(y)
        n_out = self.spec.n_outputs
        if self.loss == "softmax_ce" and y.ndim == 1 and np.issubdtype(y.dtype, np.integer):
            y = np.eye(n_out, dtype=self.dtype)[y]  # class labels → one-hot
        if y.ndim == 1 and n_out == 1:
            y = y[:, None]
        if y.shape != (batch, n_out):
            raise ChainruleError(f"targets of shape {y.shape} do not fit: expected ({batch}, {n_out})"
                                 + (" or class labels" if self.loss == "softmax_ce" else ""))
        return np.ascontiguousarray(y, dtype=self.dtype)


def resolve_choices(spec: ModelSpec, activation: str | None, loss: str,
                    output_activation: str | None) -> tuple[str, str, str]:
    """(hidden activation, output activation, loss) with the defaults filled in and checked:
    tanh for lenet5 and ReLU otherwise; the output activation that fits the loss."""
    activation = get_activation(activation or ("tanh" if spec.family == "lenet5" else "relu")).name
    loss = _checked_loss(loss)
    return activation, _checked_output(output_activation or _default_output(loss), loss), loss


def build_network(spec: ModelSpec, *, activation: str | None = None, loss: str = "softmax_ce",
                  output_activation: str | None = None, dropout: float = 0.0, seed: int = 0,
                  dtype: type = np.float32, device: str = "cpu") -> Network:
    """A seeded network for ``spec``. ``activation`` None means tanh for lenet5, ReLU otherwise."""
    activation, output_activation, loss = resolve_choices(spec, activation, loss,
                                                          output_activation)
    if not 0.0 <= dropout < 1.0:
        raise ChainruleError(f"dropout must be in [0, 1), got {dropout}")
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise ChainruleError(f"dtype must be float32 or float64, got {np.dtype(dtype)}")
    if not spec.layers or spec.layers[-1].kind != "dense":
        raise ChainruleError(f"model {spec.text!r} must end with a dense layer to be trained")
    net = Network(spec, activation, output_activation, loss, np.dtype(dtype), {}, dropout, device)
    rng = np.random.default_rng(seed)
    last = len(spec.layers) - 1
    for index, layer in enumerate(spec.layers):
        act = output_activation if index == last else activation
        _add_params(net.params, f"layer{index}", layer, rng, act, net.dtype)
    choices = Choices(activation, output_activation, loss,
                      get_loss(loss).unit_factor(spec.n_outputs), dropout)
    net.layers, net.output_layer = lower_model(spec, device, choices)
    return net


def _add_params(params: dict[str, np.ndarray], prefix: str, layer: Layer,
                rng: np.random.Generator, activation: str, dtype: np.dtype) -> None:
    """The layer's parameters, as its kind declares them (derive/spec.py): weights drawn for
    the activation's init family with the kind's fans, biases zero."""
    fan_in, fan_out = layer.fans
    for name, shape in layer.param_shapes.items():
        value = (init_weight(rng, shape, fan_in=fan_in, fan_out=fan_out, activation=activation)
                 if name == "weight" else np.zeros(shape))
        params[f"{prefix}.{name}"] = np.ascontiguousarray(value, dtype=dtype)


def _checked_loss(loss: str) -> str:
    loss_def = get_loss(loss)
    if not loss_def.trainable:
        raise ChainruleError(f"loss {loss!r} cannot train a network: expected one of: "
                             f"{', '.join(trainable_losses())}")
    return loss_def.name


def _default_output(loss: str) -> str:
    output = get_loss(loss).default_output
    assert output is not None  # _checked_loss let only trainable losses through
    return output


def _checked_output(output_activation: str, loss: str) -> str:
    if (output_activation == "softmax") != (loss == "softmax_ce"):
        raise ChainruleError(f"output activation {output_activation!r} does not fit loss {loss!r}: "
                             "softmax goes with softmax_ce and only with it")
    return output_activation if output_activation == "softmax" else \
        get_activation(output_activation).name

