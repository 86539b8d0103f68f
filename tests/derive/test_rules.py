"""The rule table: every named identity equals sympy.diff of its definition and central differences."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import central_difference, rel_err

from chainrule.derive.functions import elementary, elu, leaky_relu, relu, sigmoid, softplus
from chainrule.derive.parser import FUNCTIONS
from chainrule.derive.rules import (
    FUNCTION_RULES,
    LAMBDA,
    RULES,
    T,
    W,
    X,
    get_rule,
    softmax,
    softmax_ce_gradient,
    softmax_jacobian,
)
from chainrule.errors import ChainruleError

REQUIRED = [
    "constant", "identity", "sum", "constant_multiple", "power", "product", "quotient", "chain",
    "exp", "log", "sqrt", "abs", "sin", "cos", "max", "min", "sigmoid", "tanh", "relu",
    "leaky_relu", "elu", "softplus", "hardlim", "softmax_jacobian", "softmax_ce", "sigmoid_bce",
    "l2_penalty", "l1_penalty", "simplify",
]
IDENTITIES = [name for name, rule in RULES.items() if rule.definition is not None]
KINKS = {"max": 1, "min": 1}  # where a piecewise rule switches branch; 0 otherwise
POSITIVE_ONLY = {"log", "sqrt"}
P = sp.Symbol("p", positive=True)


def test_every_required_rule_is_in_the_table() -> None:
    assert set(REQUIRED) <= set(RULES)
    for name in REQUIRED:
        rule = get_rule(name)
        assert rule.name == name and rule.formula and rule.description


def test_unknown_rule_is_a_user_error() -> None:
    with pytest.raises(ChainruleError, match="unknown rule 'nope'"):
        get_rule("nope")


def test_identities_cover_the_activations_and_penalties() -> None:
    assert {"sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "hardlim", "exp", "log",
            "sqrt", "abs", "sin", "cos", "max", "min", "power", "sigmoid_bce", "l2_penalty",
            "l1_penalty"} <= set(IDENTITIES)


def _difference(name: str) -> sp.Expr:
    rule = RULES[name]
    return elementary(rule.derivative) - sp.diff(rule.definition, rule.variable)


@pytest.mark.parametrize("name", IDENTITIES)
def test_identity_equals_sympy_diff_of_its_definition(name: str) -> None:
    difference = _difference(name)
    kink = KINKS.get(name, 0)
    variable = RULES[name].variable
    if sp.simplify(difference) == 0:
        return
    # Piecewise rules: prove each branch (x = kink ± p, p > 0); the kink itself is a convention.
    sides = (kink + P,) if name in POSITIVE_ONLY else (kink + P, kink - P)
    for side in sides:
        assert sp.simplify(difference.subs(variable, side)) == 0, (name, side)


@pytest.mark.parametrize("name", IDENTITIES)
def test_identity_agrees_with_central_differences(name: str) -> None:
    rule = RULES[name]
    extra = {T: 0.3, LAMBDA: 0.7}
    definition = sp.lambdify(rule.variable, rule.definition.subs(extra), "numpy")
    identity = sp.lambdify(rule.variable, elementary(rule.derivative).subs(extra), "numpy")
    rng = np.random.default_rng(sum(map(ord, name)))
    kink = KINKS.get(name, 0)
    for _ in range(5):
        point = rng.uniform(0.2, 3.0) * (1 if name in POSITIVE_ONLY else rng.choice([-1, 1]))
        point += kink
        numeric = central_difference(lambda v: float(definition(v[0])), np.array([point]))
        assert rel_err(numeric, [float(identity(point))]) < 1e-6, (name, point)


@pytest.mark.parametrize("function", [sigmoid, relu, leaky_relu, elu, softplus, sp.tanh])
def test_named_functions_differentiate_by_the_table(function: type) -> None:
    name = {sp.tanh: "tanh"}.get(function, function.__name__)
    assert sp.diff(function(X), X) == RULES[name].derivative


def test_every_parser_function_has_a_rule() -> None:
    for name, (function, _) in FUNCTIONS.items():
        if function is sp.sqrt:
            continue  # sqrt(x) is x**(1/2): the power node cites the "sqrt" rule
        assert FUNCTION_RULES[function] in RULES, name


def test_l2_and_l1_penalty_gradients() -> None:
    assert RULES["l2_penalty"].derivative == LAMBDA * W
    assert sp.diff(RULES["l1_penalty"].definition, W).rewrite(sp.sign) == LAMBDA * sp.sign(W)


@pytest.mark.parametrize("classes", [3, 4])
def test_softmax_jacobian_is_diag_s_minus_s_s_transpose(classes: int) -> None:
    z = sp.symbols(f"z0:{classes}", real=True)
    s = softmax(z)
    jacobian = sp.Matrix(s).jacobian(z)  # (classes, classes)
    assert sp.simplify(jacobian - softmax_jacobian(s)) == sp.zeros(classes, classes)
    point = np.random.default_rng(classes).normal(size=classes)
    numeric_s = sp.lambdify([z], s, "numpy")
    numeric = np.array([central_difference(lambda v, i=i: float(numeric_s(v)[i]), point)
                        for i in range(classes)])  # row i = ∂s_i/∂z, (classes, classes)
    soft = [float(v) for v in numeric_s(point)]
    identity = np.array(softmax_jacobian(soft).tolist(), dtype=float)
    assert rel_err(numeric, identity) < 1e-6


@pytest.mark.parametrize("classes", [3, 4])
def test_softmax_cross_entropy_gradient_is_s_minus_t(classes: int) -> None:
    z = sp.symbols(f"z0:{classes}", real=True)
    t = sp.symbols(f"t0:{classes}", real=True)
    s = softmax(z)
    loss = -sum(ti * sp.log(si) for ti, si in zip(t, s, strict=True))
    gradient = sp.Matrix([sp.diff(loss, zk) for zk in z])
    one_hot_sum = {t[-1]: 1 - sum(t[:-1])}  # Σ t_i = 1
    difference = (gradient - softmax_ce_gradient(s, t)).subs(one_hot_sum)
    assert sp.simplify(difference) == sp.zeros(classes, 1)
    rng = np.random.default_rng(classes)
    point, target = rng.normal(size=classes), rng.dirichlet(np.ones(classes))
    numeric_loss = sp.lambdify([z, t], loss, "numpy")
    numeric = central_difference(lambda v: float(numeric_loss(v, target)), point)
    soft = np.exp(point) / np.exp(point).sum()
    assert rel_err(numeric, soft - target) < 1e-6
