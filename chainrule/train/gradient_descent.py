"""Gradient descent on one weight, with the derivative taken symbolically (worked example E13).

J(w) = 1/(2m)·Σ_i (z_i − w·x_i)² is built from the ``half_mse`` loss of
:mod:`chainrule.derive.losses` (½(t − a)² with a = w·x_i, t = z_i), averaged over the m samples;
dJ/dw is ``sympy.diff`` of that expression, never typed by hand. Each iteration
w ← w − ε·dJ/dw moves along the tangent at w (Goodfellow et al., *Deep Learning*, §4.3), and the
iterates converge to the least-squares w* = Σ x_i z_i / Σ x_i² when ε is small enough
(ε < 2m / Σ x_i²).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from chainrule.derive.losses import A, T, get_loss
from chainrule.errors import ChainruleError

W_SYMBOL = sp.Symbol("w", real=True)


@dataclass(frozen=True)
class Iterate:
    step: int
    w: float
    cost: float  # J(w)
    slope: float  # dJ/dw at w: the tangent's slope


@dataclass(frozen=True)
class Descent:
    cost: sp.Expr  # J(w)
    derivative: sp.Expr  # dJ/dw, by sympy.diff
    iterates: list[Iterate]
    least_squares: float  # w* = Σ x z / Σ x²


def cost_expression(x: Sequence[float], z: Sequence[float]) -> sp.Expr:
    """J(w) = (1/m)·Σ ½(z_i − w·x_i)², with exact rational data."""
    if len(x) != len(z) or not x:
        raise ChainruleError(f"x and z need the same, non-zero length, got {len(x)} and {len(z)}")
    half_se = get_loss("half_mse").scalar
    assert half_se is not None  # half_mse has a scalar form
    terms = [half_se.subs({A: W_SYMBOL * sp.nsimplify(xi), T: sp.nsimplify(zi)})
             for xi, zi in zip(x, z, strict=True)]
    return sp.Add(*terms) / len(x)


def gradient_descent(x: Sequence[float], z: Sequence[float], *, w0: float, lr: float,
                     steps: int) -> Descent:
    """``steps`` iterations of w ← w − lr·dJ/dw from ``w0``."""
    cost = cost_expression(x, z)
    derivative = sp.expand(sp.diff(cost, W_SYMBOL))
    cost_f = sp.lambdify(W_SYMBOL, cost, "math")
    slope_f = sp.lambdify(W_SYMBOL, derivative, "math")
    w, iterates = float(w0), []
    for step in range(steps + 1):
        iterates.append(Iterate(step, w, float(cost_f(w)), float(slope_f(w))))
        w = w - lr * iterates[-1].slope
    least = float(sp.solve(derivative, W_SYMBOL)[0])
    return Descent(cost, derivative, iterates, least)
