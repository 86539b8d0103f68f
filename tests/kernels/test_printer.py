"""The kernel printer: printed bodies equal SymPy's values, and print exactly as expected."""

from __future__ import annotations

import math

import pytest
import sympy as sp

from chainrule.derive.activations import ACTIVATIONS, A, Z
from chainrule.kernels.printer import print_expr, print_function

POINTS = (-2.3, -0.4, 0.7, 1.9)


def _evaluate(text: str, **values: float) -> float:
    return eval(text, {"math": math}, values)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_printed_activation_matches_sympy(name: str) -> None:
    act = ACTIVATIONS[name]
    body = print_expr(act.expr)
    for z in POINTS:
        assert _evaluate(body, z=z) == pytest.approx(float(act.expr.subs(Z, z).evalf()), rel=1e-12)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_printed_derivative_from_output_matches_sympy_diff(name: str) -> None:
    act = ACTIVATIONS[name]
    body = print_expr(act.derivative().subs(act.expr, A))
    for z in POINTS:
        a = float(act.expr.subs(Z, z).evalf())
        expected = float(sp.diff(act.expr, Z).subs(Z, z).evalf())
        assert _evaluate(body, z=z, a=a) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_named_identities_print_in_terms_of_the_output() -> None:
    assert print_expr(ACTIVATIONS["sigmoid"].derivative_from_output()) == "a*(1.0 - a)"
    assert print_expr(ACTIVATIONS["tanh"].derivative_from_output()) == "1.0 - (a*a)"
    assert print_expr(ACTIVATIONS["relu"].derivative()) == "(1.0 if z > 0 else 0.0)"


def test_powers_rationals_sign_and_log() -> None:
    x = sp.Symbol("x", real=True)
    assert print_expr(x / (1 + x) ** 3) == "x/((x + 1.0)*(x + 1.0)*(x + 1.0))"
    assert print_expr(sp.Rational(1, 100) * x) == "(1.0/100.0)*x"
    assert print_expr(sp.sign(x)) == "(1.0 if x > 0 else (-1.0 if x < 0 else 0.0))"
    assert print_expr(sp.log(x)) == "math.log(max(x, 1e-300))"
    assert _evaluate(print_expr(sp.log(x)), x=0.0) == pytest.approx(math.log(1e-300))


def test_print_function_hoists_common_subexpressions() -> None:
    x = sp.Symbol("x", real=True)
    text = print_function("f", [x], sp.exp(-x) / (1 + sp.exp(-x)), decorator="", comment="test")
    assert text.count("math.exp") == 1
    namespace: dict = {"math": math}
    exec(text, namespace)  # noqa: S102 - our own printed source
    assert namespace["f"](0.3) == pytest.approx(math.exp(-0.3) / (1 + math.exp(-0.3)))


def test_softplus_prints_in_its_stable_form() -> None:
    body = print_expr(ACTIVATIONS["softplus"].expr)
    assert body == "(max(z, 0.0) + math.log1p(math.exp(-abs(z))))"
    assert _evaluate(body, z=1000.0) == 1000.0
    assert _evaluate(body, z=-1000.0) == 0.0


def test_tanh_prints_as_an_exact_identity() -> None:
    body = print_expr(sp.tanh(Z))
    assert body == "(1.0 - 2.0/(math.exp(2.0*z) + 1.0))"
    identity = 1 - 2 / (sp.exp(2 * Z) + 1)
    assert sp.simplify((identity - sp.tanh(Z)).rewrite(sp.exp)) == 0
    for z in (-20.0, -1e-3, 0.0, 0.5, 20.0):
        assert _evaluate(body, z=z) == pytest.approx(math.tanh(z), abs=1e-15)
