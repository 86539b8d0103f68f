"""derive_expression: the textbook numbers, sympy.diff agreement, cited rules and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from conftest import central_difference, rel_err
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.derive.functions import elementary, sigmoid
from chainrule.derive.parser import parse_expression, symbol
from chainrule.derive.rules import RULES
from chainrule.derive.steps import Argument, Shown, derive_expression
from chainrule.errors import ChainruleError


def derive(text: str, wrt: str, **values: float) -> object:
    return derive_expression(parse_expression(text), symbol(wrt), values=values or None)


def test_e1_sigmoid_forward_pass_shows_the_definition_with_numbers() -> None:
    derivation = derive("sigmoid(z)", "z", z=3.2)
    assert round(derivation.value, 4) == 0.9608
    first = derivation.steps[0]
    assert first.rule == "sigmoid"
    assert first.numeric.startswith("σ(3.2) = 1/(1 + e^(-3.2)) = 0.9608")
    assert first.chains[0] == (sigmoid(Argument(3.2)), 1 / (1 + sp.exp(-Argument(3.2))),
                               Shown(derivation.value))


@pytest.mark.parametrize(("wrt", "expected"), [("x", -4.0), ("y", -4.0), ("z", 3.0)])
def test_e6_chain_rule_on_x_plus_y_times_z(wrt: str, expected: float) -> None:
    derivation = derive("(x+y)*z", wrt, x=-2, y=5, z=-4)
    assert derivation.value == -12.0
    assert derivation.derivative_value == expected


def test_e8_cross_entropy_of_a_one_hot_target() -> None:
    text = "-(t0*log(s0)+t1*log(s1)+t2*log(s2))"
    derivation = derive(text, "s1", t0=0, t1=1, t2=0, s0=0.228, s1=0.619, s2=0.153)
    assert round(derivation.value, 4) == 0.4797
    assert derivation.result == -symbol("t1") / symbol("s1")
    assert derivation.derivative_value == pytest.approx(-1 / 0.619)


def test_e9_mse_gradient_over_n_outputs() -> None:
    derivation = derive("((t0-s0)**2 + (t1-s1)**2 + (t2-s2)**2)/3", "s1")
    t1, s1 = symbol("t1"), symbol("s1")
    assert sp.simplify(derivation.result - (-2 * (t1 - s1) / 3)) == 0


@pytest.mark.parametrize(("text", "rule", "expected"), [
    ("sigmoid(z)", "sigmoid", sigmoid(symbol("z")) * (1 - sigmoid(symbol("z")))),
    ("tanh(z)", "tanh", 1 - sp.tanh(symbol("z")) ** 2),
    ("relu(z)", "relu", sp.Heaviside(symbol("z"), 0)),
    ("softplus(z)", "softplus", sigmoid(symbol("z"))),
    ("hardlim(z)", "hardlim", sp.S.Zero),
    ("exp(z)", "exp", sp.exp(symbol("z"))),
    ("log(z)", "log", 1 / symbol("z")),
    ("sqrt(z)", "sqrt", 1 / (2 * sp.sqrt(symbol("z")))),
    ("abs(z)", "abs", sp.sign(symbol("z"))),
    ("z**3", "power", 3 * symbol("z") ** 2),
    ("sin(z)", "sin", sp.cos(symbol("z"))),
    ("cos(z)", "cos", -sp.sin(symbol("z"))),
])
def test_e14_named_identities_are_cited(text: str, rule: str, expected: sp.Expr) -> None:
    derivation = derive(text, "z")
    assert derivation.steps[0].rule == rule
    assert derivation.steps[-1].rule != "simplify" or \
        derivation.steps[-1].before != derivation.steps[-1].after  # never "x = x"
    assert sp.simplify(derivation.result - expected) == 0


@pytest.mark.parametrize(("text", "rules"), [
    ("x*sin(x)", {"product", "identity", "sin"}),
    ("x/(x+1)", {"quotient", "sum", "identity", "constant"}),
    ("sigmoid(w*x+b)", {"chain", "sigmoid", "sum", "constant_multiple", "identity", "constant"}),
    ("x**x", {"rewrite", "chain", "exp", "product", "log"}),
    ("2**x", {"exp"}),
    ("max(x, x**2)", {"chain", "identity", "power"}),
    ("min(x, 1)", {"min"}),
    ("elu(x)", {"elu"}),
    ("leaky_relu(3*x)", {"chain", "leaky_relu", "constant_multiple"}),
])
def test_each_rule_appears_where_it_applies(text: str, rules: set[str]) -> None:
    cited = {step.rule for step in derive(text, "x").steps}
    assert rules <= cited, cited
    assert cited <= set(RULES)


EXPRESSIONS = [
    "(x+y)*z", "sigmoid(w*x+b)", "tanh(x)**2 + 1/x", "exp(-x**2/2)", "log(1+exp(x))*x",
    "x**x", "sqrt(x**2+1)", "softplus(2*x)-relu(x)", "x/(1+x**2)", "sin(x)*cos(x)",
    "elu(x, 2) + leaky_relu(x, 0.1)", "max(x, 0.5*x) + min(x, 2)", "abs(x - 1)**3",
    "-(y*log(sigmoid(x)) + (1-y)*log(1-sigmoid(x)))", "2**x * 3", "exp(exp(x))",
]


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_result_equals_sympy_diff(text: str) -> None:
    expr, x = parse_expression(text), symbol("x")
    derivation = derive_expression(expr, x)
    difference = elementary(derivation.result) - elementary(sp.diff(expr, x))
    point = {s: 0.7 + 0.1 * i for i, s in enumerate(sorted(expr.free_symbols, key=str))}
    assert sp.simplify(difference) == 0 or abs(float(difference.subs(point))) < 1e-12


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_every_number_agrees_with_central_differences(text: str) -> None:
    expr, x = parse_expression(text), symbol("x")
    names = sorted(s.name for s in expr.free_symbols)
    values = {name: 0.7 + 0.1 * i for i, name in enumerate(names)}
    derivation = derive_expression(expr, x, values=values)
    others = {symbol(n): v for n, v in values.items() if n != "x"}
    f = sp.lambdify(x, elementary(expr).subs(others), "math")
    numeric = central_difference(lambda v: f(float(v[0])), np.array([values["x"]]))
    assert rel_err(numeric, [derivation.derivative_value]) < 1e-6
    assert derivation.value == pytest.approx(float(f(values["x"])))
    for step in derivation.steps:  # each step's number is d(its node)/dx at the point
        if isinstance(step.before, sp.Derivative) and step.before.variables == (x,):
            node = step.before.expr
            g = sp.lambdify(x, elementary(node).subs(others), "math")
            numeric = central_difference(lambda v, g=g: float(g(float(v[0]))),
                                         np.array([values["x"]]))
            assert rel_err(numeric, [step.value]) < 1e-6, (step.rule, node)


def test_steps_go_top_down_and_end_with_simplify_only_when_something_simplifies() -> None:
    steps = derive("sigmoid(w*x+b)", "w").steps
    assert [s.rule for s in steps[:3]] == ["chain", "sigmoid", "sum"]
    assert steps[0].before == sp.Derivative(parse_expression("sigmoid(w*x+b)"), symbol("w"))
    assert "u = b + w·x" in steps[0].text
    assert steps[-1].rule == "identity"  # x·(1 − σ)·σ is already simplest: no "x = x" step
    simplified = derive("-t*log(sigmoid(w*x+b)) - (1-t)*log(1-sigmoid(w*x+b))", "w").steps
    assert simplified[-1].rule == "simplify"
    assert simplified[-1].before != simplified[-1].after


def test_variable_not_in_expression_gives_zero_and_says_so() -> None:
    derivation = derive("y**2", "x", y=3)
    assert derivation.result == 0 and derivation.derivative_value == 0.0
    assert derivation.steps[0].rule == "constant"
    assert "does not depend on x" in derivation.steps[0].text


def test_missing_values_are_named() -> None:
    with pytest.raises(ChainruleError, match="no value for b, w"):
        derive("sigmoid(w*x+b)", "x", x=1.0)


def test_vector_value_for_a_scalar_symbol_is_refused() -> None:
    with pytest.raises(ChainruleError, match=r"x is given \[1.0, 2.0\].*expected one number"):
        derive_expression(parse_expression("x*y"), symbol("x"), values={"x": [1.0, 2.0], "y": 1.0})


def test_undefined_value_is_a_user_error() -> None:
    with pytest.raises(ChainruleError, match="not a finite real number at x=-1"):
        derive("log(x)", "x", x=-1)


def test_extra_values_are_ignored() -> None:
    assert derive("x**2", "x", x=3, unused=1).derivative_value == 6.0


def test_relu_derivative_at_zero_is_zero_by_convention() -> None:
    assert derive("relu(x)", "x", x=0).derivative_value == 0.0
    assert math.isclose(derive("leaky_relu(x)", "x", x=-1).derivative_value, 0.01)


_LEAVES = st.sampled_from(["x", "y", "2", "0.5", "3"])
_UNARY = ["exp", "sin", "cos", "tanh", "sigmoid", "softplus", "sqrt(1+({})**2)", "log(2+({})**2)",
          "relu", "abs", "elu", "leaky_relu"]


def _expressions() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        unary = st.tuples(st.sampled_from(_UNARY), inner).map(
            lambda p: p[0].format(p[1]) if "{}" in p[0] else f"{p[0]}({p[1]})")
        binary = st.tuples(inner, st.sampled_from(["+", "-", "*"]), inner).map(
            lambda p: f"({p[0]}){p[1]}({p[2]})")
        quotient = inner.map(lambda e: f"({e})/(2+({e})**2)")
        power = st.tuples(inner, st.sampled_from(["2", "3"])).map(lambda p: f"({p[0]})**{p[1]}")
        return st.one_of(unary, binary, quotient, power)

    return st.recursive(_LEAVES, extend, max_leaves=6)


@settings(max_examples=100, deadline=None)
@given(_expressions())
def test_random_expressions_agree_with_sympy_and_finite_differences(text: str) -> None:
    expr, x = parse_expression(text), symbol("x")
    derivation = derive_expression(expr, x, values={"x": 0.37, "y": -1.3})
    reference = sp.diff(expr, x).xreplace({x: sp.Float(0.37), symbol("y"): sp.Float(-1.3)})
    assert derivation.derivative_value == pytest.approx(float(sp.N(reference)), rel=1e-9, abs=1e-12)
    f = sp.lambdify(x, elementary(expr).subs(symbol("y"), -1.3), "math")
    numeric = central_difference(lambda v: float(f(float(v[0]))), np.array([0.37]))
    assert abs(numeric[0] - derivation.derivative_value) <= 1e-6 * max(1.0, abs(numeric[0]))
    assert {step.rule for step in derivation.steps} <= set(RULES)
    assert all(step.before != step.after for step in derivation.steps)


def test_text_of_piecewise_and_step() -> None:
    from chainrule.derive.printing.text import text

    assert text(derive("leaky_relu(x)", "x").result) == "{1 if x > 0; 1/100 otherwise}"
    assert text(derive("relu(x)", "x").result) == "step(x)"
    assert text(derive("abs(x)", "x").expression) == "|x|"


def test_elementary_rewrites_nested_constant_activations() -> None:
    assert elementary(parse_expression("leaky_relu(leaky_relu(3))")) == 3
    assert elementary(parse_expression("relu(relu(-2)) + x")) == symbol("x")


# ---- issue 8: the terminal steps -------------------------------------------------------------
BCE = "-t*log(sigmoid(w*x+b)) - (1-t)*log(1-sigmoid(w*x+b))"
BCE_AT = {"t": 1, "w": 0.5, "x": 2, "b": 0.1}


def _numbers(derivation: object) -> list[str]:
    from chainrule.derive.printing.text import step_numbers_text

    return [step_numbers_text(step) for step in derivation.steps]  # type: ignore[attr-defined]


def test_a_negative_number_is_never_raised_without_brackets() -> None:
    numbers = _numbers(derive("-t*log(s)", "s", t=1, s=1))
    assert numbers[0] == "d/ds (-t·log(s)) = -1·1 = -1"  # was "-1^2 = -1"
    assert not any("^" in line for line in numbers)


def test_numbers_follow_the_printed_term_order() -> None:
    derivation = derive(BCE, "w", **BCE_AT)
    sums = [s for s in derivation.steps if s.rule == "sum" and text_of(s.before).startswith("d/dw (1 - σ")]
    assert text_of(sums[0].after) == "d/dw 1 + d/dw (-σ(b + w·x))"
    assert _numbers(derivation)[derivation.steps.index(sums[0])].endswith(
        "= 0 + (-0.3747) = -0.3747")  # was "(-0.3747) + 0"
    factor = next(s for s in derivation.steps if text_of(s.after).startswith("-t·"))
    assert "= -1·0.4995 = " in _numbers(derivation)[derivation.steps.index(factor)]  # not "-0.4995·1"


def test_a_number_equal_to_its_symbolic_form_is_not_repeated() -> None:
    assert _numbers(derive("-z", "z", z=0.5))[0] == "d/dz (-z) = -1"  # was "-1 = -1"


def test_no_step_says_x_equals_x() -> None:
    for text_, wrt in (("sigmoid(z)", "z"), ("-t*log(s)", "s"), ("sigmoid(w*x+b)", "w")):
        steps = derive(text_, wrt).steps
        assert all(text_of(s.before) != text_of(s.after) for s in steps), text_
    assert [s.rule for s in derive("sigmoid(z)", "z").steps] == ["sigmoid"]  # no "(1 − σ)σ = (1 − σ)σ"


def test_a_derivative_worked_out_before_cites_its_step() -> None:
    derivation = derive(BCE, "w", **BCE_AT)
    rules = [s.rule for s in derivation.steps]
    assert len(rules) == 18  # was 23: d/dw σ(b + wx) in steps 5–10 and again in 17–22
    sigma = sp.Derivative(parse_expression("sigmoid(w*x+b)"), symbol("w"))
    first = next(i for i, s in enumerate(derivation.steps) if s.before == sigma)
    cited = [s for s in derivation.steps if s.rule == "earlier_step"]
    assert len(cited) == 1 and cited[0].before == sigma
    assert cited[0].text.startswith(f"by step {first + 1}:")
    assert cited[0].after == derivation.steps[first].after.xreplace(
        {sp.Derivative(parse_expression("w*x+b"), symbol("w")): symbol("x")})
    assert _numbers(derivation)[derivation.steps.index(cited[0])] == "d/dw (σ(b + w·x)) = 0.3747"
    assert derivation.derivative_value == pytest.approx((sigmoid_value(1.1) - 1) * 2)


def test_relu_and_abs_state_the_assumption_z_nonzero_as_their_own_step() -> None:
    for text_, rule, result in (("relu(z)", "relu", "step(z)"), ("abs(z)", "abs", "sign(z)")):
        steps = derive(text_, "z", z=0.5).steps
        assert [s.rule for s in steps] == [rule, "kink"]
        assert steps[1].text.startswith("assume z ≠ 0")
        assert text_of(steps[1].after) == result
        assert steps[1].before == steps[0].after
    leaky = derive("leaky_relu(z, 0.1)", "z", z=0.5).steps
    assert [s.rule for s in leaky] == ["leaky_relu", "kink"]
    assert text_of(leaky[0].after) == "{1 if z > 0; 0.1 if z < 0}"  # the slope α = 0.1 shown
    chained = derive("relu(w*x)", "w", w=0.5, x=-2).steps
    assert [s.rule for s in chained][:3] == ["chain", "relu", "kink"]
    assert "assume u ≠ 0" in chained[2].text


def test_trigonometric_pieces_never_reach_trigsimp(monkeypatch: pytest.MonkeyPatch) -> None:
    """sympy.simplify ran trigsimp for 66 s on d/dw of this (found by the verification matrix)."""
    from sympy.functions.elementary.hyperbolic import HyperbolicFunction
    from sympy.functions.elementary.trigonometric import TrigonometricFunction

    real = sp.simplify

    def guarded(expr: sp.Expr, *args: object, **kwargs: object) -> sp.Expr:
        assert not expr.has(TrigonometricFunction, HyperbolicFunction), expr
        return real(expr, *args, **kwargs)

    monkeypatch.setattr(sp, "simplify", guarded)
    derivation = derive("log((t - tanh(b + w*x))**4/4 + 1) + sin(x/(w**2 + 1))", "w")
    expected = sp.diff(parse_expression("log((t - tanh(b + w*x))**4/4 + 1) + sin(x/(w**2 + 1))"),
                       symbol("w"))
    point = {symbol(n): sp.Float(v) for n, v in (("t", 0.3), ("b", -0.2), ("w", 0.7), ("x", 1.1))}
    assert float(derivation.result.xreplace(point)) == pytest.approx(float(expected.xreplace(point)))


def text_of(expr: sp.Expr) -> str:
    from chainrule.derive.printing.text import text

    return text(expr)


def sigmoid_value(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def test_a_negative_argument_is_not_bracketed_twice() -> None:
    numbers = "; ".join(_numbers(derive("relu(w*x)", "w", w=0.5, x=-2)))
    assert "ReLU(-1) = " in numbers and "step(-1) = 0" in numbers
    assert "((" not in numbers  # was "ReLU((-1))", "step((-1))"


def test_a_negative_argument_is_not_bracketed_twice_in_latex() -> None:
    from chainrule.derive.printing.latex import latex

    printed = latex(derive("relu(w*x)", "w", w=0.5, x=-2))
    assert r"\operatorname{ReLU}\left(-1\right) = \max\left(0, -1\right) = 0" in printed
    assert r"\left(\left(-1\right)\right)" not in printed  # was ReLU((−1)) on the handout
