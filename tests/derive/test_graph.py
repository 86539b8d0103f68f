"""The staged computation graph: CS231n's worked examples (E6, E7), SymPy and finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from conftest import central_difference

from chainrule.derive.graph import MAX_PATHS, ComputationGraph, build_graph
from chainrule.derive.parser import parse_expression, symbol
from chainrule.derive.printing.latex import latex
from chainrule.derive.rules import RULES
from chainrule.errors import ChainruleError

E7 = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
E7_VALUES = {"w": [2.0, -3.0, -3.0], "x": [-1.0, -2.0]}


def graph_of(text: str, values: dict, **kwargs: object) -> ComputationGraph:
    return build_graph(parse_expression(text), values, **kwargs)


def test_e6_stages_values_and_gradients() -> None:
    graph = graph_of("(x+y)*z", {"x": -2, "y": 5, "z": -4})
    assert [(n.name, n.op) for n in graph.stages] == [("q", "add"), ("f", "mul")]
    assert graph.node("q").expr == symbol("x") + symbol("y")
    assert graph.node("f").expr == symbol("q") * symbol("z")
    assert graph.output == "f"
    values = {n.name: n.value for n in graph.nodes}
    grads = {n.name: n.grad for n in graph.nodes}
    assert values == {"z": -4.0, "x": -2.0, "y": 5.0, "q": 3.0, "f": -12.0}
    assert grads == {"z": 3.0, "x": -4.0, "y": -4.0, "q": -4.0, "f": 1.0}


def test_e7_is_staged_as_in_cs231n() -> None:
    graph = graph_of(E7, E7_VALUES)
    stages = [(n.name, n.op, str(n.expr)) for n in graph.stages]
    assert stages == [
        ("q", "mul", "w0*x0"), ("p", "mul", "w1*x1"), ("s", "add", "p + q"),
        ("t", "add", "s + w2"), ("r", "neg", "-t"), ("u", "exp", "exp(r)"),
        ("v", "add_const", "u + 1"), ("z", "reciprocal", "1/v"),
    ]


def test_e7_numbers() -> None:
    graph = graph_of(E7, E7_VALUES)
    assert graph.output == "z"
    assert graph.output_value == pytest.approx(0.7311, abs=5e-5)
    assert graph.node("v").grad == pytest.approx(-0.5344, abs=5e-5)
    assert [graph.node(f"w{i}").grad for i in range(3)] == pytest.approx(
        [-0.1966, -0.3932, 0.1966], abs=5e-5)
    assert [graph.node(f"x{i}").grad for i in range(2)] == pytest.approx(
        [0.3932, -0.5898], abs=5e-5)


def test_e7_chain_is_the_product_of_local_derivatives() -> None:
    graph = graph_of(E7, E7_VALUES)
    (path,) = graph.chains("w0")
    assert [(f.child, f.parent) for f in path] == [
        ("z", "v"), ("v", "u"), ("u", "r"), ("r", "t"), ("t", "s"), ("s", "q"), ("q", "w0")]
    assert [f.value for f in path] == pytest.approx(
        [-0.5344, 1, math.exp(-1), -1, 1, 1, -1], abs=5e-5)
    assert math.prod(f.value for f in path) == pytest.approx(graph.node("w0").grad)


def test_local_derivatives_are_sympy_diff_and_cite_known_rules() -> None:
    graph = graph_of(E7, E7_VALUES)
    for node in graph.stages:
        for edge in node.edges:
            assert edge.local == sp.diff(node.expr, symbol(edge.parent))
            assert edge.rule in RULES, edge.rule
    assert graph.node("z").edges[0].local == -1 / symbol("v") ** 2
    assert graph.node("z").edges[0].rule == "power"
    assert graph.node("u").edges[0].rule == "exp"
    assert graph.node("q").edges[0].rule == "product"


def test_sigmoid_stays_one_node_or_expands_to_the_same_gradients() -> None:
    kept = graph_of("sigmoid(w0*x0+w1*x1+w2)", E7_VALUES)
    expanded = graph_of("sigmoid(w0*x0+w1*x1+w2)", E7_VALUES, expand_sigmoid=True)
    assert kept.node(kept.output).op == "sigmoid"
    assert kept.node(kept.output).edges[0].rule == "sigmoid"
    assert "sigmoid" not in {n.op for n in expanded.nodes}
    assert len(expanded.nodes) > len(kept.nodes)
    for name in ("w0", "w1", "w2", "x0", "x1"):
        assert kept.node(name).grad == pytest.approx(expanded.node(name).grad)


EXPRESSIONS = [
    ("x*x + sin(x)*y", {"x": 0.7, "y": -1.3}),
    ("x - y/x + 2*log(x)", {"x": 2.0, "y": 3.0}),
    ("tanh(a*b) - exp(-a) + sqrt(b)", {"a": 0.4, "b": 1.5}),
    ("relu(x - 1) + leaky_relu(y) * max(x, y)", {"x": 2.5, "y": -0.5}),
    ("x**y + 3*x*y - 2", {"x": 1.7, "y": 0.6}),
    ("-(x + y)*(x - y)/(1 + x**2)", {"x": 0.3, "y": 2.0}),
    ("softplus(x) + elu(y) + abs(x*y)", {"x": -0.8, "y": -0.4}),
]


@pytest.mark.parametrize(("text", "values"), EXPRESSIONS)
def test_gradients_match_sympy_and_central_differences(text: str, values: dict) -> None:
    expr = parse_expression(text)
    graph = build_graph(expr, values)
    names = sorted(values)
    subs = {symbol(n): values[n] for n in names}
    assert graph.output_value == pytest.approx(float(expr.subs(subs).evalf()))

    def f(point: np.ndarray) -> float:
        return float(expr.subs({symbol(n): point[i] for i, n in enumerate(names)}).evalf())

    numeric = central_difference(f, np.array([values[n] for n in names]))
    for i, name in enumerate(names):
        exact = float(sp.diff(expr, symbol(name)).subs(subs).evalf())
        assert graph.node(name).grad == pytest.approx(exact, rel=1e-9, abs=1e-12)
        assert graph.node(name).grad == pytest.approx(numeric[i], rel=1e-6, abs=1e-8)


def test_shared_subexpressions_are_one_node_and_gradients_add() -> None:
    graph = graph_of("exp(x*y) + sin(x*y)", {"x": 0.5, "y": 2.0})
    products = [n for n in graph.nodes if n.op == "mul"]
    assert len(products) == 1
    assert len(graph.chains("x")) == 2  # two paths: through exp and through sin
    assert graph.node("x").grad == pytest.approx(2.0 * (math.exp(1) + math.cos(1)))


def test_many_paths_are_counted_and_listed_up_to_the_limit() -> None:
    expr = symbol("x")
    for _ in range(8):  # each level doubles the paths from x: 2**8 = 256
        expr = sp.sin(expr) * sp.cos(expr)
    graph = build_graph(expr, {"x": 0.3})
    assert graph.path_count("x") == 256
    assert len(graph.chains("x")) == MAX_PATHS
    assert "(192 more paths)" in latex(graph)


def test_output_name_can_be_chosen_and_avoids_inputs() -> None:
    assert graph_of("(x+y)*z", {"x": 1, "y": 2, "z": 3}).output == "f"
    assert graph_of("x*y", {"x": 1, "y": 2}, output="loss").output == "loss"
    assert graph_of("x", {"x": 1.5}).output == "x"
    with pytest.raises(ChainruleError, match="already an input"):
        graph_of("x*y", {"x": 1, "y": 2}, output="x")


def test_a_bare_variable_is_its_own_output() -> None:
    graph = graph_of("x", {"x": 1.5})
    assert (graph.output_value, graph.node("x").grad) == (1.5, 1.0)
    assert latex(graph).endswith("\\frac{\\partial x}{\\partial x} &= 1\n\\end{align*}")


def test_vector_values_stand_for_indexed_names() -> None:
    graph = graph_of("w0*x0 + w1*x1", {"w": [2, 3], "x": [5, 7]})
    assert graph.output_value == 31.0
    assert graph._repr_latex_() == latex(graph)


def test_intermediate_names_skip_input_names() -> None:
    graph = graph_of("(q+p)*s", {"q": 1, "p": 2, "s": 3})
    assert graph.node(graph.stages[0].name).name not in {"q", "p", "s"}
    assert len(set(graph.names())) == len(graph.nodes)


@pytest.mark.parametrize(("text", "values", "message"), [
    ("x*y", {"x": 1}, "missing values for y"),
    ("x*y", {"x": 1, "y": 2, "k": 3}, "does not use: expected only x, y"),
    ("x*y", {"x": 1, "y": 2, "w": [1, 2]}, "values given for w"),
    ("log(x)", {"x": -1}, "not a finite real number"),
    ("1/x", {"x": 0}, "not a finite real number"),
    ("x*w0", {"x": 1, "w": [[1, 2]]}, "matrix"),
    ("2*3", {}, "no variables"),
])
def test_bad_input_is_a_chainrule_error(text: str, values: dict, message: str) -> None:
    with pytest.raises(ChainruleError, match=message):
        graph_of(text, values)


def test_e6_latex_exact() -> None:
    graph = graph_of("(x+y)*z", {"x": -2, "y": 5, "z": -4})
    assert latex(graph) == (
        "\\begin{align*}\n"
        "z &= -4 & \\frac{\\partial f}{\\partial z} &= 3 \\\\\n"
        "x &= -2 & \\frac{\\partial f}{\\partial x} &= -4 \\\\\n"
        "y &= 5 & \\frac{\\partial f}{\\partial y} &= -4 \\\\\n"
        "q &= x + y = 3 & \\frac{\\partial f}{\\partial q} &= -4 \\\\\n"
        "f &= q z = -12 & \\frac{\\partial f}{\\partial f} &= 1\n"
        "\\end{align*}\n"
        "\\begin{align*}\n"
        "\\frac{\\partial f}{\\partial z} &= 3 \\\\\n"
        "\\frac{\\partial f}{\\partial x} &= \\frac{\\partial f}{\\partial q} "
        "\\frac{\\partial q}{\\partial x} \\\\\n"
        "&= \\left(-4\\right) \\cdot 1 = -4 \\\\\n"
        "\\frac{\\partial f}{\\partial y} &= \\frac{\\partial f}{\\partial q} "
        "\\frac{\\partial q}{\\partial y} \\\\\n"
        "&= \\left(-4\\right) \\cdot 1 = -4\n"
        "\\end{align*}"
    )
