"""Optimiser state for the fused update kernels: SGD, momentum and Adam.

The update rules run inside the backward pass, in the kernels of :mod:`chainrule.kernels.update`,
as each gradient is reduced (with the L2/L1 penalty gradient printed from
:mod:`chainrule.derive.penalties`). This module keeps the rules' state (velocities, moments, the
step count), writes each step's hyperparameters into the arrays the kernels read
(:meth:`Optimizer.updates`), and exposes the state to checkpoints, so that a resumed run continues
exactly. Penalties apply to weights, not biases (Nielsen, *NNDL*, ch. 3). SGD and momentum follow
Goodfellow et al., *Deep Learning*, §8.3; Adam is Kingma & Ba (2015).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule.errors import ChainruleError
from chainrule.kernels.fused_step import ParamUpdates, StepRule, flat
from chainrule.kernels.update import HYPER_SLOTS, PENALTY_SLOTS, Rule
from chainrule.kernels.update import hyperparameters as hyper_array

Params = dict[str, np.ndarray]
_DEFAULTS = hyper_array()  # (8,) what a slot holds when the rule does not read it
_SLOT = {name: index for index, name in enumerate(HYPER_SLOTS)}


def penalised(name: str) -> bool:
    """Whether a parameter carries the weight penalty (weights yes, biases no)."""
    return not name.endswith("bias")


@dataclass(eq=False)  # state arrays: compared by identity
class Optimizer:
    """Plain SGD: w ← w − lr·(∂L/∂w + penalty gradient)."""

    lr: float
    l2: float = 0.0
    l1: float = 0.0
    lr_scale: float = 1.0  # set by the loop from the learning-rate schedule; not saved
    name = "sgd"
    rule = Rule.SGD
    _fused: ParamUpdates | None = field(default=None, init=False, repr=False)
    _weights_h: np.ndarray = field(default_factory=hyper_array, init=False, repr=False)
    _biases_h: np.ndarray = field(default_factory=hyper_array, init=False, repr=False)

    @property
    def current_lr(self) -> float:
        return self.lr * self.lr_scale

    def rules(self, params: Params) -> ParamUpdates:
        """The rules for ``params`` (built once, then reused: the kernels read their state slots
        and hyperparameter arrays in place), without counting a step."""
        if self._fused is None or self._fused.rules.keys() != params.keys():
            self._fused = ParamUpdates({key: self._rule(key, param) for key, param in params.items()},
                                       {key: np.empty_like(param) for key, param in params.items()})
        return self._fused

    def updates(self, params: Params) -> ParamUpdates:
        """This step's rules for the fused backward pass (counts one step: Adam's t advances)."""
        fused = self.rules(params)
        self._advance(1)
        self._weights_h[:] = self._hyperparameters(self.l2, self.l1)  # read by the kernels
        self._biases_h[:] = self._weights_h
        self._biases_h[PENALTY_SLOTS] = 0.0  # biases carry no penalty
        fused.nonfinite = 0
        return fused

    def chunk_hypers(self, lr_scales: np.ndarray) -> np.ndarray:
        """(K, 2, 8) float64: per step, the hyperparameter rows (HYPER_SLOTS) [weights, biases]
        for K consecutive steps, step k with ``lr_scale = lr_scales[k]`` (the schedule's factor).
        Counts K steps, as K calls of :meth:`updates` would (Adam's t, its bias corrections), and
        leaves ``lr_scale`` and the kernels' arrays as the last step set them. The same values as
        :meth:`_hyperparameters` per step, from :meth:`_columns` for all K at once."""
        scales = np.asarray(lr_scales, dtype=np.float64)  # (K,)
        rows = np.empty((len(scales), 2, len(_DEFAULTS)), dtype=np.float64)
        rows[...] = _DEFAULTS
        for slot, value in self._columns(self.lr * scales, self._advance(len(scales))).items():
            rows[:, :, _SLOT[slot]] = value[:, None] if isinstance(value, np.ndarray) else value
        rows[:, 0, PENALTY_SLOTS] = self.l2, self.l1  # biases carry no penalty
        if len(scales):
            self.lr_scale = float(scales[-1])
            self._weights_h[:], self._biases_h[:] = rows[-1]
        return rows

    def _advance(self, steps: int) -> range:
        """Count ``steps`` steps; returns their 1-based numbers."""
        return range(1, steps + 1)

    def _hyperparameters(self, l2: float, l1: float) -> np.ndarray:
        """This step's (8,) row for the weights (the one-step path: a few µs)."""
        return hyper_array(lr=self.current_lr, l2=l2, l1=l1)

    def _columns(self, lr: np.ndarray, steps: range) -> dict[str, np.ndarray | float]:
        """The slots this rule reads for many steps: arrays over ``steps`` or constants. ``lr``
        is ``self.lr`` times each step's factor, the product ``current_lr`` gives."""
        return {"lr": lr}

    def step(self, params: Params, grads: Params) -> None:
        """One step from gradients already reduced (``Network.loss_and_gradients``): the same
        rules, run by ``apply`` instead of inside the reductions."""
        updates = self.updates(params)
        for key, param in params.items():
            updates.reduced(key, param, grads[key])

    def _rule(self, key: str, param: np.ndarray) -> StepRule:
        hyper = self._weights_h if penalised(key) else self._biases_h
        return StepRule(self.rule, hyper, *self._slots(key, param))

    def _slots(self, key: str, param: np.ndarray) -> tuple[np.ndarray, ...]:
        """Flat views of a parameter's state arrays, in the kernels' order (first, second)."""
        return (np.zeros(0, dtype=param.dtype),)

    def hyperparameters(self) -> dict[str, float]:
        return {"lr": self.lr, "l2": self.l2, "l1": self.l1}

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Arrays to checkpoint, keyed ``slot/param``."""
        return {}

    def state_meta(self) -> dict[str, Any]:
        return {}

    def load_state(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        """Restore what :meth:`state_arrays` and :meth:`state_meta` saved, in place (the kernels
        hold views of the state arrays)."""
        for key, array in arrays.items():
            slot, _, param = key.partition("/")
            target = getattr(self, slot, None)
            if not isinstance(target, dict) or param not in target:
                raise ChainruleError(f"checkpoint optimiser state {key!r} does not fit "
                                     f"optimiser {self.name!r}")
            if target[param].shape != array.shape:
                raise ChainruleError(f"checkpoint optimiser state {key!r} has shape {array.shape},"
                                     f" expected {target[param].shape}")
            target[param][...] = array


@dataclass(eq=False)  # state arrays: compared by identity
class Momentum(Optimizer):
    """v ← β·v + g; w ← w − lr·v (heavy ball, in the form of Sutskever et al., 2013)."""

    beta: float = 0.9
    velocity: Params = field(default_factory=dict)
    name = "momentum"
    rule = Rule.MOMENTUM

    def _hyperparameters(self, l2: float, l1: float) -> np.ndarray:
        return hyper_array(lr=self.current_lr, beta1=self.beta, l2=l2, l1=l1)

    def _columns(self, lr: np.ndarray, steps: range) -> dict[str, np.ndarray | float]:
        return {"lr": lr, "beta1": self.beta}

    def _slots(self, key: str, param: np.ndarray) -> tuple[np.ndarray, ...]:
        return (flat(self.velocity.setdefault(key, np.zeros_like(param)), f"velocity/{key}"),)

    def hyperparameters(self) -> dict[str, float]:
        return {**super().hyperparameters(), "beta": self.beta}

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {f"velocity/{k}": v for k, v in self.velocity.items()}


@dataclass(eq=False)  # state arrays: compared by identity
class Adam(Optimizer):
    """Adam with bias-corrected first and second moments."""

    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    m: Params = field(default_factory=dict)
    v: Params = field(default_factory=dict)
    t: int = 0
    name = "adam"
    rule = Rule.ADAM

    def _advance(self, steps: int) -> range:
        first, self.t = self.t + 1, self.t + steps
        return range(first, self.t + 1)

    def _hyperparameters(self, l2: float, l1: float) -> np.ndarray:
        return hyper_array(lr=self.current_lr, beta1=self.beta1, beta2=self.beta2,
                           eps=self.eps, correction1=1.0 - self.beta1**self.t,
                           correction2=1.0 - self.beta2**self.t, l2=l2, l1=l1)

    def _columns(self, lr: np.ndarray, steps: range) -> dict[str, np.ndarray | float]:
        # the corrections by Python's float power, step by step, as _hyperparameters has them
        return {"lr": lr, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps,
                "correction1": np.array([1.0 - self.beta1**t for t in steps]),
                "correction2": np.array([1.0 - self.beta2**t for t in steps])}

    def _slots(self, key: str, param: np.ndarray) -> tuple[np.ndarray, ...]:
        return (flat(self.m.setdefault(key, np.zeros_like(param)), f"m/{key}"),
                flat(self.v.setdefault(key, np.zeros_like(param)), f"v/{key}"))

    def hyperparameters(self) -> dict[str, float]:
        return {**super().hyperparameters(), "beta1": self.beta1, "beta2": self.beta2,
                "eps": self.eps}

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {**{f"m/{k}": a for k, a in self.m.items()}, **{f"v/{k}": a for k, a in self.v.items()}}

    def state_meta(self) -> dict[str, Any]:
        return {"t": self.t}

    def load_state(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        super().load_state(arrays, meta)
        self.t = int(meta.get("t", 0))


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": Optimizer, "momentum": Momentum, "adam": Adam}


def make_optimizer(name: str, params: Params, *, lr: float, l2: float = 0.0, l1: float = 0.0,
                   **hyper: float) -> Optimizer:
    """An optimiser by name, with zeroed state slots shaped like ``params``."""
    if name not in OPTIMIZERS:
        raise ChainruleError(f"unknown optimizer {name!r}: expected one of {', '.join(OPTIMIZERS)}")
    for value, what in ((lr, "--lr"), (l2, "--l2"), (l1, "--l1")):
        if not np.isfinite(value) or value < 0 or (what == "--lr" and value == 0):
            raise ChainruleError(f"{what} must be a finite number ≥ 0 (lr > 0), got {value}")
    optimizer = OPTIMIZERS[name](lr=lr, l2=l2, l1=l1, **hyper)
    for slot in ("velocity", "m", "v"):
        if isinstance(getattr(optimizer, slot, None), dict):
            setattr(optimizer, slot, {k: np.zeros_like(p) for k, p in params.items()})
    return optimizer
