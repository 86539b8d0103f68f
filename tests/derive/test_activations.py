"""The activation registry: derivatives equal sympy.diff of the elementary definitions and agree
with central finite differences; the output-form derivatives match."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from chainrule.derive.activations import ACTIVATIONS, A, Z, get_activation
from chainrule.derive.functions import elementary
from chainrule.errors import ChainruleError

POINTS = [-2.3, -0.7, 0.4, 1.9]  # away from the kinks at 0


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_derivative_is_sympy_diff_of_definition(name: str) -> None:
    act = get_activation(name)
    reference = sp.diff(elementary(act.expr), Z)
    for point in POINTS:
        ours = float(elementary(act.derivative()).subs(Z, point).evalf())
        assert ours == pytest.approx(float(reference.subs(Z, point).evalf()), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_derivative_matches_finite_differences(name: str) -> None:
    act = get_activation(name)
    g = sp.lambdify(Z, elementary(act.expr), modules="math")
    dg = sp.lambdify(Z, elementary(act.derivative()), modules="math")
    h = 1e-6
    for point in POINTS:
        numeric = (g(point + h) - g(point - h)) / (2 * h)
        assert dg(point) == pytest.approx(numeric, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize(("name", "expected"), [("sigmoid", A * (1 - A)), ("tanh", 1 - A**2),
                                                 ("linear", sp.Integer(1))])
def test_derivative_from_output_is_the_named_identity(name: str, expected: sp.Expr) -> None:
    assert sp.simplify(get_activation(name).derivative_from_output() - expected) == 0


def test_relu_convention_at_zero_is_zero() -> None:
    assert get_activation("relu").derivative().subs(Z, 0) == 0


def test_unknown_activation_names_the_choices() -> None:
    with pytest.raises(ChainruleError, match="unknown activation 'swish'.*sigmoid"):
        get_activation("swish")


def test_sigmoid_at_3_2_is_the_slide_value() -> None:
    value = float(get_activation("sigmoid").at(sp.Float(3.2)).evalf())
    assert value == pytest.approx(1 / (1 + math.exp(-3.2)))
    assert round(value, 4) == 0.9608
    assert np.isfinite(value)
