"""One backward pass's parameter updates: a rule per parameter, applied by the fused kernels.

The layers of a training step do not collect gradients for an optimiser to read afterwards. They
hand each reduction to :class:`ParamUpdates`, which runs the kernel of :mod:`.update` that reduces
the gradient and applies the parameter's :class:`StepRule` in the same task. The optimiser builds
the rules (SGD, momentum, Adam); :func:`store_updates` builds STORE rules, which write the reduced
gradients into arrays instead, so that gradient checking tests the kernels that train. Shapes:
dense weight (n_out, n_in); conv weight (f, c_in, k, k); bias (channels,); δ (batch, channels, …).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from chainrule.kernels.blocks import reduction_blocks, row_blocks, thread_blocks
from chainrule.kernels.update import Rule, hyperparameters, update_module

_UNUSED = np.zeros(0, dtype=np.float32)  # a state slot the rule does not read
_NO_HYPER = hyperparameters()


@dataclass(frozen=True)
class StepRule:
    """What happens to one parameter's reduced gradient: ``kind`` with its state slots."""

    kind: Rule
    hyper: np.ndarray  # float64 (8,), HYPER_SLOTS; the optimiser rewrites it in place each step
    first: np.ndarray  # flat (size,): velocity or m; for STORE the gradient buffer; else (0,)
    second: np.ndarray = field(default_factory=lambda: _UNUSED)  # flat: Adam's v; else (0,)

    def args(self) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        return int(self.kind), self.first, self.second, self.hyper


def flat(array: np.ndarray, name: str) -> np.ndarray:
    """A flat view of ``array``, which must be C-contiguous to be written through it."""
    if not array.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous to be updated in place, got strides "
                         f"{array.strides} for shape {array.shape}")
    return array.reshape(-1)


class ParamUpdates:
    """The rules of one backward pass, keyed like ``params``, and a count of non-finite results.

    ``buffers`` holds, per parameter, where a weight gradient is reduced before its rule runs:
    a persistent scratch array for an optimiser, the gradient array itself for STORE."""

    def __init__(self, rules: dict[str, StepRule], buffers: dict[str, np.ndarray]) -> None:
        self.rules, self.buffers = rules, buffers
        self.nonfinite = 0

    def buffer(self, key: str) -> np.ndarray:
        return self.buffers[key]

    def bias(self, key: str, param: np.ndarray, delta: np.ndarray) -> None:
        """BP3 + rule. delta (batch, channels, positions)."""
        self.nonfinite += update_module().bias_step(delta, param, self.buffers[key],
                                                    *self.rules[key].args(),
                                                    reduction_blocks(delta.size, delta.shape[1]))

    def delta_bias(self, key: str, param: np.ndarray, grad_a: np.ndarray, d: np.ndarray,
                   delta: np.ndarray) -> None:
        """BP2 into ``delta`` + BP3 + rule. All three (batch, channels, positions)."""
        self.nonfinite += update_module().delta_bias_step(grad_a, d, delta, param,
                                                          self.buffers[key], *self.rules[key].args(),
                                                          reduction_blocks(grad_a.size,
                                                                           grad_a.shape[1]))

    def dense_weight(self, key: str, param: np.ndarray, delta: np.ndarray, x: np.ndarray) -> None:
        """BP4 δᵀx + rule. param (n_out, n_in) or any shape of that size; delta (batch, n_out);
        x (batch, n_in)."""
        scratch = self.buffers[key].reshape(delta.shape[1], x.shape[1])  # (n_out, n_in)
        blocks = row_blocks(delta.shape[1], delta.shape[0], x.shape[1])
        delta_t = np.ascontiguousarray(delta).T  # (n_out, batch), read transposed in place
        self.nonfinite += update_module().rows_step(
            delta_t, np.ascontiguousarray(x), flat(param, key), scratch, *self.rules[key].args(),
            blocks)

    def conv_weight_cols(self, key: str, param: np.ndarray, cols: np.ndarray,
                         delta: np.ndarray) -> None:
        """BP4 Σₙ δₙ colsₙᵀ + rule. cols (batch, c_in·k·k, Ho·Wo); delta (batch, f, Ho·Wo)."""
        filters = param.shape[0]
        scratch = self.buffers[key].reshape(filters, -1)  # (f, c_in·k·k)
        self.nonfinite += update_module().cols_step(cols, delta, flat(param, key), scratch,
                                                    *self.rules[key].args(), thread_blocks(filters))

    def reduced(self, key: str, param: np.ndarray, grad: np.ndarray | None = None) -> None:
        """The rule on a gradient another kernel reduced into :meth:`buffer` (conv by direct
        loops), or into ``grad``."""
        flat_grad = (self.buffers[key] if grad is None else np.ascontiguousarray(grad)).reshape(-1)
        self.nonfinite += update_module().apply(flat(param, key), flat_grad,
                                                *self.rules[key].args())


def store_updates(grads: dict[str, np.ndarray]) -> ParamUpdates:
    """STORE rules: each reduced gradient is written into ``grads[key]`` (C-contiguous)."""
    rules = {key: StepRule(Rule.STORE, _NO_HYPER, flat(grad, key)) for key, grad in grads.items()}
    return ParamUpdates(rules, grads)
