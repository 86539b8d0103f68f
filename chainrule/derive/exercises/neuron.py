"""Topic ``neuron``: one neuron's forward pass, loss and gradient (``chainrule derive neuron``).

The answers and the worked solution are :func:`chainrule.derive.neuron.derive_neuron`'s; the check
is a NumPy forward pass of its own and float64 central differences of that loss.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from chainrule.derive.activations import get_activation
from chainrule.derive.exercises.chain_rule import solution_step
from chainrule.derive.exercises.common import (
    Answer,
    Exercise,
    Friendly,
    Math,
    Rejected,
    Solution,
    SolutionStep,
    Topic,
    number,
    reachable_targets,
    vector_latex,
    vector_text,
)
from chainrule.derive.losses import get_loss
from chainrule.derive.neuron import derive_neuron
from chainrule.derive.printing.latex import latex

_ACTIVATIONS = {1: ("sigmoid",), 2: ("sigmoid", "tanh", "relu"),
                3: ("sigmoid", "tanh", "relu", "softplus")}
_LOSSES = {1: ("half_mse",), 2: ("half_mse", "mse", "bce"), 3: ("half_mse", "mse", "bce")}


def generate(pick: Friendly, difficulty: int) -> Exercise:
    n = 2 if difficulty < 3 else 3
    loss = pick.choice(_LOSSES[difficulty])
    activation = "sigmoid" if loss == "bce" else pick.choice(_ACTIVATIONS[difficulty])
    x = [pick.decimal(-2, 2) for _ in range(n)]
    w = [pick.decimal(-1, 1) for _ in range(n)]
    b = pick.decimal(-1, 1)
    t = pick.choice((0.0, 1.0)) if loss == "bce" else pick.choice(reachable_targets(get_activation(activation).expr))
    z = sum(wi * xi for wi, xi in zip(w, x, strict=True)) + b
    if abs(z) < 0.05:
        raise Rejected("z at 0")
    values = {"x": x, "w": w, "b": b, "t": t}
    report = derive_neuron(activation, loss, values)
    forward_values: dict[str, Any] = report.forward
    grads: dict[str, Any] = report.gradients
    answers = (Answer("a", "a", float(forward_values["a"])),
               Answer("L", "L", float(forward_values["L"])),
               Answer("dL/dw1", r"\partial L/\partial w_1", float(grads["w"][0])),
               Answer("dL/db", r"\partial L/\partial b", float(grads["b"])))
    g = get_activation(activation).latex_name  # the registry's own name: σ, tanh, ReLU, …
    prompt = ("A neuron computes ", Math(rf"z = \mathbf{{w}} \cdot \mathbf{{x}} + b,\; a = {g}(z)",
                                        f"z = w·x + b, a = {activation}(z)"),
              " with loss ", Math(get_loss(loss).formula_latex, get_loss(loss).formula_text), ". For ",
              Math(rf"\mathbf{{x}} = {vector_latex(x)},\; \mathbf{{w}} = {vector_latex(w)},\; "
                   rf"b = {number(b)},\; t = {number(t)}",
                   f"x = {vector_text(x)}, w = {vector_text(w)}, b = {number(b)}, t = {number(t)}"),
              ", compute ", Math("a", "a"), ", ", Math("L", "L"), ", ",
              Math(r"\partial L/\partial w_1", "∂L/∂w₁"), " and ",
              Math(r"\partial L/\partial b", "∂L/∂b"), ".")
    data = {"spec": {"activation": activation, "loss": loss}, "wrt": ["w1", "b"], "at": values}
    return Exercise("neuron", prompt, data, answers, partial(_solve, report), source=values)


def _solve(report) -> Solution:  # type: ignore[no-untyped-def]
    f: dict[str, Any] = report.forward
    forward = SolutionStep("forward", "the forward pass",
                           rf"z = {number(float(f['z']))},\; a = {number(float(f['a']))},\; "
                           rf"L = {number(float(f['L']))}")
    steps = (forward, *(_with_value(solution_step(s), v)
                        for s, v in zip(report.steps, report.step_values(), strict=True)))
    values = (report.forward["a"], report.forward["L"], report.gradients["w"][0],
              report.gradients["b"])
    return Solution(steps, latex(report, environment="longtable"), tuple(map(float, values)))


def _with_value(step: SolutionStep, value: float | list | None) -> SolutionStep:  # type: ignore[type-arg]
    """The step with the number it comes to at the exercise's values."""
    if value is None:
        return step
    shown = vector_latex(value) if isinstance(value, list) else number(float(value))
    return SolutionStep(step.rule, step.text, f"{step.latex} = {shown}")


_NUMPY_ACTIVATIONS: dict[str, Callable[[Any], Any]] = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh,
                      "relu": lambda z: np.maximum(z, 0.0), "softplus": lambda z: np.log1p(np.exp(z))}
_NUMPY_LOSSES: dict[str, Callable[[Any, Any], Any]] = {"half_mse": lambda a, t: 0.5 * (a - t) ** 2, "mse": lambda a, t: (a - t) ** 2,
                 "bce": lambda a, t: -(t * np.log(a) + (1 - t) * np.log(1 - a))}


def forward(spec: dict, x: np.ndarray, w: np.ndarray, b: float, t: float) -> tuple[float, float]:
    """(a, L) by NumPy."""
    a = _NUMPY_ACTIVATIONS[spec["activation"]](float(np.dot(w, x)) + b)
    return float(a), float(_NUMPY_LOSSES[spec["loss"]](a, t))


def verify(exercise: Exercise) -> list[float]:
    at, spec = exercise.data["at"], exercise.data["spec"]
    x, w, b, t = np.array(at["x"], float), np.array(at["w"], float), float(at["b"]), at["t"]
    a, loss = forward(spec, x, w, b, t)
    h = 1e-6
    e1 = np.zeros_like(w)
    e1[0] = h
    dw = (forward(spec, x, w + e1, b, t)[1] - forward(spec, x, w - e1, b, t)[1]) / (2 * h)
    db = (forward(spec, x, w, b + h, t)[1] - forward(spec, x, w, b - h, t)[1]) / (2 * h)
    return [a, loss, dw, db] if math.isfinite(loss) else []


TOPIC = Topic("neuron", "One neuron", "forward pass, loss, ∂L/∂w and ∂L/∂b for an activation "
              "and a loss", generate, verify)
