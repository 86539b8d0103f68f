"""A tiny expression tree for generated exercises: text that chainrule's parser reads, LaTeX for
the prompt, and a plain-Python float64 evaluation that shares no code with the derivation engine.

The verification route of the ``chain-rule``, ``graph`` and ``losses`` topics is a central
difference of :func:`evaluate`; it raises :class:`~chainrule.derive.exercises.common.Rejected`
near a kink (ReLU at 0) or outside a domain (log of a number ≤ 0.05), so such points are redrawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from chainrule.derive.exercises.common import Rejected

KINK_MARGIN = 0.05


@dataclass(frozen=True)
class Node:
    """``op`` applied to ``args``; a leaf is ("var", name) or ("const", value)."""

    op: str
    args: tuple[Node, ...] = ()
    name: str = ""
    value: float = 0.0


def var(name: str) -> Node:
    return Node("var", name=name)


def const(value: float) -> Node:
    return Node("const", value=value)


def call(op: str, *args: Node) -> Node:
    return Node(op, tuple(args))


def _num(value: float) -> str:
    return f"{value:g}"


_INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/"}


def text(node: Node) -> str:
    """The expression in the syntax of ``chainrule derive expr`` (fully parenthesised)."""
    if node.op == "var":
        return node.name
    if node.op == "const":
        return f"({_num(node.value)})" if node.value < 0 else _num(node.value)
    if node.op in _INFIX:
        return f"({text(node.args[0])} {_INFIX[node.op]} {text(node.args[1])})"
    if node.op == "square":
        return f"({text(node.args[0])})**2"
    if node.op == "neg":
        return f"(-{text(node.args[0])})"
    return f"{node.op}({text(node.args[0])})"


def _relu(z: float) -> float:
    if abs(z) < KINK_MARGIN:
        raise Rejected("ReLU at its kink")
    return max(z, 0.0)


def _log(z: float) -> float:
    if z <= KINK_MARGIN:
        raise Rejected("log of a number near or below 0")
    return math.log(z)


def _softplus(z: float) -> float:
    return math.log1p(math.exp(-abs(z))) + max(z, 0.0)


_UNARY: Mapping[str, Callable[[float], float]] = {
    "sigmoid": lambda z: 1.0 / (1.0 + math.exp(-z)),
    "tanh": math.tanh,
    "exp": math.exp,
    "log": _log,
    "relu": _relu,
    "softplus": _softplus,
    "square": lambda z: z * z,
    "neg": lambda z: -z,
}
_BINARY: Mapping[str, Callable[[float, float], float]] = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


def evaluate(node: Node, env: Mapping[str, float]) -> float:
    """The expression's value in float64 (plain ``math``; no SymPy)."""
    if node.op == "var":
        return float(env[node.name])
    if node.op == "const":
        return node.value
    if node.op in _BINARY:
        return _BINARY[node.op](evaluate(node.args[0], env), evaluate(node.args[1], env))
    return _UNARY[node.op](evaluate(node.args[0], env))


def central_difference(node: Node, env: Mapping[str, float], wrt: str, h: float = 1e-6) -> float:
    """∂node/∂wrt by a float64 central difference."""
    up, down = dict(env), dict(env)
    up[wrt] += h
    down[wrt] -= h
    return (evaluate(node, up) - evaluate(node, down)) / (2 * h)


def variables(node: Node) -> list[str]:
    """The variable names in order of first appearance."""
    if node.op == "var":
        return [node.name]
    names: list[str] = []
    for arg in node.args:
        names += [n for n in variables(arg) if n not in names]
    return names
