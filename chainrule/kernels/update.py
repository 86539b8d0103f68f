"""Optimiser steps fused with the penalty gradient: one in-place pass over each parameter.

The penalty gradient is printed from :data:`chainrule.derive.penalties.PENALTIES` (``sympy.diff``
of λ/2·w² → λw and of λ|w| → λ·sign(w); Goodfellow et al., *Deep Learning*, §7.1) into a generated
module, with λ renamed to the ``l2`` and ``l1`` arguments. The update rules are structure:
SGD w ← w − η g; momentum v ← βv + g, w ← w − η v (Sutskever et al., ICML 2013, as in PyTorch);
Adam with bias correction (Kingma & Ba, ICLR 2015). g is the loss gradient plus the penalty
gradient. Each parameter is updated elementwise in a fixed order, so runs are bit-identical.
"""

from __future__ import annotations

from functools import cache
from types import ModuleType

import numpy as np
import sympy as sp

from chainrule.derive.penalties import LAMBDA, PENALTIES, W
from chainrule.kernels.cache import load_source
from chainrule.kernels.cpu.header import module_header
from chainrule.kernels.printer import print_function

L2, L1, G = sp.symbols("l2 l1 g", real=True)

_STEPS = '''
@njit(cache=True)
def sgd(p, grad, lr, l2, l1):
    # p, grad: flat (size,). w <- w - lr * (dL/dw + penalty gradient)
    for i in range(p.size):
        w = p[i]
        p[i] = w - lr * penalised(w, grad[i], l2, l1)


@njit(cache=True)
def momentum(p, grad, velocity, lr, beta, l2, l1):
    # v <- beta * v + g;  w <- w - lr * v.  p, grad, velocity: flat (size,)
    for i in range(p.size):
        w = p[i]
        v = beta * velocity[i] + penalised(w, grad[i], l2, l1)
        velocity[i] = v
        p[i] = w - lr * v


@njit(cache=True)
def adam(p, grad, m, v, lr, beta1, beta2, eps, correction1, correction2, l2, l1):
    # m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;  w <- w - lr * m_hat / (sqrt(v_hat) + eps)
    # correction1 = 1 - b1^step, correction2 = 1 - b2^step (bias correction)
    for i in range(p.size):
        w = p[i]
        g = penalised(w, grad[i], l2, l1)
        mi = beta1 * m[i] + (1.0 - beta1) * g
        vi = beta2 * v[i] + (1.0 - beta2) * g * g
        m[i] = mi
        v[i] = vi
        p[i] = w - lr * (mi / correction1) / (math.sqrt(vi / correction2) + eps)
'''


def update_source() -> str:
    """The generated update module: ``penalised(w, g, l2, l1)`` printed from derive, then steps."""
    l2_grad = PENALTIES["l2"].gradient().subs(LAMBDA, L2)
    l1_grad = PENALTIES["l1"].gradient().subs(LAMBDA, L1)
    return (module_header("Optimiser steps with the L2/L1 penalty gradient.")
            + print_function("penalised", [W, G, L2, L1], G + l2_grad + l1_grad,
                             comment=f"g + d/dw(l2/2 w^2) + d/dw(l1 |w|) = g + {l2_grad} + "
                                     f"{l1_grad}  (derive/penalties.py)")
            + "\n" + _STEPS)


@cache
def update_module() -> ModuleType:
    return load_source("update", update_source())


def _flat(array: np.ndarray, name: str) -> np.ndarray:
    if not array.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous to be updated in place")
    return array.reshape(-1)


def sgd_update(param: np.ndarray, grad: np.ndarray, *, lr: float, l2: float = 0.0,
               l1: float = 0.0) -> None:
    """w ← w − lr·(g + l2·w + l1·sign(w)), in place."""
    update_module().sgd(_flat(param, "param"), _flat(np.ascontiguousarray(grad), "grad"),
                        float(lr), float(l2), float(l1))


def momentum_update(param: np.ndarray, grad: np.ndarray, velocity: np.ndarray, *, lr: float,
                    beta: float = 0.9, l2: float = 0.0, l1: float = 0.0) -> None:
    """v ← βv + g; w ← w − lr·v, in place (g includes the penalty gradient)."""
    update_module().momentum(_flat(param, "param"), _flat(np.ascontiguousarray(grad), "grad"),
                             _flat(velocity, "velocity"), float(lr), float(beta), float(l2),
                             float(l1))


def adam_update(param: np.ndarray, grad: np.ndarray, m: np.ndarray, v: np.ndarray, *, step: int,
                lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                l2: float = 0.0, l1: float = 0.0) -> None:
    """One Adam step (``step`` counts from 1), in place on ``param``, ``m`` and ``v``."""
    if step < 1:
        raise ValueError(f"adam step counts from 1, got {step}")
    update_module().adam(_flat(param, "param"), _flat(np.ascontiguousarray(grad), "grad"),
                         _flat(m, "m"), _flat(v, "v"), float(lr), float(beta1), float(beta2),
                         float(eps), 1.0 - beta1**step, 1.0 - beta2**step, float(l2), float(l1))
