"""How an activation's name appears in a layer's matrix form (σ for the logistic, as in Nielsen)."""

from __future__ import annotations

_LATEX = {"sigmoid": r"\sigma", "tanh": r"\tanh", "relu": r"\operatorname{ReLU}",
          "leaky_relu": r"\operatorname{LeakyReLU}", "elu": r"\operatorname{ELU}",
          "softplus": r"\operatorname{softplus}", "linear": r"\operatorname{id}",
          "hardlim": r"\operatorname{hardlim}"}
_TEXT = {"sigmoid": "σ", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "LeakyReLU", "elu": "ELU",
         "softplus": "softplus", "linear": "id", "hardlim": "hardlim"}


def activation_latex(name: str) -> str:
    return _LATEX.get(name, rf"\operatorname{{{name}}}")


def activation_text(name: str) -> str:
    return _TEXT.get(name, name)
