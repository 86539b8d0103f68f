"""Topic ``chain-rule``: differentiate a composition of activations, losses and arithmetic.

Difficulty 1 is g(w·x + b); 2 puts a loss or a second activation around it; 3 is a two-unit chain
inside a loss. The worked solution is :func:`chainrule.derive.steps.derive_expression`'s; the
check is a float64 central difference of the generator's own tree (:mod:`.tree`).
"""

from __future__ import annotations

from functools import partial

import sympy as sp

from chainrule.derive.activations import Z, get_activation
from chainrule.derive.derivation import Step
from chainrule.derive.exercises import tree
from chainrule.derive.exercises.common import (
    Answer,
    Exercise,
    Friendly,
    Math,
    Solution,
    SolutionStep,
    Topic,
    reachable_targets,
)
from chainrule.derive.exercises.tree import Node, call, const, var
from chainrule.derive.parser import parse_expression, symbol
from chainrule.derive.printing.latex import ChainruleLatexPrinter, latex
from chainrule.derive.printing.text import text as unicode
from chainrule.derive.steps import derive_expression, evaluate

ACTIVATIONS = ("sigmoid", "tanh", "relu", "softplus", "exp")
SMOOTH = ("sigmoid", "tanh", "softplus")


def _function(name: str) -> sp.Expr:
    """g(z) of one of ACTIVATIONS: the registry's activation, or e^z."""
    return sp.exp(Z) if name == "exp" else get_activation(name).expr


def _linear(w: str, x: str, b: str) -> Node:
    return call("add", call("mul", var(w), var(x)), var(b))


def _expression(pick: Friendly, difficulty: int) -> tuple[Node, dict[str, float], str]:
    at = {"x": pick.decimal(-2, 2), "w": pick.decimal(-1.5, 1.5), "b": pick.decimal(-1, 1)}
    inner = _linear("w", "x", "b")
    if difficulty == 1:
        return call(pick.choice(ACTIVATIONS), inner), at, pick.choice(("w", "x"))
    if difficulty == 2:
        form = pick.choice(("square", "bce", "nested"))
        if form == "bce":
            at["t"] = pick.choice((0.0, 1.0))
            a = call("sigmoid", inner)
            one_minus = call("sub", const(1), a)
            loss = call("neg", call("add", call("mul", var("t"), call("log", a)),
                                    call("mul", call("sub", const(1), var("t")),
                                         call("log", one_minus))))
            return loss, at, "w"
        if form == "square":
            name = pick.choice(ACTIVATIONS)
            at["t"] = pick.choice(reachable_targets(_function(name)))
            return call("square", call("sub", call(name, inner), var("t"))), at, \
                pick.choice(("w", "b"))
        outer, first = pick.sample(SMOOTH, 2)
        at["v"] = pick.decimal(-1.5, 1.5)
        return call(outer, call("mul", var("v"), call(first, inner))), at, pick.choice(("w", "v"))
    at["v"] = pick.decimal(-1.5, 1.5)
    at["c"] = pick.decimal(-1, 1)
    first = pick.choice(ACTIVATIONS[:4])
    second = pick.choice(SMOOTH)
    at["t"] = pick.choice(reachable_targets(_function(second)))
    hidden = call("add", call("mul", var("v"), call(first, inner)), var("c"))
    return call("square", call("sub", call(second, hidden), var("t"))), at, \
        pick.choice(("w", "b", "v"))


def generate(pick: Friendly, difficulty: int) -> Exercise:
    node, at, wrt = _expression(pick, difficulty)
    tree.evaluate(node, at)  # rejects kinks and domain edges before SymPy sees the point
    source = tree.text(node)
    expr = parse_expression(source)
    numbers = {symbol(name): value for name, value in at.items()}
    value = evaluate(expr, numbers, what="f")
    slope = evaluate(sp.diff(expr, symbol(wrt)), numbers, what="the derivative")
    f_latex, f_text = latex(expr), unicode(expr)
    at_latex = r",\; ".join(f"{name} = {v:g}" for name, v in at.items())
    at_text = ", ".join(f"{name} = {v:g}" for name, v in at.items())
    prompt = ("Let ", Math(f"f = {f_latex}", f"f = {f_text}"), ". At ", Math(at_latex, at_text),
              ", compute ", Math("f", "f"), " and ",
              Math(rf"\partial f/\partial {wrt}", f"∂f/∂{wrt}"),
              ", showing each application of the chain rule.")
    answers = (Answer("f", "f", value),
               Answer(f"df/d{wrt}", rf"\partial f/\partial {wrt}", slope))
    return Exercise("chain-rule", prompt, {"expression": source, "wrt": wrt, "at": at},
                    answers, partial(_solve, expr, wrt, at), source=node)


def _solve(expr: sp.Expr, wrt: str, at: dict[str, float]) -> Solution:
    derivation = derive_expression(expr, symbol(wrt), values=at)
    steps = tuple(solution_step(s) for s in derivation.steps)
    return Solution(steps, latex(derivation, environment="longtable"),
                    (float(derivation.value or 0.0), float(derivation.derivative_value or 0.0)))


def solution_step(step: Step) -> SolutionStep:
    """A derivation step for JSON, Markdown and Moodle: the rule, its sentence, and the symbolic
    equation followed by the same step with numbers (the printers' own equality chains)."""
    printer = ChainruleLatexPrinter()
    numbers = [printer.latex_chain(chain) for chain in step.chains]
    math = rf"{latex(step.before)} = {latex(step.after)}"
    return SolutionStep(step.rule, step.text, r",\quad ".join([math, *numbers]))


def verify(exercise: Exercise) -> list[float]:
    node, at, wrt = exercise.source, exercise.data["at"], exercise.data["wrt"]
    return [tree.evaluate(node, at), tree.central_difference(node, at, wrt)]


TOPIC = Topic("chain-rule", "The chain rule",
              "composed activations, losses and arithmetic; f and ∂f/∂w at a point",
              generate, verify)
