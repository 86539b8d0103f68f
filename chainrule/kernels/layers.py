"""Lowered layers: one layer of a model spec bound to the kernels of one backend; each one calls
kernels, none does calculus. :mod:`chainrule.kernels.lowering` builds them per (layer kind, device).

A hidden dense or conv layer runs its contraction (BLAS or direct loops) and then the generated
fused kernel (bias + activation + derivative); its backward pass is BP2 (δ = ∂L/∂a ⊙ g'(z)) fused
with BP3 (∂L/∂b), then the input gradient, then BP4 (∂L/∂W) (Nielsen, *NNDL*, ch. 2; LeCun et al.,
1998 for conv and pool). The output layer runs the generated BP1 kernel. Each reduction (BP3, BP4)
goes to a :class:`~chainrule.kernels.fused_step.ParamUpdates`, whose kernels apply the optimiser's
rule to the parameter as soon as its gradient is reduced (or store the gradient, for
``loss_and_gradients``); so the input gradient is computed first, from the weights before the step.
Parameters are read from the network's ``params`` dict on every call, so a checkpoint loader that
writes into those arrays is seen at once. Shapes: dense (batch, n); conv/pool (batch, channels, rows, cols).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import cast

import numpy as np

from chainrule.derive.spec import Conv2d, Dense, Pool2d
from chainrule.kernels.fused_step import ParamUpdates
from chainrule.kernels.registry import Backend

Params = dict[str, np.ndarray]


@dataclass(frozen=True)
class ChannelActivation:
    """The fused bias + activation + derivative pass over (batch, channels, positions)."""

    module: ModuleType  # a generated activation module of the backend

    def train(self, z3: np.ndarray, b: np.ndarray, a3: np.ndarray, d3: np.ndarray) -> None:
        """a = g(z + b), d = g'(z + b); all (batch, channels, positions)."""
        self.module.bias_act(z3, b, a3, d3)

    def infer(self, z3: np.ndarray, b: np.ndarray, a3: np.ndarray) -> None:
        """a = g(z + b) only."""
        self.module.bias_act_infer(z3, b, a3)


@dataclass(frozen=True)
class RowActivation(ChannelActivation):
    """The same pass for one position per channel (dense layers, a conv with a 1×1 output), by
    the CPU's ``bias_act_rows``, whose inner loop runs along the channels and vectorises."""

    def train(self, z3: np.ndarray, b: np.ndarray, a3: np.ndarray, d3: np.ndarray) -> None:
        shape2 = z3.shape[:2]  # (batch, channels)
        self.module.bias_act_rows(z3.reshape(shape2), b, a3.reshape(shape2), d3.reshape(shape2))


@dataclass(frozen=True)
class DenseContraction:
    """z = x Wᵀ by BLAS; ∂L/∂x = δ W and BP4 δᵀx fused with the step. x (batch, n_in) or any
    shape of that size per sample (a conv whose window covers its input: :class:`ConvAsDense`)."""

    def forward(self, layer: HiddenLayer | OutputLayer, weight: np.ndarray, x: np.ndarray,
                z: np.ndarray) -> None:
        batch = x.shape[0]
        layer.cache["xp"] = x
        layer.kernels.dense.forward(x.reshape(batch, -1), weight.reshape(weight.shape[0], -1),
                                    z.reshape(batch, -1))  # (batch, n_out)

    def grads(self, layer: HiddenLayer | OutputLayer, key: str, weight: np.ndarray,
              delta: np.ndarray, updates: ParamUpdates, need_input_grad: bool) -> np.ndarray | None:
        x = layer.cache["xp"]
        batch = delta.shape[0]
        delta2 = delta.reshape(batch, -1)  # (batch, n_out)
        dx = (layer.kernels.dense.input_grad(delta2, weight.reshape(delta2.shape[1], -1))
              .reshape(x.shape) if need_input_grad else None)
        updates.dense_weight(key, weight, delta2, x.reshape(batch, -1))
        return dx


class ConvAsDense(DenseContraction):
    """A conv layer whose window covers its whole input (LeNet-5's C5): a dense layer on the
    flattened input, z = x_flat W_flatᵀ by BLAS."""


@dataclass(frozen=True)
class ConvContraction:
    """The conv correlations of kernels/<device>/conv.py, over the zero-padded input."""

    def forward(self, layer: HiddenLayer | OutputLayer, weight: np.ndarray, x: np.ndarray,
                z: np.ndarray) -> None:
        spec = cast(Conv2d, layer.spec)  # lowering pairs this contraction with conv layers
        # z: (batch, f, Ho, Wo); kept for BP4: the patches P (batch·Ho·Wo, k·k·c) or, for direct
        # loops, the padded input (batch, c, H+2p, W+2p)
        layer.cache["kept"] = layer.kernels.conv.forward(x, weight, spec.stride, spec.padding, z)

    def grads(self, layer: HiddenLayer | OutputLayer, key: str, weight: np.ndarray,
              delta: np.ndarray, updates: ParamUpdates, need_input_grad: bool) -> np.ndarray | None:
        spec = cast(Conv2d, layer.spec)
        conv, x = layer.kernels.conv, layer.cache["x"]  # the layer's input, kept by its forward
        dx = None
        if need_input_grad:
            dx = np.empty_like(x)  # (batch, c, H, W)
            conv.input_grad(delta, weight, spec.stride, spec.padding, dx)
        # BP4 reduced into the buffer (from what the forward pass kept), then the step
        conv.weight_grad(x, delta, spec.stride, spec.padding, updates.buffer(key),
                         layer.cache.get("kept"))
        updates.reduced(key, weight)
        return dx


Contraction = DenseContraction | ConvContraction


@dataclass
class HiddenLayer:
    """A dense or conv layer with its activation (and optional inverted dropout on its output)."""

    spec: Dense | Conv2d
    prefix: str
    kernels: Backend
    activation: str
    act: ChannelActivation  # the fused bias + activation pass the lowering chose
    contraction: Contraction  # the linear part the lowering chose for this kind and shape
    dropout: float = 0.0
    cache: dict = field(default_factory=dict)

    def _linear(self, params: Params, x: np.ndarray) -> np.ndarray:
        z = np.empty((x.shape[0], *self.spec.out_shape), dtype=x.dtype)  # (batch, *out_shape)
        self.contraction.forward(self, params[f"{self.prefix}.weight"], x, z)
        return z

    def forward(self, params: Params, x: np.ndarray, *, train: bool,
                rng: np.random.Generator | None = None) -> np.ndarray:
        z = self._linear(params, x)
        z3 = z.reshape(z.shape[0], z.shape[1], -1)  # (batch, channels, positions)
        a = np.empty_like(z)
        bias = params[f"{self.prefix}.bias"]
        if not train:
            self.act.infer(z3, bias, a.reshape(z3.shape))
            return a
        d = np.empty_like(z)
        self.act.train(z3, bias, a.reshape(z3.shape), d.reshape(z3.shape))
        if rng is not None and self.dropout > 0.0:
            # inverted dropout, printed from derive/layers/dropout.py: y = μ a / p on a and the
            # backward factor μ/p on d, so BP2's δ = ∂C/∂y ⊙ (μ/p) ⊙ g'(z) comes out of the
            # same fused pass; μ_j = [u_j < p] with u_j uniform (Bernoulli(p))
            self.kernels.dropout().dropout(rng.random(a.size), 1.0 - self.dropout,
                                           a.reshape(-1), d.reshape(-1))
        self.cache.update(x=x, d=d)
        return a

    def backward(self, params: Params, grad_a: np.ndarray, updates: ParamUpdates, *,
                 need_input_grad: bool = True) -> np.ndarray | None:
        x, d = self.cache["x"], self.cache["d"]
        shape3 = (grad_a.shape[0], grad_a.shape[1], -1)  # (batch, channels, positions)
        delta = np.empty_like(d)
        key = f"{self.prefix}.bias"
        updates.delta_bias(key, params[key], np.ascontiguousarray(grad_a).reshape(shape3),
                           d.reshape(shape3), delta.reshape(shape3))  # BP2 + BP3 + step on b
        return weight_and_input_grads(self, params, x, delta, updates,
                                      need_input_grad=need_input_grad)

    def backward_through_pool(self, params: Params, pool: PoolLayer, grad_pooled: np.ndarray,
                              updates: ParamUpdates, *, need_input_grad: bool = True
                              ) -> np.ndarray | None:
        """The average pool above this conv layer and this layer's backward pass, with the pool's
        gradient spreading fused into BP2 (the spread gradient is never written out; the same
        roundings); then BP3 + the step on the bias, summed as the unfused BP2 + BP3 sums."""
        x, d = self.cache["x"], self.cache["d"]
        delta = np.empty_like(d)  # (batch, f, Ho, Wo)
        key = f"{self.prefix}.bias"
        self.kernels.pool.avg_backward_delta(np.ascontiguousarray(grad_pooled), pool.spec.size, d,
                                             delta)
        updates.bias(key, params[key], delta.reshape(delta.shape[0], delta.shape[1], -1))
        return weight_and_input_grads(self, params, x, delta, updates,
                                      need_input_grad=need_input_grad)


def weight_and_input_grads(layer: HiddenLayer | OutputLayer, params: Params, x: np.ndarray,
                           delta: np.ndarray, updates: ParamUpdates, *,
                           need_input_grad: bool) -> np.ndarray | None:
    """∂L/∂x for the layer below, if asked, from the weights before the step; then BP4 (∂L/∂W)
    with the step on W, by the layer's contraction. delta: (batch, n_out) dense, (batch, f, Ho,
    Wo) conv."""
    key = f"{layer.prefix}.weight"
    return layer.contraction.grads(layer, key, params[key], delta, updates, need_input_grad)


@dataclass
class OutputLayer:
    """The last dense layer: its output activation and loss fused with BP1."""

    spec: Dense
    prefix: str
    kernels: Backend
    activation: str  # 'softmax' or an activation name
    loss: str
    loss_scale: float  # the loss's vector-form factor (1/N for mse and bce, 1 for half_mse)
    cache: dict = field(default_factory=dict)
    contraction: DenseContraction = field(default_factory=DenseContraction)

    def _z(self, params: Params, x: np.ndarray) -> np.ndarray:
        z = np.empty((x.shape[0], self.spec.n_out), dtype=x.dtype)  # (batch, n_out)
        self.contraction.forward(self, params[f"{self.prefix}.weight"], x, z)
        return z

    def predict(self, params: Params, x: np.ndarray) -> np.ndarray:
        z, bias = self._z(params, x), params[f"{self.prefix}.bias"]
        out = np.empty_like(z)
        if self.activation == "softmax":
            self.kernels.softmax_ce().softmax(z, bias, out)
        else:
            act = self.kernels.activation(self.activation)
            act.bias_act_infer(z.reshape(*z.shape, 1), bias, out.reshape(*z.shape, 1))
        return out

    def loss_forward(self, params: Params, x: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
        z, bias = self._z(params, x), params[f"{self.prefix}.bias"]
        out, delta = np.empty_like(z), np.empty_like(z)
        if self.activation == "softmax":
            loss = self.kernels.softmax_ce().softmax_ce_layer(z, bias, t, out, delta,
                                                              1.0 / z.shape[0])
        else:
            kernel = self.kernels.output(self.activation, self.loss)
            loss = kernel.output_layer(z, bias, t, out, delta, self.loss_scale / z.shape[0])
        self.cache.update(x=x, delta=delta)
        return float(loss), out

    def backward(self, params: Params, updates: ParamUpdates, *, need_input_grad: bool = True
                 ) -> np.ndarray | None:
        x, delta = self.cache["x"], self.cache["delta"]  # delta: (batch, n_out), BP1
        key = f"{self.prefix}.bias"
        updates.bias(key, params[key], delta.reshape(*delta.shape, 1))  # BP3 + step on b
        return weight_and_input_grads(self, params, x, delta, updates,
                                      need_input_grad=need_input_grad)


@dataclass
class PoolLayer:
    """Max or average pooling: no parameters, gradient routed (max) or spread (avg)."""

    spec: Pool2d
    kernels: Backend
    cache: dict = field(default_factory=dict)

    def forward(self, params: Params, x: np.ndarray, *, train: bool,
                rng: np.random.Generator | None = None) -> np.ndarray:
        out = np.empty((x.shape[0], *self.spec.out_shape), dtype=x.dtype)
        pool, size, stride = self.kernels.pool, self.spec.size, self.spec.stride
        if self.spec.mode == "max":
            arg = np.empty(out.shape, dtype=np.int64)
            pool.max_forward(x, size, stride, out, arg)
            self.cache["arg"] = arg
        else:
            pool.avg_forward(x, size, stride, out)
        self.cache["in_shape"] = x.shape
        return out

    def backward(self, params: Params, grad_out: np.ndarray, updates: ParamUpdates, *,
                 need_input_grad: bool = True) -> np.ndarray | None:
        if not need_input_grad:
            return None
        grad_out = np.ascontiguousarray(grad_out)
        dx = np.empty(self.cache["in_shape"], dtype=grad_out.dtype)
        if self.spec.mode == "max":
            self.kernels.pool.max_backward(grad_out, self.cache["arg"], dx)
        else:
            self.kernels.pool.avg_backward(grad_out, self.spec.size, self.spec.stride, dx)
        return dx


@dataclass
class ConvAvgPool:
    """A conv layer and the non-overlapping average pool above it, lowered as one layer: forward
    is the two passes; backward spreads the pool's gradient inside the conv's BP2
    (:meth:`HiddenLayer.backward_through_pool`)."""

    conv: HiddenLayer
    pool: PoolLayer

    def forward(self, params: Params, x: np.ndarray, *, train: bool,
                rng: np.random.Generator | None = None) -> np.ndarray:
        return self.pool.forward(params, self.conv.forward(params, x, train=train, rng=rng),
                                 train=train)

    def backward(self, params: Params, grad_out: np.ndarray, updates: ParamUpdates, *,
                 need_input_grad: bool = True) -> np.ndarray | None:
        return self.conv.backward_through_pool(params, self.pool, grad_out, updates,
                                               need_input_grad=need_input_grad)


@dataclass
class FlattenLayer:
    """(batch, c, rows, cols) → (batch, c·rows·cols), row-major; the gradient is reshaped back."""

    in_shape: tuple[int, ...]

    def forward(self, params: Params, x: np.ndarray, *, train: bool,
                rng: np.random.Generator | None = None) -> np.ndarray:
        return np.ascontiguousarray(x).reshape(x.shape[0], -1)

    def backward(self, params: Params, grad_out: np.ndarray, updates: ParamUpdates, *,
                 need_input_grad: bool = True) -> np.ndarray | None:
        return grad_out.reshape(grad_out.shape[0], *self.in_shape) if need_input_grad else None


LoweredLayer = HiddenLayer | PoolLayer | FlattenLayer | ConvAvgPool
