"""Losses, penalties and output deltas: SymPy results checked against finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from chainrule.derive.activations import A, Z, get_activation
from chainrule.derive.functions import elementary
from chainrule.derive.losses import T, get_loss
from chainrule.derive.output_delta import S, output_delta
from chainrule.derive.penalties import LAMBDA, PENALTIES, W
from chainrule.errors import ChainruleError


def _numeric_delta(activation: str, loss: str, z: float, t: float) -> float:
    act = get_activation(activation)
    f = sp.lambdify(Z, elementary(get_loss(loss).scalar.subs(A, act.expr).subs(T, t)), "math")
    h = 1e-6
    return (f(z + h) - f(z - h)) / (2 * h)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "linear", "elu", "softplus"])
@pytest.mark.parametrize("loss", ["mse", "half_mse", "bce"])
def test_output_delta_matches_finite_differences(activation: str, loss: str) -> None:
    delta = output_delta(activation, loss)
    act = get_activation(activation)
    for z, t in [(0.3, 1.0), (1.2, 0.0), (0.8, 0.25)]:
        if loss == "bce" and activation in {"relu", "linear", "elu", "softplus", "tanh"}:
            continue  # these outputs leave (0, 1): BCE is undefined there
        a = float(elementary(act.expr).subs(Z, z))
        value = float(elementary(delta).subs({A: a, T: t, Z: z}).evalf())
        assert value == pytest.approx(_numeric_delta(activation, loss, z, t), rel=1e-6, abs=1e-9)


def test_sigmoid_bce_and_softmax_ce_have_the_stable_closed_forms() -> None:
    assert sp.simplify(output_delta("sigmoid", "bce") - (A - T)) == 0
    assert sp.simplify(output_delta("linear", "softmax_ce") - (S - T)) == 0


def test_softmax_ce_delta_numerically() -> None:
    z = np.array([0.2, -1.0, 0.7])
    t = np.array([0.0, 1.0, 0.0])

    def loss(v: np.ndarray) -> float:
        return float(-np.sum(t * (v - np.log(np.sum(np.exp(v))))))

    s = np.exp(z) / np.exp(z).sum()
    h = 1e-6
    for k in range(3):
        step = np.eye(3)[k] * h
        numeric = (loss(z + step) - loss(z - step)) / (2 * h)
        assert float(output_delta("linear", "softmax_ce").subs({S: s[k], T: t[k]})) == \
            pytest.approx(numeric, rel=1e-6)


def test_penalty_gradients() -> None:
    assert PENALTIES["l2"].gradient() == LAMBDA * W
    assert PENALTIES["l1"].gradient() == LAMBDA * sp.sign(W)


def test_unknown_loss() -> None:
    with pytest.raises(ChainruleError, match="unknown loss 'hinge'"):
        get_loss("hinge")


@pytest.mark.parametrize("loss", ["mse", "half_mse", "bce"])
def test_the_printed_loss_note_divides_by_what_bp1_divides_by(loss: str) -> None:
    """Issue 8: the MSE note said 1/N where BP1 divides by J (derive net prints both)."""
    from chainrule.derive.layers import output_error_for_loss
    from chainrule.derive.layers.dense import J
    bp1 = output_error_for_loss("sigmoid", loss)
    divides = bp1.rhs.has(1 / J)
    assert divides == (loss != "half_mse")
    assert ("(1/J)" in bp1.note) == divides
    assert "1/N" not in bp1.note and "Σ_j" in bp1.note


_AS_SYMPY = (("−", "-"), ("½", "(1/2)*"), ("²", "**2"), (r"\tfrac12", "(1/2)*"), (r"\bigl(", "("),
             (r"\bigr)", ")"), (r"\ln", " log"), ("ln", "log"), ("^", "**"))


def _display_as_expr(formula: str) -> sp.Expr:
    """A display formula "L = …" read back as SymPy (this file's own constants, written by us; a
    fixed set of replacements, then SymPy's parser with implicit multiplication)."""
    from sympy.parsing.sympy_parser import (
        implicit_multiplication_application,
        parse_expr,
        standard_transformations,
    )

    rhs = formula.split("=", 1)[1]
    for old, new in _AS_SYMPY:
        rhs = rhs.replace(old, new)
    return parse_expr(rhs, local_dict={"a": A, "t": T, "log": sp.log},
                      transformations=(*standard_transformations,
                                       implicit_multiplication_application))


@pytest.mark.parametrize("name", ["mse", "half_mse", "bce"])
def test_display_formulas_are_the_scalar_loss(name: str) -> None:
    """The LaTeX and plain-text formulas an exercise prompt shows are the registry's L(a, t)."""
    loss = get_loss(name)
    assert loss.scalar is not None
    for formula in (loss.formula_latex, loss.formula_text):
        assert sp.simplify(_display_as_expr(formula) - loss.scalar) == 0, formula
