"""Staged computation graphs in the style of CS231n: every operation a named node.

Follows Karpathy's CS231n notes "Backpropagation, Intuitions" (Stanford, 2016): an expression is
broken into intermediate variables (f = (x+y)·z becomes q = x+y, f = q·z), the forward pass fills in
each node's value, and the backward pass multiplies each node's gradient by the *local* derivative of
every edge (``sympy.diff`` of the node's expression with respect to its parent), adding at branches.
n-ary sums and products become binary nodes, negation is its own node, and a node that appears twice
is shared. ``sigmoid(...)`` stays one node (rule ``sigmoid``) unless ``expand_sigmoid`` asks for the
σ-free form 1/(1+e^{−x}) of the CS231n sigmoid-neuron example.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import sympy as sp

from chainrule.derive.functions import sigmoid
from chainrule.derive.parser import symbol
from chainrule.derive.rules import FUNCTION_RULES
from chainrule.derive.values import Value
from chainrule.errors import ChainruleError

# Fresh names for intermediates, in the order CS231n uses them; then v1, v2, …
NAME_POOL = ("q", "p", "s", "t", "r", "u", "v", "m", "n", "k", "h", "g", "c", "d")
OUTPUT_NAMES = ("z", "f", "out", "y")  # the output takes the first name no input uses
MAX_NODES = 400
MAX_PATHS = 64


@dataclass(frozen=True)
class Edge:
    """parent → child, with the local derivative ∂child/∂parent and the rule that gives it."""

    parent: str
    local: sp.Expr  # ∂(child expr)/∂parent, in node symbols
    rule: str
    local_value: float


@dataclass(frozen=True)
class GraphNode:
    """One stage: ``name = expr`` (in its parents' names), its forward value and gradient."""

    name: str
    op: str  # "input", "add", "sub", "mul", "div", "neg", "scale", "add_const", "exp", …
    expr: sp.Expr  # in terms of the parent nodes' symbols; the symbol itself for inputs
    edges: tuple[Edge, ...]
    value: float
    grad: float  # d output / d this node

    @property
    def is_input(self) -> bool:
        return self.op == "input"

    @property
    def parents(self) -> tuple[str, ...]:
        return tuple(edge.parent for edge in self.edges)


@dataclass(frozen=True)
class ChainFactor:
    """One factor ∂child/∂parent of a path from the output back to an input."""

    child: str
    parent: str
    local: sp.Expr
    value: float


@dataclass(frozen=True)
class ComputationGraph:
    """The whole graph, nodes in topological (forward) order, the last one being the output."""

    expression: sp.Expr
    nodes: tuple[GraphNode, ...]
    output: str
    values: dict[str, float] = field(default_factory=dict)

    def _repr_latex_(self) -> str:
        from chainrule.derive.printing.latex import latex  # the printer imports this module's types

        return latex(self)

    def node(self, name: str) -> GraphNode:
        for node in self.nodes:
            if node.name == name:
                return node
        raise ChainruleError(f"no node named {name!r}: the graph has {', '.join(self.names())}")

    def names(self) -> list[str]:
        return [node.name for node in self.nodes]

    @property
    def inputs(self) -> tuple[GraphNode, ...]:
        return tuple(node for node in self.nodes if node.is_input)

    @property
    def stages(self) -> tuple[GraphNode, ...]:
        return tuple(node for node in self.nodes if not node.is_input)

    @property
    def output_value(self) -> float:
        return self.node(self.output).value

    def path_count(self, name: str) -> int:
        """How many paths lead from ``name`` to the output (``chains`` lists at most MAX_PATHS)."""
        counts = {node.name: 0 for node in self.nodes}
        counts[self.output] = 1
        for node in reversed(self.nodes):
            for edge in node.edges:
                counts[edge.parent] += counts[node.name]
        return counts[name]

    def chains(self, name: str) -> list[list[ChainFactor]]:
        """Every path output → ``name`` as its factors; ∂out/∂name is the sum of their products."""
        children: dict[str, list[tuple[GraphNode, Edge]]] = {n.name: [] for n in self.nodes}
        for node in self.nodes:
            for edge in node.edges:
                children[edge.parent].append((node, edge))
        paths: list[list[ChainFactor]] = []

        def walk(current: str, suffix: list[ChainFactor]) -> None:
            if len(paths) >= MAX_PATHS:
                return
            if current == self.output:
                paths.append(list(reversed(suffix)))
                return
            for child, edge in children[current]:
                walk(child.name, [*suffix, ChainFactor(child.name, current, edge.local,
                                                       edge.local_value)])

        walk(name, [])
        return paths


def build_graph(
    expr: sp.Expr,
    values: Mapping[str, Value],
    *,
    expand_sigmoid: bool = False,
    output: str | None = None,
) -> ComputationGraph:
    """Stage ``expr`` into named nodes, run forward at ``values``, then backward."""
    if expand_sigmoid:
        expr = expr.replace(sigmoid, lambda arg: 1 / (1 + sp.exp(-arg)))
    if not expr.free_symbols:
        raise ChainruleError(f"expression {expr} has no variables: expected at least one")
    scalars = scalar_values(expr, values)
    builder = _Builder(expr, output)
    builder.visit(expr)
    return builder.finish(scalars)


def scalar_values(expr: sp.Expr, values: Mapping[str, Value]) -> dict[str, float]:
    """Values per variable; a vector w=[2,-3] stands for w0=2, w1=-3."""
    needed = sorted(s.name for s in expr.free_symbols)
    scalars: dict[str, float] = {}
    unused: list[str] = []
    for name, value in values.items():
        expanded = _expand(name, value)
        if not set(expanded) & set(needed):
            unused.append(name)
        scalars.update(expanded)
    if unused:
        raise ChainruleError(f"values given for {', '.join(unused)}, which the expression does "
                             f"not use: expected only {', '.join(needed)}")
    missing = [n for n in needed if n not in scalars]
    if missing:
        raise ChainruleError(f"missing values for {', '.join(missing)}: expected --at with "
                             f"{', '.join(f'{n}=…' for n in needed)}")
    return {n: scalars[n] for n in needed}


def _expand(name: str, value: float | list) -> dict[str, float]:
    if not isinstance(value, list):
        return {name: float(value)}
    if any(isinstance(item, list) for item in value):
        raise ChainruleError(f"{name} is a matrix: a graph takes scalars or vectors")
    return {f"{name}{i}": float(v) for i, v in enumerate(value)}


class _Builder:
    """Walks a SymPy expression bottom-up, creating one node per binary or unary operation."""

    def __init__(self, root: sp.Expr, output: str | None) -> None:
        self.root = root
        self.taken = {s.name for s in root.free_symbols}
        if output is not None and output in self.taken:
            raise ChainruleError(f"output name {output!r} is already an input of the expression")
        self.output = output or next(n for n in (*OUTPUT_NAMES, "output") if n not in self.taken)
        self.taken.add(self.output)
        self.pool = iter([n for n in NAME_POOL if n not in self.taken]
                         + [f"v{i}" for i in range(1, MAX_NODES + 1)])
        self.order: list[tuple[str, str, sp.Expr]] = []  # (name, op, expr in parent symbols)
        self.memo: dict[sp.Expr, sp.Symbol] = {}

    def visit(self, expr: sp.Expr) -> sp.Symbol:
        if expr in self.memo:
            return self.memo[expr]
        if isinstance(expr, sp.Symbol):
            self.order.append((expr.name, "input", expr))
            result = expr
        elif isinstance(expr, sp.Add):
            result = self._add(expr)
        elif isinstance(expr, sp.Mul):
            result = self._mul(expr)
        elif isinstance(expr, sp.Pow):
            result = self._pow(expr)
        elif isinstance(expr, sp.Function | sp.Max | sp.Min):
            args = [a if a.is_number else self.visit(a) for a in expr.args]
            name = type(expr).__name__
            result = self._node(name.lower(), expr.func(*args))
        else:
            raise ChainruleError(f"cannot stage {expr} ({type(expr).__name__}) as a graph node")
        self.memo[expr] = result
        return result

    def _node(self, op: str, expr: sp.Expr) -> sp.Symbol:
        if len(self.order) >= MAX_NODES:
            raise ChainruleError(f"the graph would have more than {MAX_NODES} nodes")
        name = next(self.pool)
        self.order.append((name, op, expr))
        return symbol(name)

    def _add(self, expr: sp.Add) -> sp.Symbol:
        const = sp.Add(*[t for t in expr.args if t.is_number])  # 3, π, ln 2: not nodes
        terms = [t for t in expr.args if not t.is_number]
        if const == 0 and all(t.could_extract_minus_sign() for t in terms):
            return self._node("neg", -self.visit(-expr))
        terms = sorted(sp.Add(*terms).as_ordered_terms(), key=lambda t: t.could_extract_minus_sign())
        acc = self.visit(terms[0])
        for term in terms[1:]:
            if term.could_extract_minus_sign():
                acc = self._node("sub", acc - self.visit(-term))
            else:
                acc = self._node("add", acc + self.visit(term))
        return self._node("add_const", acc + const) if const != 0 else acc

    def _mul(self, expr: sp.Mul) -> sp.Symbol:
        coeff = sp.Mul(*[f for f in expr.args if f.is_number])  # 2, π, e²: not nodes
        rest = sp.Mul(*[f for f in expr.args if not f.is_number])
        if coeff == -1:
            return self._node("neg", -self.visit(rest))
        if coeff != 1:
            return self._node("scale", coeff * self.visit(rest))
        factors = rest.as_ordered_factors()
        den = [f.base ** -f.exp for f in factors if isinstance(f, sp.Pow) and f.exp.is_negative]
        num = [f for f in factors if not (isinstance(f, sp.Pow) and f.exp.is_negative)]
        if den and num:
            top, bottom = self.visit(sp.Mul(*num)), self.visit(sp.Mul(*den))
            return self._node("div", top / bottom)
        acc = self.visit(factors[0])
        for factor in factors[1:]:
            acc = self._node("mul", acc * self.visit(factor))
        return acc

    def _pow(self, expr: sp.Pow) -> sp.Symbol:
        base, exponent = expr.args
        if exponent.is_number:
            op = "reciprocal" if exponent == -1 else "sqrt" if exponent == sp.S.Half else "pow"
            return self._node(op, self.visit(base) ** exponent)
        left = base if base.is_number else self.visit(base)
        return self._node("pow", left ** self.visit(exponent))

    def finish(self, scalars: dict[str, float]) -> ComputationGraph:
        names = [name for name, _, _ in self.order]
        final = names[-1]
        if self.order[-1][1] != "input":  # the root node takes the output's name
            self.order[-1] = (self.output, *self.order[-1][1:])
            final = self.output
        values: dict[str, float] = {}
        for name, _, expr in self.order:
            values[name] = scalars[name] if name in scalars else _number(expr, values, name)
        edges = {name: _edges(op, expr, values) for name, op, expr in self.order}
        grads = _backward(self.order, edges, final)
        nodes = tuple(GraphNode(name, op, expr, edges[name], values[name], grads[name])
                      for name, op, expr in self.order)
        return ComputationGraph(self.root, nodes, final, dict(scalars))


def _edges(op: str, expr: sp.Expr, values: dict[str, float]) -> tuple[Edge, ...]:
    if op == "input":
        return ()
    parents = sorted(expr.free_symbols, key=lambda s: list(values).index(s.name))
    result = []
    for parent in parents:
        local = sp.diff(expr, parent)
        name = f"∂{expr}/∂{parent}"
        result.append(Edge(parent.name, local, edge_rule(op, expr, parent),
                           _number(local, values, name)))
    return tuple(result)


def edge_rule(op: str, expr: sp.Expr, parent: sp.Symbol) -> str:
    """The name of the rule (in chainrule.derive.rules) that gives ∂expr/∂parent."""
    if op in ("add", "sub", "add_const"):
        return "sum"
    if op in ("neg", "scale"):
        return "constant_multiple"
    if op == "mul":
        return "product"
    if op == "div":
        return "quotient"
    if op in ("reciprocal", "sqrt", "pow"):
        if expr.args[0] != parent:
            return "exp"  # d/dy b^y = b^y ln b
        return "sqrt" if op == "sqrt" else "power"
    return FUNCTION_RULES.get(expr.func, "differentiate")


def _backward(order: list[tuple[str, str, sp.Expr]], edges: dict[str, tuple[Edge, ...]],
              final: str) -> dict[str, float]:
    grads = {name: 0.0 for name, _, _ in order}
    grads[final] = 1.0
    for name, _, _ in reversed(order):
        for edge in edges[name]:
            grads[edge.parent] += grads[name] * edge.local_value  # gradients add at branches
    return grads


def _number(expr: sp.Expr, values: dict[str, float], what: str) -> float:
    subs = {s: sp.Float(values[s.name]) for s in expr.free_symbols}
    try:
        result = float(sp.N(expr.subs(subs)))
    except (TypeError, ValueError):
        result = math.nan
    if not math.isfinite(result):
        shown = ", ".join(f"{k}={v:g}" for k, v in values.items() if symbol(k) in expr.free_symbols)
        raise ChainruleError(f"{what} = {expr} is not a finite real number at {shown}")
    return result
