"""Topic ``losses``: MSE, binary cross-entropy and softmax cross-entropy, values and gradients.

Each loss is written out as an expression (the formulas of :data:`chainrule.derive.losses.LOSSES`
with J = 2 or 3 outputs); the worked solution is the chain-rule walk of
:mod:`chainrule.derive.exercises.chain_rule`, and the check a float64 central difference of the
generator's own tree.
"""

from __future__ import annotations

from functools import partial

import sympy as sp

from chainrule.derive.exercises import tree
from chainrule.derive.exercises.chain_rule import _solve
from chainrule.derive.exercises.common import (
    Answer,
    Exercise,
    Friendly,
    Math,
    Topic,
    number,
    vector_latex,
    vector_text,
)
from chainrule.derive.exercises.tree import Node, call, const, var
from chainrule.derive.losses import get_loss
from chainrule.derive.parser import parse_expression, symbol
from chainrule.derive.printing.latex import latex
from chainrule.derive.printing.text import text as unicode
from chainrule.derive.steps import evaluate

_NAMES = {"mse": "mean squared error", "bce": "binary cross-entropy",
          "softmax_ce": "softmax cross-entropy"}
_KINDS = {1: ("mse", "bce"), 2: ("mse", "bce", "softmax_ce"), 3: ("bce", "softmax_ce")}


def _sum(nodes: list[Node]) -> Node:
    total = nodes[0]
    for node in nodes[1:]:
        total = call("add", total, node)
    return total


def _loss(pick: Friendly, kind: str, outputs: int) -> tuple[Node, dict[str, float], str, str]:
    if kind == "mse":  # (1/J) Σ (t_j − a_j)²
        at = {f"a{j}": pick.decimal(-1, 2) for j in range(1, outputs + 1)}
        at |= {f"t{j}": pick.decimal(-1, 2, nonzero=False) for j in range(1, outputs + 1)}
        node = call("div", _sum([call("square", call("sub", var(f"t{j}"), var(f"a{j}")))
                                 for j in range(1, outputs + 1)]), tree.const(float(outputs)))
        return node, at, "a1", "outputs a and targets t"
    if kind == "bce":  # −(1/J) Σ t_j ln a_j + (1 − t_j) ln(1 − a_j)
        at = {f"a{j}": pick.decimal(0.1, 0.9) for j in range(1, outputs + 1)}
        at |= {f"t{j}": float(pick.integer(0, 1)) for j in range(1, outputs + 1)}
        terms = [call("add", call("mul", var(f"t{j}"), call("log", var(f"a{j}"))),
                      call("mul", call("sub", const(1), var(f"t{j}")),
                           call("log", call("sub", const(1), var(f"a{j}")))))
                 for j in range(1, outputs + 1)]
        return call("neg", call("div", _sum(terms), const(float(outputs)))), at, "a1", \
            "predicted probabilities a and labels t"
    k = pick.integer(1, outputs)  # −ln s_k, s = softmax(z), t one-hot at k
    at = {f"z{j}": pick.decimal(-2, 2, nonzero=False) for j in range(1, outputs + 1)}
    exps = [call("exp", var(f"z{j}")) for j in range(1, outputs + 1)]
    node = call("neg", call("log", call("div", call("exp", var(f"z{k}")), _sum(exps))))
    return node, at, pick.choice([f"z{j}" for j in range(1, outputs + 1)]), \
        f"logits z, the softmax s = softmax(z) and the one-hot target of class {k}"


def generate(pick: Friendly, difficulty: int) -> Exercise:
    kind = pick.choice(_KINDS[difficulty])
    outputs = 1 if (difficulty == 1 and kind == "bce") else 2 if difficulty < 3 else 3
    if kind == "softmax_ce":
        outputs = max(outputs, 2 + (difficulty == 3))
    node, at, wrt, what = _loss(pick, kind, outputs)
    tree.evaluate(node, at)
    source = tree.text(node)
    expr = parse_expression(source)
    numbers = {symbol(name): value for name, value in at.items()}
    value = evaluate(expr, numbers, what="L")
    slope = evaluate(sp.diff(expr, symbol(wrt)), numbers, what="the gradient")
    loss = get_loss(kind)
    w = f"{wrt[0]}_{wrt[1:]}"
    values = _values(at)
    prompt = (f"The {_NAMES[kind]} loss ", Math(f"L = {latex(expr)}", f"L = {unicode(expr)}"),
              f" of the {what}. At ", Math(values[0], values[1]), ", compute ", Math("L", "L"), " and ",
              Math(rf"\partial L/\partial {w}", f"∂L/∂{wrt}"), ".")
    answers = (Answer("L", "L", value), Answer(f"dL/d{wrt}", rf"\partial L/\partial {w}", slope))
    data = {"expression": source, "wrt": wrt, "at": at, "spec": {"loss": loss.name,
                                                                   "outputs": outputs}}
    return Exercise("losses", prompt, data, answers, partial(_solve, expr, wrt, at), source=node)


def _values(at: dict[str, float]) -> tuple[str, str]:
    groups: dict[str, list[float]] = {}
    for name, value in at.items():
        groups.setdefault(name[0], []).append(value)
    latex_parts = [rf"\mathbf{{{k}}} = {vector_latex(v)}" if len(v) > 1 else f"{k}_1 = {number(v[0])}"
                   for k, v in groups.items()]
    text_parts = [f"{k} = {vector_text(v)}" for k, v in groups.items()]
    return r",\; ".join(latex_parts), ", ".join(text_parts)


def verify(exercise: Exercise) -> list[float]:
    node, at, wrt = exercise.source, exercise.data["at"], exercise.data["wrt"]
    return [tree.evaluate(node, at), tree.central_difference(node, at, wrt)]


TOPIC = Topic("losses", "Losses", "MSE, binary and softmax cross-entropy: values and gradients",
              generate, verify)
