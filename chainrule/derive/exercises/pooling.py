"""Topic ``pooling``: max and average pooling, forward and backward.

The generator works the window out cell by cell; the check runs NumPy on the whole map
(``sliding_window_view``) and takes the backward cell as a central difference of
L = Σ G ⊙ pool(X).
"""

from __future__ import annotations

from functools import partial

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from chainrule.derive.exercises.common import (
    Answer,
    Exercise,
    Friendly,
    Math,
    Rejected,
    Solution,
    SolutionStep,
    Topic,
    matrix_latex,
    matrix_text,
    number,
    steps_latex,
)

_GEOMETRY = {1: (4, 2, 2), 2: (6, 2, 2), 3: (5, 3, 2)}  # input n, window k, stride s


def _pool(x: list[list[float]], k: int, s: int, mode: str) -> list[list[float]]:
    size = (len(x) - k) // s + 1
    out = []
    for r in range(size):
        row = []
        for c in range(size):
            window = [x[r * s + m][c * s + q] for m in range(k) for q in range(k)]
            row.append(max(window) if mode == "max" else sum(window) / len(window))
        out.append(row)
    return out


def _backward(x: list[list[float]], g: list[list[float]], k: int, s: int, mode: str,
              cell: tuple[int, int]) -> float:
    """∂L/∂X at ``cell``: the sum over the windows that contain it."""
    total = 0.0
    for r, row in enumerate(g):
        for c, upstream in enumerate(row):
            rows, cols = range(r * s, r * s + k), range(c * s, c * s + k)
            if cell[0] not in rows or cell[1] not in cols:
                continue
            window = [x[a][b] for a in rows for b in cols]
            if mode == "avg":
                total += upstream / len(window)
            elif x[cell[0]][cell[1]] == max(window):
                total += upstream
    return total


def generate(pick: Friendly, difficulty: int) -> Exercise:
    n, k, s = _GEOMETRY[difficulty]
    mode = pick.choice(("max", "avg"))
    x = [[float(pick.integer(-5, 9)) for _ in range(n)] for _ in range(n)]
    out = _pool(x, k, s, mode)
    size = len(out)
    for r in range(size):
        for c in range(size):
            window = [x[r * s + m][c * s + q] for m in range(k) for q in range(k)]
            if mode == "max" and window.count(max(window)) > 1:
                raise Rejected("a tie for the maximum")
    g = [[float(pick.integer(-3, 3, nonzero=True)) for _ in range(size)] for _ in range(size)]
    i, j = pick.integer(1, size), pick.integer(1, size)
    cell = (pick.integer(0, n - 1), pick.integer(0, n - 1))
    grad = _backward(x, g, k, s, mode, cell)
    answers = (Answer(f"Y[{i},{j}]", f"Y_{{{i},{j}}}", out[i - 1][j - 1]),
               Answer(f"dL/dX[{cell[0] + 1},{cell[1] + 1}]",
                      rf"\partial L/\partial X_{{{cell[0] + 1},{cell[1] + 1}}}", grad))
    name = "max" if mode == "max" else "average"
    prompt = ((f"A {k}×{k} {name} pooling layer with stride {s} takes the input X and "
               "receives the gradient ∂L/∂Y from above:"),
              Math(rf"X = {matrix_latex(x)},\qquad \frac{{\partial L}}{{\partial Y}} = "
                   rf"{matrix_latex(g)}.", f" X = {matrix_text(x)}, ∂L/∂Y = {matrix_text(g)}. ",
                   display=True),
              "Compute ", Math(f"Y_{{{i},{j}}}", f"Y[{i},{j}]"), " and ", Math(rf"\partial L/\partial X_{{{cell[0] + 1},{cell[1] + 1}}}",
                                 f"∂L/∂X[{cell[0] + 1},{cell[1] + 1}]"),
              " (rows and columns counted from 1).")
    data = {"spec": {"mode": mode, "window": k, "stride": s, "cell": [i, j],
                     "input_cell": [cell[0] + 1, cell[1] + 1]},
            "at": {"X": x, "dL_dY": g}}
    return Exercise("pooling", prompt, data, answers, partial(_solve, x, g, k, s, mode, (i, j), cell))


def _solve(x: list[list[float]], g: list[list[float]], k: int, s: int, mode: str,
           ij: tuple[int, int], cell: tuple[int, int]) -> Solution:
    out = _pool(x, k, s, mode)
    i, j = ij
    window = [x[(i - 1) * s + m][(j - 1) * s + q] for m in range(k) for q in range(k)]
    shown = ", ".join(number(v) for v in window)
    forward = (rf"Y_{{{i},{j}}} = \max({shown}) = {number(out[i - 1][j - 1])}" if mode == "max"
               else rf"Y_{{{i},{j}}} = \tfrac{{1}}{{{k * k}}}({' + '.join(number(v) for v in window)})"
               rf" = {number(out[i - 1][j - 1])}")
    forward = forward.replace("+ -", "- ")
    rule = ("the gradient goes to the maximum of each window, 0 elsewhere" if mode == "max"
            else f"each cell of a window gets 1/{k * k} of the window's gradient")
    terms = []
    for r, row in enumerate(g):
        for c, upstream in enumerate(row):
            if cell[0] in range(r * s, r * s + k) and cell[1] in range(c * s, c * s + k):
                terms.append((r, c, upstream))
    grad = _backward(x, g, k, s, mode, cell)
    a, b = cell[0] + 1, cell[1] + 1
    sums = " + ".join(  # a negative upstream gradient in parentheses: 2 + (-3)/4
        (rf"{number(u)} \cdot \mathbf{{1}}[X_{{{a},{b}}} = \max]" if mode == "max"
         else rf"{_signed(u)}/{k * k}") for _, _, u in terms)
    steps = (SolutionStep("forward", f"the {k}×{k} window at output ({i},{j}) (rows "
                          f"{(i - 1) * s + 1}–{(i - 1) * s + k}, columns {(j - 1) * s + 1}–"
                          f"{(j - 1) * s + k} of X):", forward),
             SolutionStep("forward", "the whole output:", rf"Y = {matrix_latex(out)}"),
             SolutionStep("backward", f"{rule}; X[{a},{b}] lies in {len(terms)} "
                          f"window{'s' if len(terms) > 1 else ''}:",
                          rf"\partial L/\partial X_{{{a},{b}}} = {sums or '0'} = {number(grad)}"))
    return Solution(steps, steps_latex(steps), (out[i - 1][j - 1], grad))


def _signed(value: float) -> str:
    return f"({number(value)})" if value < 0 else number(value)


def verify(exercise: Exercise) -> list[float]:
    spec, at = exercise.data["spec"], exercise.data["at"]
    k, s = spec["window"], spec["stride"]
    reduce = np.max if spec["mode"] == "max" else np.mean

    def pool(x: np.ndarray) -> np.ndarray:
        return reduce(sliding_window_view(x, (k, k))[::s, ::s], axis=(2, 3))

    x, g = np.array(at["X"], float), np.array(at["dL_dY"], float)
    i, j = spec["cell"]
    a, b = spec["input_cell"]
    h = 1e-6
    up, down = x.copy(), x.copy()
    up[a - 1, b - 1] += h
    down[a - 1, b - 1] -= h
    grad = (np.sum(g * pool(up)) - np.sum(g * pool(down))) / (2 * h)
    return [float(pool(x)[i - 1, j - 1]), float(grad)]


TOPIC = Topic("pooling", "Pooling", "max and average pooling, forward and backward",
              generate, verify)
