"""Topic ``backprop``: one BP1–BP4 step on a small sigmoid MLP with the quadratic cost.

The generator applies Nielsen's four equations in matrix form (δᴸ = (aᴸ − y) ⊙ σ'(zᴸ),
δˡ = (Wˡ⁺¹)ᵀ δˡ⁺¹ ⊙ σ'(zˡ), ∂C/∂bˡ = δˡ, ∂C/∂Wˡ = δˡ (aˡ⁻¹)ᵀ); the check is a forward pass in
plain Python loops and float64 central differences of the cost for every weight asked for.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import numpy as np

from chainrule.derive.exercises.common import (
    Answer,
    Exercise,
    Friendly,
    Math,
    Solution,
    SolutionStep,
    Topic,
    matrix_latex,
    matrix_text,
    steps_latex,
    vector_latex,
    vector_text,
)

_SIZES = {1: (2, 2, 1), 2: (2, 2, 2), 3: (2, 3, 2)}


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _bp(x: np.ndarray, y: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray,
        b2: np.ndarray) -> dict[str, Any]:
    z1 = w1 @ x + b1
    a1 = _sigmoid(z1)
    z2 = w2 @ a1 + b2
    a2 = _sigmoid(z2)
    d2 = (a2 - y) * a2 * (1 - a2)  # BP1
    d1 = (w2.T @ d2) * a1 * (1 - a1)  # BP2
    return {"z1": z1, "a1": a1, "z2": z2, "a2": a2, "C": float(0.5 * np.sum((a2 - y) ** 2)),
            "d2": d2, "d1": d1, "gw2": np.outer(d2, a1), "gw1": np.outer(d1, x)}


def generate(pick: Friendly, difficulty: int) -> Exercise:
    n0, n1, n2 = _SIZES[difficulty]
    x = [pick.decimal(-1, 1) for _ in range(n0)]
    y = [float(pick.integer(0, 1)) for _ in range(n2)]
    w1 = [[pick.decimal(-1, 1) for _ in range(n0)] for _ in range(n1)]
    b1 = [pick.decimal(-0.5, 0.5, nonzero=False) for _ in range(n1)]
    w2 = [[pick.decimal(-1, 1) for _ in range(n1)] for _ in range(n2)]
    b2 = [pick.decimal(-0.5, 0.5, nonzero=False) for _ in range(n2)]
    r = _bp(*(np.array(v, float) for v in (x, y, w1, b1, w2, b2)))
    answers = (Answer("C", "C", r["C"]),
               Answer("delta2_1", r"\delta^{2}_{1}", float(r["d2"][0])),
               Answer("dC/dw2_11", r"\partial C/\partial w^{2}_{11}", float(r["gw2"][0, 0])),
               Answer("dC/db1_1", r"\partial C/\partial b^{1}_{1}", float(r["d1"][0])),
               Answer("dC/dw1_12", r"\partial C/\partial w^{1}_{12}", float(r["gw1"][0, 1])))
    prompt = (f"A {n0}-{n1}-{n2} network with sigmoid units everywhere computes ",
              Math(r"\mathbf{a}^{l} = \sigma(W^{l}\mathbf{a}^{l-1} + \mathbf{b}^{l})",
                   "aˡ = σ(Wˡaˡ⁻¹ + bˡ)"), " with cost ",
              Math(r"C = \tfrac12 \lVert \mathbf{a}^{2} - \mathbf{y} \rVert^2", "C = ½‖a² − y‖²"),
              ". With", Math(rf"\begin{{aligned}} W^{{1}} &= {matrix_latex(w1)}, & "
                             rf"\mathbf{{b}}^{{1}} &= {vector_latex(b1)}, \\ "
                             rf"W^{{2}} &= {matrix_latex(w2)}, & "
                             rf"\mathbf{{b}}^{{2}} &= {vector_latex(b2)}, \end{{aligned}}",
                             f" W¹ = {matrix_text(w1)}, b¹ = {vector_text(b1)}, "
                             f"W² = {matrix_text(w2)}, b² = {vector_text(b2)}, ", display=True),
              "input ", Math(rf"\mathbf{{x}} = {vector_latex(x)}", f"x = {vector_text(x)}"),
              " and target ", Math(rf"\mathbf{{y}} = {vector_latex(y)}", f"y = {vector_text(y)}"),
              ", run the forward pass and one backward pass (BP1–BP4). Give ", Math("C", "C"),
              ", ", Math(r"\delta^{2}_{1}", "δ²₁"), ", ",
              Math(r"\partial C/\partial w^{2}_{11}", "∂C/∂w²₁₁"), ", ",
              Math(r"\partial C/\partial b^{1}_{1}", "∂C/∂b¹₁"), " and ",
              Math(r"\partial C/\partial w^{1}_{12}", "∂C/∂w¹₁₂"), ".")
    data = {"spec": {"sizes": [n0, n1, n2], "activation": "sigmoid", "loss": "half_mse"},
            "at": {"x": x, "y": y, "W1": w1, "b1": b1, "W2": w2, "b2": b2},
            "wrt": ["C", "delta2_1", "W2[1,1]", "b1[1]", "W1[1,2]"]}
    return Exercise("backprop", prompt, data, answers, partial(_solve, r))


def _solve(r: dict) -> Solution:  # type: ignore[type-arg]
    v = lambda a: vector_latex([float(t) for t in a])
    m = lambda a: matrix_latex([[float(t) for t in row] for row in a])
    steps = (
        SolutionStep("forward", "hidden layer:", rf"\mathbf{{z}}^{{1}} = W^{{1}}\mathbf{{x}} + "
                     rf"\mathbf{{b}}^{{1}} = {v(r['z1'])},\; \mathbf{{a}}^{{1}} = "
                     rf"\sigma(\mathbf{{z}}^{{1}}) = {v(r['a1'])}"),
        SolutionStep("forward", "output layer:", rf"\mathbf{{z}}^{{2}} = {v(r['z2'])},\; "
                     rf"\mathbf{{a}}^{{2}} = {v(r['a2'])},\; C = {r['C']:.4g}"),
        SolutionStep("BP1", "output error, with σ' = σ(1 − σ):",
                     rf"\boldsymbol{{\delta}}^{{2}} = (\mathbf{{a}}^{{2}} - \mathbf{{y}}) \odot "
                     rf"\mathbf{{a}}^{{2}} \odot (1 - \mathbf{{a}}^{{2}}) = {v(r['d2'])}"),
        SolutionStep("BP2", "hidden error:", rf"\boldsymbol{{\delta}}^{{1}} = (W^{{2}})^{{T}} "
                     rf"\boldsymbol{{\delta}}^{{2}} \odot \mathbf{{a}}^{{1}} \odot "
                     rf"(1 - \mathbf{{a}}^{{1}}) = {v(r['d1'])}"),
        SolutionStep("BP3", "bias gradients:", rf"\partial C/\partial \mathbf{{b}}^{{l}} = "
                     rf"\boldsymbol{{\delta}}^{{l}},\; \partial C/\partial b^{{1}}_{{1}} = "
                     rf"{float(r['d1'][0]):.4g}"),
        SolutionStep("BP4", "weight gradients:", rf"\partial C/\partial W^{{2}} = "
                     rf"\boldsymbol{{\delta}}^{{2}} (\mathbf{{a}}^{{1}})^{{T}} = {m(r['gw2'])}"),
        SolutionStep("BP4", "", rf"\partial C/\partial W^{{1}} = \boldsymbol{{\delta}}^{{1}} "
                     rf"\mathbf{{x}}^{{T}} = {m(r['gw1'])}"))
    return Solution(steps, steps_latex(steps),
                    (r["C"], float(r["d2"][0]), float(r["gw2"][0, 0]), float(r["d1"][0]),
                     float(r["gw1"][0, 1])))


def _cost(at: dict) -> float:  # type: ignore[type-arg]
    """The forward pass in plain Python loops."""
    def layer(w: list, b: list, a: list) -> list[float]:  # type: ignore[type-arg]
        return [1 / (1 + math.exp(-(sum(wi * ai for wi, ai in zip(row, a, strict=True)) + bi)))
                for row, bi in zip(w, b, strict=True)]
    out = layer(at["W2"], at["b2"], layer(at["W1"], at["b1"], at["x"]))
    return 0.5 * sum((o - t) ** 2 for o, t in zip(out, at["y"], strict=True))


def _nudged(at: dict, key: str, index: tuple[int, ...], h: float) -> dict:  # type: ignore[type-arg]
    copy: dict[str, Any] = {k: [list(r) if isinstance(r, list) else r for r in v] for k, v in at.items()}
    if len(index) == 2:
        copy[key][index[0]][index[1]] += h
    else:
        copy[key][index[0]] += h
    return copy


def verify(exercise: Exercise) -> list[float]:
    at, h = exercise.data["at"], 1e-6

    def grad(key: str, index: tuple[int, ...]) -> float:
        return (_cost(_nudged(at, key, index, h)) - _cost(_nudged(at, key, index, -h))) / (2 * h)

    return [_cost(at), grad("b2", (0,)), grad("W2", (0, 0)), grad("b1", (0,)), grad("W1", (0, 1))]


TOPIC = Topic("backprop", "Backpropagation", "one BP1–BP4 step on a small MLP with numbers",
              generate, verify)
