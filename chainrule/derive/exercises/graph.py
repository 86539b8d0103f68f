"""Topic ``graph``: a staged circuit, its forward values and its gradients, in the CS231n style.

The answers and the stage table are :func:`chainrule.derive.graph.build_graph`'s; the check is a
float64 central difference of the generator's own tree (:mod:`.tree`) for every input asked for.
"""

from __future__ import annotations

from functools import partial

from chainrule.derive.exercises import tree
from chainrule.derive.exercises.common import (
    Answer,
    Exercise,
    Friendly,
    Math,
    Solution,
    SolutionStep,
    Topic,
    number,
)
from chainrule.derive.exercises.tree import Node, call, var
from chainrule.derive.graph import ComputationGraph, build_graph
from chainrule.derive.parser import parse_expression
from chainrule.derive.printing.latex import latex
from chainrule.derive.printing.text import text as unicode


def _circuit(pick: Friendly, difficulty: int) -> tuple[Node, dict[str, float], bool]:
    """(x + y)·z; (x·y + z)·w; or CS231n's σ(w0·x0 + w1·x1 + w2) with σ staged."""
    if difficulty == 1:
        node = call("mul", call("add", var("x"), var("y")), var("z"))
        return node, {v: float(pick.integer(-5, 5, nonzero=True)) for v in "xyz"}, False
    if difficulty == 2:
        node = call("mul", call("add", call("mul", var("x"), var("y")), var("z")), var("w"))
        return node, {v: float(pick.integer(-4, 4, nonzero=True)) for v in "xyzw"}, False
    node = call("sigmoid", call("add", call("add", call("mul", var("w0"), var("x0")),
                                            call("mul", var("w1"), var("x1"))), var("w2")))
    names = ("w0", "x0", "w1", "x1", "w2")
    return node, {v: pick.decimal(-3, 3) for v in names}, True


def generate(pick: Friendly, difficulty: int) -> Exercise:
    node, at, staged_sigmoid = _circuit(pick, difficulty)
    source = tree.text(node)
    expr = parse_expression(source)
    graph = build_graph(expr, at, expand_sigmoid=staged_sigmoid)
    asked = pick.sample(tree.variables(node), 2)
    grads = {n.name: n.grad for n in graph.nodes}
    answers = (Answer("f", "f", graph.output_value),
               *(Answer(f"df/d{v}", rf"\partial f/\partial {_sub(v)}", float(grads[v]))
                 for v in asked))
    at_latex = r",\; ".join(f"{_sub(k)} = {number(v)}" for k, v in at.items())
    at_text = ", ".join(f"{k} = {number(v)}" for k, v in at.items())
    prompt = ("Draw the computation graph of ", Math(f"f = {latex(expr)}", f"f = {unicode(expr)}"),
              *((" (stage σ as 1/(1 + e^{−u}): negate, exp, add 1, reciprocal)",)
                if staged_sigmoid else ()),
              ". With ", Math(at_latex, at_text),
              ", run the forward pass and the backward pass, and give ", Math("f", "f"), ", ",
              Math(rf"\partial f/\partial {_sub(asked[0])}", f"∂f/∂{asked[0]}"), " and ",
              Math(rf"\partial f/\partial {_sub(asked[1])}", f"∂f/∂{asked[1]}"), ".")
    data = {"expression": source, "wrt": asked, "at": at, "staged_sigmoid": staged_sigmoid}
    return Exercise("graph", prompt, data, answers, partial(_solve, graph, asked), source=node)


def _sub(name: str) -> str:
    return f"{name[0]}_{name[1:]}" if len(name) > 1 else name


def _solve(graph: ComputationGraph, asked: list[str]) -> Solution:
    steps = tuple(SolutionStep(n.op, f"{n.name} = {number(n.value)}, df/d{n.name} = "
                               f"{number(n.grad)}",
                               rf"{_sub(n.name)} = {latex(n.expr)} = {number(n.value)}")
                  for n in graph.nodes)
    grads = {n.name: n.grad for n in graph.nodes}
    return Solution(steps, latex(graph, environment="longtable"),
                    (graph.output_value, *(float(grads[v]) for v in asked)))


def verify(exercise: Exercise) -> list[float]:
    node, at = exercise.source, exercise.data["at"]
    return [tree.evaluate(node, at), *(tree.central_difference(node, at, v)
                                       for v in exercise.data["wrt"])]


TOPIC = Topic("graph", "Computation graphs", "a staged circuit's forward values and gradients "
              "(CS231n style)", generate, verify)
