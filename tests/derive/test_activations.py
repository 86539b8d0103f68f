"""The activation registry: derivatives equal sympy.diff of the elementary definitions and agree
with central finite differences; the output-form derivatives match."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from chainrule.derive.activations import ACTIVATIONS, ALPHA, A, Z, get_activation
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


@pytest.mark.parametrize(("text", "name", "value"), [
    ("leaky_relu", "leaky_relu", sp.Rational(1, 100)), ("leaky_relu:0.1", "leaky_relu:0.1",
                                                         sp.Rational(1, 10)),
    ("leaky_relu:1/10", "leaky_relu:0.1", sp.Rational(1, 10)), ("leaky_relu:0.01", "leaky_relu",
                                                                 sp.Rational(1, 100)),
    ("leaky_relu:1/3", "leaky_relu:1/3", sp.Rational(1, 3)), ("leaky_relu:0", "leaky_relu:0", 0),
    ("elu", "elu", 1), ("elu:0.5", "elu:0.5", sp.Rational(1, 2)), ("elu:2.25", "elu:2.25",
                                                                  sp.Rational(9, 4)),
])
def test_parameter_is_parsed_exactly_and_named_canonically(text: str, name: str,
                                                           value: sp.Rational) -> None:
    act = get_activation(text)
    assert (act.name, act.value, act.base) == (name, value, name.partition(":")[0])
    assert get_activation(act.name) == act  # the name round-trips (checkpoints store it)
    put_in = elementary(act.symbolic.subs(act.parameter.symbol, value))
    for point in POINTS:
        assert elementary(act.expr).subs(Z, point) == put_in.subs(Z, point)


def test_leaky_relu_slope_is_the_given_value() -> None:
    act = get_activation("leaky_relu:0.1")
    g = sp.lambdify(Z, elementary(act.expr), modules="math")
    assert g(-2.0) == pytest.approx(-0.2) and g(3.0) == 3.0
    assert float(elementary(act.derivative()).subs(Z, -1)) == pytest.approx(0.1)
    assert act.note == "α = 0.1, the slope for z < 0"
    assert act.symbolic.has(ALPHA) and not act.expr.has(ALPHA)


def test_default_slope_is_stated() -> None:
    act = get_activation("leaky_relu")
    assert act.note.startswith("α = 0.01")
    assert float(elementary(act.derivative()).subs(Z, -1)) == pytest.approx(0.01)


@pytest.mark.parametrize("text", ["leaky_relu:1", "leaky_relu:1.5", "leaky_relu:-0.1",
                                  "leaky_relu:nan", "leaky_relu:inf", "leaky_relu:-inf",
                                  "leaky_relu:x", "leaky_relu:", "leaky_relu:1/0",
                                  "leaky_relu:0.1*3", "elu:-1", "elu:inf"])
def test_bad_parameter_is_one_clear_error(text: str) -> None:
    base, _, value = text.partition(":")
    with pytest.raises(ChainruleError, match=r"^" + base + r": α must be a finite number in "):
        get_activation(text)
    assert value in str(pytest.raises(ChainruleError, get_activation, text).value)


def test_activation_without_a_parameter_refuses_one() -> None:
    with pytest.raises(ChainruleError, match="activation 'sigmoid' takes no parameter"):
        get_activation("sigmoid:0.1")


def test_each_entry_names_its_init_family() -> None:
    families = {name: act.init_family for name, act in ACTIVATIONS.items()}
    assert set(families.values()) <= {"he", "xavier"}
    assert {name for name, family in families.items() if family == "he"} == {
        "relu", "leaky_relu", "elu"}
    assert get_activation("leaky_relu:0.1").init_family == "he"  # a value keeps the entry's


def test_train_init_reads_the_family_from_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from chainrule.derive import activations
    from chainrule.train.init import init_weight

    shape, fan_in, fan_out = (3, 4), 4, 3

    def drawn(activation: str) -> np.ndarray:
        return init_weight(np.random.default_rng(7), shape, fan_in=fan_in, fan_out=fan_out,
                           activation=activation)

    he = np.random.default_rng(7).standard_normal(shape) * math.sqrt(2.0 / fan_in)
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    xavier = np.random.default_rng(7).uniform(-bound, bound, size=shape)
    assert np.array_equal(drawn("elu:0.5"), he) and np.array_equal(drawn("tanh"), xavier)
    assert np.array_equal(drawn("softmax"), xavier)  # softmax_ce's output, outside the registry
    # No side table: changing the entry changes the draw.
    monkeypatch.setitem(activations.ACTIVATIONS, "tanh",
                        replace(ACTIVATIONS["tanh"], init_family="he"))
    assert np.array_equal(drawn("tanh"), he)
