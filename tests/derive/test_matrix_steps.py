"""The verification matrix for ``derive expr`` and ``derive graph``: generated, not hand-picked.

Expressions are composed from the registries' activations (each, and leaky_relu/elu with a
non-default α) and scalar losses, with arithmetic (sums, products, quotients, powers, exp, log) at
depths 1–3, by ``itertools.product`` over a fixed grammar, then a seeded sample. For every printed
step of every derivation:

- the step cites a rule of the rule table;
- its equation ``before = after`` holds at random points, two ways: with each derivative taken by
  ``sympy.diff`` of the elementary form (named activations rewritten), and with each derivative
  replaced by a float64 central difference;
- every printed chain of numbers agrees with itself and with the step's value, and the printed
  rounding is the value's;
- no step says "x = x", no multi-step derivative is worked out twice, no chain repeats a number,
  and no negative number is raised to a power without brackets.

``derive graph``: every node's forward value is its expression at its parents' values, every edge's
local derivative and every node's gradient agree with central differences of the forward pass.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections.abc import Callable, Mapping

import pytest
import sympy as sp

from chainrule.derive.activations import ACTIVATIONS, get_activation
from chainrule.derive.derivation import Derivation, Step
from chainrule.derive.functions import elementary
from chainrule.derive.graph import ComputationGraph, build_graph
from chainrule.derive.losses import LOSSES
from chainrule.derive.losses import A as PREDICTION
from chainrule.derive.losses import T as TARGET
from chainrule.derive.parser import symbol
from chainrule.derive.printing.latex import latex
from chainrule.derive.printing.text import chain_text, derivation_text, number_text, text
from chainrule.derive.rules import RULES
from chainrule.derive.steps import InOrder, Shown, derive_expression, in_print_order
from chainrule.errors import ChainruleError

X, W, B, T = symbol("x"), symbol("w"), symbol("b"), symbol("t")
SEED = 20261130
H = 1e-6  # central-difference step

# ---- the grammar ---------------------------------------------------------------------------
INNER = (W * X + B, W * X, W - X, W**2 + X, X / (1 + W**2), W * X * B, sp.exp(-W * X))
_ACTIVATIONS = [a.at for a in ACTIVATIONS.values()] + \
    [get_activation(name).at for name in ("leaky_relu:0.1", "elu:0.5")]
_ELEMENTARY: list[Callable[[sp.Expr], sp.Expr]] = [
    sp.exp, lambda u: sp.log(1 + u**2), lambda u: sp.sqrt(1 + u**2), sp.sin, sp.cos, sp.Abs]
UNARY = _ACTIVATIONS + _ELEMENTARY
_BOUNDED = [ACTIVATIONS["sigmoid"].at]  # outputs in (0, 1): the only ones bce may take


def _loss(name: str) -> Callable[[sp.Expr], sp.Expr]:
    scalar = LOSSES[name].scalar
    assert scalar is not None
    return lambda out: scalar.xreplace({PREDICTION: out, TARGET: T})


LOSS_NAMES = [name for name, loss in LOSSES.items() if loss.scalar is not None]
BINARY: list[Callable[[sp.Expr, sp.Expr], sp.Expr]] = [
    lambda f, g: f + g, lambda f, g: f * g, lambda f, g: f / (1 + g**2), lambda f, g: f**2 - g,
    lambda f, g: sp.exp(f) * g, lambda f, g: sp.log(1 + f**2) + g]


def _depth1() -> list[sp.Expr]:
    return [g(u) for g, u in itertools.product(UNARY, INNER)]


def _depth2() -> list[sp.Expr]:
    losses = [_loss(n)(g(u)) for n, g, u in itertools.product(LOSS_NAMES, UNARY, INNER)
              if n != "bce" or g in _BOUNDED]
    nested = [f(g(u)) for f, g, u in itertools.product(UNARY, _ACTIVATIONS, INNER)]
    return losses + nested


def _depth3() -> list[sp.Expr]:
    return [op(_loss(n)(g(u)), h(v)) for op, n, g, u, h, v in
            itertools.product(BINARY, ("mse", "half_mse"), _ACTIVATIONS, INNER[:3], UNARY, INNER[3:])]


def matrix() -> list[sp.Expr]:
    """The seeded sample: 40 of depth 1, 35 of depth 2, 25 of depth 3, all depending on w."""
    rng = random.Random(SEED)
    picked: list[sp.Expr] = []
    for pool, count in ((_depth1(), 40), (_depth2(), 35), (_depth3(), 25)):
        unique = [e for e in dict.fromkeys(pool) if e.has(W) and e not in picked]
        picked += rng.sample(unique, min(count, len(unique)))
    return picked


EXPRESSIONS = matrix()


# ---- evaluation, two independent ways -------------------------------------------------------
def _number(expr: sp.Expr, point: Mapping[sp.Symbol, float]) -> float:
    """``expr`` (no derivatives) at ``point`` as a float; NaN when not a finite real."""
    try:
        value = complex(sp.N(elementary(expr).xreplace({s: sp.Float(v) for s, v in point.items()}), 20))
    except (TypeError, ValueError, ZeroDivisionError):
        return math.nan
    return value.real if value.imag == 0 and math.isfinite(value.real) else math.nan


def by_sympy(expr: sp.Expr, point: Mapping[sp.Symbol, float]) -> float:
    """Every derivative taken by sympy.diff of the elementary form (named identities unused)."""
    taken = elementary(expr).replace(lambda e: isinstance(e, sp.Derivative), lambda e: e.doit())
    return _number(taken, point)


def by_differences(expr: sp.Expr, point: Mapping[sp.Symbol, float]) -> float:
    """Every derivative replaced by a float64 central difference."""
    replaced = {}
    for derivative in expr.atoms(sp.Derivative):
        (variable,) = derivative.variables
        inner = elementary(derivative.expr)
        others = {s: sp.Float(v) for s, v in point.items() if s != variable}
        f = sp.lambdify(variable, inner.xreplace(others), "mpmath")
        try:
            up, down = complex(f(point[variable] + H)), complex(f(point[variable] - H))
        except (TypeError, ValueError, ZeroDivisionError):
            return math.nan
        if up.imag or down.imag:
            return math.nan
        replaced[derivative] = sp.Float((up.real - down.real) / (2 * H))
    return _number(expr.xreplace(replaced), point)


def _close(a: float, b: float, tolerance: float) -> bool:
    return abs(a - b) <= tolerance * max(1.0, abs(a), abs(b))


def _points(symbols: set[sp.Symbol], rng: random.Random) -> list[dict[sp.Symbol, float]]:
    order = sorted(symbols, key=str)
    return [{s: rng.uniform(-1.8, 1.8) if k < 4 else rng.uniform(0.1, 1.8) for s in order}
            for k in range(8)]


def check_equation(step: Step, rng: random.Random) -> int:
    """``before = after`` at a random point in the domain, both ways; the points checked (0, 1)."""
    symbols = step.before.free_symbols | step.after.free_symbols | \
        {v for d in (step.before, step.after) for e in d.atoms(sp.Derivative) for v in e.variables}
    for point in _points(symbols, rng):
        lhs, rhs = by_sympy(step.before, point), by_sympy(step.after, point)
        fd_lhs, fd_rhs = by_differences(step.before, point), by_differences(step.after, point)
        if any(math.isnan(v) for v in (lhs, rhs, fd_lhs, fd_rhs)):
            continue  # outside the domain (a log of a negative number): another point
        assert _close(lhs, rhs, 1e-9), (step.rule, text(step.before), text(step.after), point)
        assert _close(fd_lhs, fd_rhs, 1e-5), (step.rule, text(step.before), text(step.after), point)
        return 1
    return 0


def _chain_value(element: sp.Expr, point: Mapping[sp.Symbol, float]) -> float | None:
    """A chain element's value: Shown numbers as they are; None when it has unknown symbols."""
    if isinstance(element, Shown):
        return element.number
    inner = element.args[0] if isinstance(element, InOrder) else element
    numbers = {s: sp.Float(s.number) for s in inner.atoms(Shown)}
    inner = inner.xreplace(numbers)
    if inner.free_symbols - set(point):
        return None
    return by_sympy(inner, point)


def check_numbers(step: Step, point: Mapping[sp.Symbol, float]) -> int:
    """Each chain's elements agree, end in the step's value, and print it rounded; the count."""
    checked = 0
    for chain in step.chains:
        values = [v for v in (_chain_value(e, point) for e in chain) if v is not None]
        assert len(values) >= 2 or len(chain) == 1, (step.rule, chain)
        for value in values[1:]:
            assert _close(values[0], value, 1e-9), (step.rule, chain_text(chain), values)
        printed = chain_text(chain).split(" = ")
        assert all(a != b for a, b in itertools.pairwise(printed)), chain_text(chain)
        checked += len(values)
    if step.value is not None and step.chains:
        last = step.chains[-1][-1]
        assert isinstance(last, Shown) and _close(last.number, step.value, 1e-12)
        assert chain_text((last,)) == number_text(step.value)
    return checked


def _placeholder(steps: tuple[Step, ...], i: int, point: Mapping[sp.Symbol, float]
                 ) -> dict[sp.Symbol, float]:
    """{u: its value} for an outer-rule step on a placeholder u: the chain step just before it
    differentiates the same function with u's expression in u's place."""
    before = steps[i].before
    if i == 0 or not isinstance(before, sp.Derivative) or before.variables[0] in point:
        return {}
    (u,) = before.variables
    for j in range(i - 1, -1, -1):  # the kink step sits between, for relu and abs
        node = steps[j].before
        if steps[j].rule == "chain" and isinstance(node, sp.Derivative) and \
                node.expr.func == before.expr.func:
            for outer_arg, arg in zip(before.expr.args, node.expr.args, strict=True):
                if outer_arg == u:
                    value = by_sympy(arg, point)
                    return {} if math.isnan(value) else {u: value}
    return {}


def check_structure(derivation: Derivation) -> None:
    steps = derivation.steps
    assert all(step.rule in RULES for step in steps), [s.rule for s in steps]
    assert all(step.before != step.after for step in steps), "a step says x = x"
    worked = [s.before for s in steps if s.rule in ("chain", "sum", "product", "quotient",
                                                     "constant_multiple", "rewrite")]
    assert len(worked) == len(set(worked)), "a derivative is worked out twice"
    for step in steps:
        if step.rule == "earlier_step":
            cited = int(re.search(r"step (\d+)", step.text).group(1))  # type: ignore[union-attr]
            assert steps[cited - 1].before == step.before
    for step in steps:  # numbers go into this order: it must be the order the step prints
        if not any(isinstance(e, InOrder) for chain in step.chains for e in chain):
            continue
        for printer in (text, latex):
            assert printer(InOrder(in_print_order(step.after))) == printer(step.after), step.after
    printed = derivation_text(derivation)
    assert not re.search(r"(?<![\w).])-\d+(\.\d+)?\^", printed), printed  # -1^2 means -(1²)


STATS = {"expressions": 0, "steps": 0, "equations": 0, "numbers": 0, "graph_nodes": 0}


@pytest.mark.parametrize("index", range(len(EXPRESSIONS)))
def test_every_step_of_derive_expr_holds(index: int) -> None:
    expr = EXPRESSIONS[index]
    rng = random.Random(SEED + index)
    for _ in range(6):
        values = {"x": rng.uniform(-1.5, 1.5), "w": rng.uniform(-1.5, 1.5),
                  "b": rng.uniform(-1.5, 1.5), "t": rng.uniform(0.05, 0.95)}
        try:
            derivation = derive_expression(expr, W, values=values)
            break
        except ChainruleError:
            continue  # not finite here (a log at 0): another point
    else:
        pytest.fail(f"no point where {expr} is finite")
    check_structure(derivation)
    point = {symbol(k): v for k, v in values.items()}
    for i, step in enumerate(derivation.steps):
        assert check_equation(step, rng) >= 1 or step.rule == "kink", (step.rule, text(step.before))
        STATS["equations"] += 1
        STATS["numbers"] += check_numbers(step, {**point, **_placeholder(derivation.steps, i, point)})
    STATS["expressions"] += 1
    STATS["steps"] += len(derivation.steps)
    reference = by_differences(sp.Derivative(expr, W), point)
    assert _close(derivation.derivative_value, reference, 1e-5)  # type: ignore[arg-type]


def test_the_matrix_is_generated_and_large_enough() -> None:
    assert len(EXPRESSIONS) == len(set(EXPRESSIONS)) >= 100
    depths = {_depth(e) for e in EXPRESSIONS}
    assert {1, 2, 3} <= depths
    names = {type(f).__name__ for e in EXPRESSIONS for f in e.atoms(sp.Function)}
    assert {"sigmoid", "relu", "leaky_relu", "elu", "softplus", "hardlim", "tanh"} <= names


def _depth(expr: sp.Expr) -> int:
    functions = [f for f in expr.atoms(sp.Function) if f.has(W)]
    return 1 + max((sum(1 for g in functions if g != f and f.has(g)) for f in functions), default=0)


# ---- derive graph --------------------------------------------------------------------------
GRAPH_EXPRESSIONS = EXPRESSIONS[::5]


def _forward(graph: ComputationGraph, override: Mapping[str, float]) -> float:
    """The output recomputed node by node from each node's expression (an independent pass)."""
    values: dict[str, float] = {}
    for node in graph.nodes:
        if node.name in override:
            values[node.name] = override[node.name]
        elif node.is_input:
            values[node.name] = node.value
        else:
            values[node.name] = _number(node.expr, {symbol(k): v for k, v in values.items()})
    return values[graph.output]


@pytest.mark.parametrize("index", range(len(GRAPH_EXPRESSIONS)))
def test_derive_graph_values_and_gradients_match_central_differences(index: int) -> None:
    expr = GRAPH_EXPRESSIONS[index]
    rng = random.Random(SEED - index)
    for _ in range(6):
        values = {"x": rng.uniform(-1.5, 1.5), "w": rng.uniform(-1.5, 1.5),
                  "b": rng.uniform(-1.5, 1.5), "t": rng.uniform(0.05, 0.95)}
        try:
            graph = build_graph(expr, {k: v for k, v in values.items()
                                       if symbol(k) in expr.free_symbols})
            break
        except ChainruleError:
            continue
    else:
        pytest.fail(f"no point where {expr} is finite")
    assert _close(_forward(graph, {}), _number(expr, {symbol(k): v for k, v in values.items()}), 1e-9)
    for node in graph.nodes:
        assert all(edge.rule in RULES for edge in node.edges), node
        if node.is_input:
            continue
        parents = {symbol(p): graph.node(p).value for p in node.parents}
        assert _close(node.value, _number(node.expr, parents), 1e-9), node.name
        for edge in node.edges:
            central = by_differences(sp.Derivative(node.expr, symbol(edge.parent)), parents)
            assert _close(edge.local_value, central, 1e-5), (node.name, edge.parent)
    for node in graph.nodes:
        up = _forward(graph, {node.name: node.value + H})
        down = _forward(graph, {node.name: node.value - H})
        assert _close(node.grad, (up - down) / (2 * H), 1e-5), (node.name, node.grad)
        STATS["graph_nodes"] += 1


# ---- every printed step, of every command, cites a rule of the table -----------------------
def test_every_printed_step_of_every_derivation_cites_a_rule_of_the_table() -> None:
    from chainrule.derive.net import derive_net
    from chainrule.derive.neuron import derive_neuron

    cited: list[str] = []
    for activation, loss in itertools.product(
            [*ACTIVATIONS, "leaky_relu:0.1", "elu:0.5"], ("mse", "half_mse", "bce")):
        cited += [step.rule for step in derive_neuron(activation, loss).steps]
    cited += [step.rule for step in derive_neuron(None, "softmax_ce").steps]
    for model, options in (("mlp:2-3-1", {"activation": "elu", "penalty": "l1", "dropout": True}),
                           ("mlp:2-2", {"activation": "leaky_relu", "penalty": "l2", "loss": "bce"}),
                           ("cnn:2x5x4-conv3x3x2s2p1-maxpool2s1-flatten-dense3", {})):
        net = derive_net(model, **options)  # type: ignore[arg-type]
        cited += [step.rule for layer in net.layers for eq in layer.derivation.equations
                  for step in eq.steps]
    assert len(cited) > 200
    assert set(cited) <= set(RULES), sorted(set(cited) - set(RULES))
