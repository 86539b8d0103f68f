"""Gradient descent on one weight, derived (worked example E13): the cost, its slope, its minimum.

J(w) = 1/(2m)·Σ_i (z_i − w·x_i)² is built from the ``half_mse`` loss of
:mod:`chainrule.derive.losses` (½(t − a)² with a = w·x_i, t = z_i), averaged over the m samples;
dJ/dw is ``sympy.diff`` of that expression, never typed by hand, and the least-squares
w* = Σ x_i z_i / Σ x_i² is the root of dJ/dw. :mod:`chainrule.train.gradient_descent` runs the
iterations on these expressions (Goodfellow et al., *Deep Learning*, §4.3).
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from chainrule.derive.losses import A, T, get_loss
from chainrule.errors import ChainruleError

W_SYMBOL = sp.Symbol("w", real=True)


def cost_expression(x: Sequence[float], z: Sequence[float]) -> sp.Expr:
    """J(w) = (1/m)·Σ ½(z_i − w·x_i)², with exact rational data."""
    if len(x) != len(z) or not x:
        raise ChainruleError(f"x and z need the same, non-zero length, got {len(x)} and {len(z)}")
    half_se = get_loss("half_mse").scalar
    assert half_se is not None  # half_mse has a scalar form
    terms = [half_se.subs({A: W_SYMBOL * sp.nsimplify(xi), T: sp.nsimplify(zi)})
             for xi, zi in zip(x, z, strict=True)]
    return sp.Add(*terms) / len(x)


def cost_slope(cost: sp.Expr) -> sp.Expr:
    """dJ/dw, by ``sympy.diff``, expanded."""
    return sp.expand(sp.diff(cost, W_SYMBOL))


def least_squares(slope: sp.Expr) -> sp.Expr:
    """w* with dJ/dw = 0 (exact)."""
    return sp.solve(slope, W_SYMBOL)[0]
