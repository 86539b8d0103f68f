"""Topic ``params``: parameter counts and output shapes of a model spec (``chainrule summary``).

The counts and formulas are :func:`chainrule.derive.params.count_params`'s (Keras convention:
weights and biases); the check recomputes them from the generator's own layer list with the
textbook formulas F·(k·k·C + 1), N·(M + 1) and ⌊(n + 2p − k)/s⌋ + 1.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from chainrule.derive.exercises.common import (
    Answer,
    Exercise,
    Friendly,
    Math,
    Solution,
    SolutionStep,
    Topic,
)
from chainrule.derive.params import ParamSummary, count_params
from chainrule.derive.printing.latex import latex
from chainrule.derive.spec import parse_spec

Layer = tuple  # ("conv", k, filters, stride, padding) | ("pool", k) | ("dense", n)


def _layers(pick: Friendly, difficulty: int) -> tuple[tuple[int, int], list[Layer]]:
    if difficulty == 1:
        return (1, pick.choice((16, 20, 28, 32))), [
            ("dense", pick.choice((8, 10, 16, 32, 64))), ("dense", pick.choice((2, 3, 10)))]
    channels, size = pick.choice((1, 3)), pick.choice((16, 28, 32))
    first = ("conv", pick.choice((3, 5)), pick.choice((4, 6, 8, 16)), 1,
             0 if difficulty == 2 else pick.choice((0, 1, 2)))
    layers: list[Layer] = [first, ("pool", 2)]
    if difficulty == 3:
        layers += [("conv", 3, pick.choice((8, 12, 16)), pick.choice((1, 2)), 1)]
    layers += [("dense", pick.choice((10, 16, 32)))]
    return (channels, size), layers


def _spec(input_shape: tuple[int, int], layers: list[Layer]) -> str:
    channels, size = input_shape
    if all(layer[0] == "dense" for layer in layers):
        return "mlp:" + "-".join(str(v) for v in (size * size, *(layer[1] for layer in layers)))
    tokens = []
    for layer in layers:
        if layer[0] == "conv":
            _, k, f, s, p = layer
            tokens.append(f"conv{k}x{k}x{f}" + (f"s{s}" if s != 1 else "") + (f"p{p}" if p else ""))
        elif layer[0] == "pool":
            tokens.append(f"maxpool{layer[1]}")
        else:
            tokens.append(f"dense{layer[1]}")
    return f"cnn:{channels}x{size}x{size}-" + "-".join(tokens)


def generate(pick: Friendly, difficulty: int) -> Exercise:
    input_shape, layers = _layers(pick, difficulty)
    model = _spec(input_shape, layers)
    summary = count_params(parse_spec(model))
    first = summary.layers[0]
    label = first.name.replace("_", " ")
    answers = (Answer("total parameters", r"\text{total}", float(summary.total), integer=True),
               Answer(f"parameters of {first.name}", rf"\text{{params of {label}}}",
                      float(first.params), integer=True),
               Answer(f"output size of {first.name}", rf"\text{{output width of {label}}}",
                      float(first.output_shape[-1]), integer=True))
    what = ("a dense network" if difficulty == 1 else "a convolutional network")
    prompt = (f"Take {what} given by the spec", Math(rf"\texttt{{{model}}}", f" {model} ",
                                                       display=True),
              ("(convKxKxF: F filters of K×K, sS stride S, pP zero padding P; maxpool2: 2×2 "
               "max pooling; denseN: N units; biases included). Give the total number of "
               "trainable parameters, the parameters of the first layer, and the last dimension "
               "of the first layer's output shape (its width, or its units)."))
    data: dict[str, Any] = {"spec": model, "at": {}, "wrt": None}
    return Exercise("params", prompt, data, answers, partial(_solve, summary),
                    source=(input_shape, layers))


def _solve(summary: ParamSummary) -> Solution:
    steps = tuple(SolutionStep("count", f"{row.name}: output {row.output_shape}", row.formula)
                  for row in summary.layers)
    first = summary.layers[0]
    return Solution(steps, latex(summary),
                    (float(summary.total), float(first.params), float(first.output_shape[-1])))


def verify(exercise: Exercise) -> list[float]:
    (channels, size), layers = exercise.source
    if all(layer[0] == "dense" for layer in layers):
        counts, fan_in = [], size * size
        for _, n in layers:
            counts.append(n * (fan_in + 1))
            fan_in = n
        return [float(sum(counts)), float(counts[0]), float(layers[0][1])]
    counts, sizes, c, n = [], [], channels, size
    for layer in layers:
        if layer[0] == "conv":
            _, k, f, s, p = layer
            counts.append(f * (k * k * c + 1))
            c, n = f, (n + 2 * p - k) // s + 1
        elif layer[0] == "pool":
            counts.append(0)
            n = (n - layer[1]) // layer[1] + 1
        else:
            counts.append(layer[1] * (c * n * n + 1))
            c, n = layer[1], 1
        sizes.append(n)
    return [float(sum(counts)), float(counts[0]), float(sizes[0])]


TOPIC = Topic("params", "Parameter counts", "parameter counts and output shapes of a model spec",
              generate, verify)
