"""The Python API: one function per CLI command, taking the same strings the command line takes.

The CLI is a thin shell over the same modules; these functions give a notebook the same objects
(each renders as LaTeX in Jupyter through ``_repr_latex_``)::

    from chainrule import api
    api.derive_expr("sigmoid(z)", wrt="z", at="z=3.2").value   # 0.9608…
    api.derive_graph("(x+y)*z", at="x=-2,y=5,z=-4").node("x").grad  # -4.0
    api.summary("lenet5").total                                  # 61706
    api.train("mlp:2-8-1", data="xor", epochs=200, lr=1.0).history[-1].test_acc
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chainrule.derive.conv_example import ConvExample, convolve
from chainrule.derive.derivation import Derivation
from chainrule.derive.graph import ComputationGraph, build_graph
from chainrule.derive.net import NetDerivation, derive_net
from chainrule.derive.neuron import NeuronReport, derive_neuron
from chainrule.derive.params import ParamSummary, count_params
from chainrule.derive.parser import parse_expression, symbol
from chainrule.derive.perceptron import PerceptronTrace, perceptron_trace
from chainrule.derive.spec import parse_spec
from chainrule.derive.steps import derive_expression
from chainrule.derive.values import parse_assignments, parse_matrix

if TYPE_CHECKING:  # numba loads only when training or gradcheck is asked for
    from chainrule.train.gradcheck import GradcheckResult
    from chainrule.train.loop import TrainState

__all__ = ["ComputationGraph", "ConvExample", "Derivation", "NetDerivation", "NeuronReport",
           "ParamSummary", "PerceptronTrace", "convolve_worked", "derive_expr", "derive_graph", "derive_net", "derive_neuron",
           "gradcheck", "perceptron", "summary", "train"]


def derive_expr(expression: str, *, wrt: str, at: str | None = None) -> Derivation:
    """``chainrule derive expr``: d expression / d wrt, step by step."""
    values = parse_assignments(at) if at else None
    return derive_expression(parse_expression(expression), symbol(wrt), values=values)


def derive_graph(expression: str, *, at: str) -> ComputationGraph:
    """``chainrule derive graph``: the staged computation graph with values and gradients."""
    return build_graph(parse_expression(expression), parse_assignments(at))


def perceptron(patterns: list[list[float]], targets: list[float], *, w: list[float],
               b: float | None = 0.0, lr: float = 1.0, epochs: int = 100) -> PerceptronTrace:
    """``chainrule perceptron``: the Rosenblatt rule's trace (``b=None``: no bias)."""
    return perceptron_trace(patterns, targets, w=w, b=b, lr=lr, epochs=epochs)


def summary(model: str, *, convention: str = "keras") -> ParamSummary:
    """``chainrule summary``: layers, shapes and parameter counts with their formulas."""
    return count_params(parse_spec(model), convention=convention)


def convolve_worked(image: str, kernel: str, *, stride: int = 1, padding: int = 0) -> ConvExample:
    """``chainrule derive conv``: a worked convolution from matrix literals."""
    return convolve(parse_matrix(image, name="image"), parse_matrix(kernel, name="kernel"),
                    stride=stride, padding=padding)


def gradcheck(model: str, *, activation: str | None = None,
              loss: str = "softmax_ce") -> GradcheckResult:
    """``chainrule gradcheck``: kernel gradients against float64 central differences."""
    from chainrule.train.gradcheck import gradcheck as run_gradcheck

    return run_gradcheck(parse_spec(model), activation=activation, loss=loss)


def train(model: str, *, data: str, **options: Any) -> TrainState:
    """``chainrule train`` without the progress bar; ``options`` are those of ``TrainOptions``."""
    from chainrule.train.session import TrainOptions, start

    return start(model, data, TrainOptions(**options)).run()
