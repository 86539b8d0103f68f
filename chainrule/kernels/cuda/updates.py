"""The device's ``ParamUpdates`` (kernels/fused_step.py): rules and optimiser state on the GPU.

The CUDA layers hand each reduction here, as the CPU layers hand theirs to ``ParamUpdates``; the
fused kernels of :mod:`chainrule.kernels.cuda.step` reduce BP3 and apply the parameter's rule
(STORE, SGD, momentum, Adam; printed like kernels/update.py) in the same launch, and reduce BP4
by the tiled GEMM (dense δᵀx) or the conv weight correlation, the rule applied in the same launch
(``step.dense_weight_step``, ``step.conv_weight_step``). Non-finite results are counted into a
device int64 (1,), read once per chunk (or once per layer on the host protocol's path). Shapes: dense weight (n_out, n_in); conv
weight (f, c_in, k, k); bias (channels,); δ (batch, channels, positions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.kernels.cuda import counters
from chainrule.kernels.fused_step import ParamUpdates
from chainrule.kernels.update import Rule

Device = Any  # a numba.cuda device array


def _step() -> Any:
    from chainrule.kernels.cuda import step
    return step


@dataclass
class DeviceRule:
    """One parameter's rule with its state and hyperparameters, all device arrays."""

    kind: Rule
    hyper: Device  # float64 (8,), HYPER_SLOTS of kernels/update.py
    first: Device  # flat (size,) velocity / m / the STORE gradient, or (0,)
    second: Device  # flat (size,) Adam's v, or (0,)

    def args(self) -> tuple[int, Device, Device, Device]:
        return int(self.kind), self.first, self.second, self.hyper


@dataclass
class DeviceUpdates:
    """The rules of one backward pass on the device, keyed like ``params``; ``scratch`` holds
    where a gradient is reduced before its rule runs; ``bad`` counts non-finite results."""

    rules: dict[str, DeviceRule]
    scratch: dict[str, Device]
    bad: Device  # int64 (1,)

    @staticmethod
    def none() -> DeviceUpdates:
        """For layers without parameters."""
        return DeviceUpdates({}, {}, None)

    def bias(self, key: str, param: Device, delta3: Device) -> None:
        """BP3 + rule. delta3 (batch, channels, positions)."""
        _step().bias_step(delta3, param, self.scratch[key], *self.rules[key].args(), self.bad)

    def delta_bias(self, key: str, param: Device, grad_a3: Device, d3: Device,
                   delta3: Device) -> None:
        """BP2 into ``delta3`` + BP3 + rule. All three (batch, channels, positions)."""
        _step().delta_bias_step(grad_a3, d3, delta3, param, self.scratch[key],
                                *self.rules[key].args(), self.bad)

    def dense_weight(self, key: str, param: Device, delta: Device, x: Device) -> None:
        """BP4 δᵀx by the tiled GEMM with the rule in its epilogue (one launch).
        param, scratch (n_out, n_in); delta (batch, n_out); x (batch, n_in)."""
        scratch = self.scratch[key].reshape(param.shape)
        _step().dense_weight_step(delta, x, param, scratch, *self.rules[key].args(), self.bad)

    def conv_weight(self, key: str, param: Device, xp: Device, delta: Device, stride: int) -> None:
        """BP4 of a conv (Σₙ correlation of xp with δ) with the rule, by the thread that reduced
        each weight (one launch). xp (batch, c, H+2p, W+2p); delta (batch, f, Ho, Wo)."""
        scratch = self.scratch[key].reshape(param.shape)
        _step().conv_weight_step(xp, delta, stride, param, scratch, *self.rules[key].args(),
                                 self.bad)

    # -- the host protocol's bridge ---------------------------------------------------------
    def write_back(self, updates: ParamUpdates, params: dict[str, np.ndarray],
                   device_params: Any) -> None:
        """Parameters (unless STORE), state slots (STORE: the gradient) and the count of
        non-finite results back into the host rules of ``updates`` and into ``params``."""
        stored = True
        for key, rule in self.rules.items():
            host = updates.rules[key]
            stored = stored and rule.kind == Rule.STORE
            for dev, array in ((rule.first, host.first), (rule.second, host.second)):
                if array.size:
                    counters.to_host(dev, array)
        if not stored:
            device_params.sync_to_host(params)
        updates.nonfinite += int(counters.to_host(self.bad)[0])


def state_or_empty(host: np.ndarray) -> Device:
    """A device copy of a state slot, or a size-0 device array for an unused one."""
    if host.size == 0:
        return counters.device_empty(0, host.dtype)
    return counters.to_device(host)


def mirror_rules(updates: ParamUpdates, keys: list[str], params: dict[str, np.ndarray],
                 hypers: dict[int, Device] | None = None) -> DeviceUpdates:
    """Device copies of the host rules for ``keys``: their state slots uploaded, their
    hyperparameter arrays uploaded once each (or taken from ``hypers``, keyed by the id of the
    host array), and a scratch array per parameter (STORE reduces straight into its buffer)."""
    hypers = {} if hypers is None else hypers
    rules, scratch = {}, {}
    for key in keys:
        host = updates.rules[key]
        if id(host.hyper) not in hypers:
            hypers[id(host.hyper)] = counters.to_device(host.hyper)
        first = (counters.device_empty(host.first.shape, host.first.dtype)  # written, not read
                 if host.kind == Rule.STORE else state_or_empty(host.first))
        second = state_or_empty(host.second)
        rules[key] = DeviceRule(host.kind, hypers[id(host.hyper)], first, second)
        shape = params[key].shape
        scratch[key] = (first.reshape(shape) if host.kind == Rule.STORE
                        else counters.device_empty(shape, params[key].dtype))
    return DeviceUpdates(rules, scratch, counters.device_zeros(1, np.int64))
