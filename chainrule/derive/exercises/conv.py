"""Topic ``conv``: an output cell and the output shape of a convolution with stride and padding.

The map and the first cell's terms are :func:`chainrule.derive.conv_example.convolve`'s (the conv
layer's forward equation, evaluated); the check is a brute-force loop over the padded image.
"""

from __future__ import annotations

from functools import partial

from chainrule.derive.conv_example import ConvExample, convolve
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
)
from chainrule.derive.printing.latex import latex

_GEOMETRY = {1: ((4, 5), (2, 3), (1,), (0,)), 2: ((5, 6), (2, 3), (1, 2), (0, 1)),
             3: ((6, 7), (3,), (2,), (1,))}


def generate(pick: Friendly, difficulty: int) -> Exercise:
    sizes, kernels, strides, paddings = _GEOMETRY[difficulty]
    n, k = pick.choice(sizes), pick.choice(kernels)
    stride, padding = pick.choice(strides), pick.choice(paddings)
    image = [[float(pick.integer(0, 9)) for _ in range(n)] for _ in range(n)]
    kernel = [[float(pick.integer(-1, 2)) for _ in range(k)] for _ in range(k)]
    example = convolve(image, kernel, stride=stride, padding=padding)
    rows, cols = len(example.output), len(example.output[0])
    i, j = pick.integer(1, rows), pick.integer(1, cols)
    if (i, j) == (1, 1) or rows < 2:
        raise Rejected("ask for a cell other than the first")
    answers = (Answer("output rows", r"\text{rows}", float(rows), integer=True),
               Answer("output columns", r"\text{columns}", float(cols), integer=True),
               Answer("O[1,1]", "O_{1,1}", example.output[0][0], integer=True),
               Answer(f"O[{i},{j}]", f"O_{{{i},{j}}}", example.output[i - 1][j - 1], integer=True))
    prompt = ("Cross-correlate (as a CNN's conv layer does) the image X with the kernel K,",
              Math(rf"X = {matrix_latex(image)},\qquad K = {matrix_latex(kernel)},",
                   f" X = {matrix_text(image)}, K = {matrix_text(kernel)}, ", display=True),
              (f"with stride {stride} and zero padding {padding}. Give the output's numbers of "
               "rows and columns, "), Math("O_{1,1}", "O[1,1]"), " and ", Math(f"O_{{{i},{j}}}", f"O[{i},{j}]"),
              " (rows and columns counted from 1).")
    data = {"spec": {"stride": stride, "padding": padding, "cell": [i, j]},
            "at": {"image": image, "kernel": kernel}}
    return Exercise("conv", prompt, data, answers, partial(_solve, example, i, j))


def _solve(example: ConvExample, i: int, j: int) -> Solution:
    steps = (SolutionStep("output size", "", r"\lfloor (n + 2p - k)/s \rfloor + 1"),
             SolutionStep("conv", "the map:", rf"O = {matrix_latex(example.output)}"))
    values = (float(len(example.output)), float(len(example.output[0])), example.output[0][0],
              example.output[i - 1][j - 1])
    return Solution(steps, latex(example), values)


def verify(exercise: Exercise) -> list[float]:
    image, kernel = exercise.data["at"]["image"], exercise.data["at"]["kernel"]
    s, p = exercise.data["spec"]["stride"], exercise.data["spec"]["padding"]
    i, j = exercise.data["spec"]["cell"]
    n, k = len(image), len(kernel)
    padded = [[0.0] * (n + 2 * p) for _ in range(n + 2 * p)]
    for r in range(n):
        for c in range(n):
            padded[r + p][c + p] = image[r][c]
    size = (n + 2 * p - k) // s + 1

    def cell(r: int, c: int) -> float:
        return float(sum(padded[r * s + m][c * s + q] * kernel[m][q]
                         for m in range(k) for q in range(k)))

    return [float(size), float(size), cell(0, 0), cell(i - 1, j - 1)]


TOPIC = Topic("conv", "Convolution", "an output cell and the output shape, with stride and padding",
              generate, verify)
