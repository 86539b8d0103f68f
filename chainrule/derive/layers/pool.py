"""Max and average pooling over K×K windows with stride s, and their derived backward passes.

Average pooling is z[c,i,j] = (1/K²)·Σ_m Σ_n x[c, i·s+m, j·s+n]: its gradient spreads δ as 1/K²
over each window. Max pooling is written as a selection, z[c,i,j] = Σ_m Σ_n M[c,i,j,m,n]·x[c,
i·s+m, j·s+n], where the mask M is 1 at the window's argmax and 0 elsewhere; M is locally
constant, since ∂max(x₁, x₂)/∂x₁ = H(x₁ − x₂) (derived below), so the gradient routes δ to the
argmax. Windows may overlap (s < K): then the contributions to one input add up. Each matrix
form also comes as NumPy (``matrix_numpy``), computed as printed.
CS231n notes, "Convolutional Networks" (pooling layer); Goodfellow et al. (2016), §9.3.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp

from chainrule.derive.derivation import Step
from chainrule.derive.layers.chain import chain_rule
from chainrule.derive.layers.conv import correlate_full, crop, dilate
from chainrule.derive.layers.equations import Equation, LayerDerivation
from chainrule.derive.layers.notation import index, size, tensor

c, i, j, m, n, u, v = (index(name) for name in "cijmnuv")
c2, u2, v2 = index("c'"), index("u'"), index("v'")
C, K, H, W, s = size("C"), size("K"), size("H"), size("W"), size("s")
H_out, W_out = size("H_out"), size("W_out")
x, z, delta, mask = tensor("x"), tensor("z"), tensor("delta"), tensor("M")
SIZES = (C, K, H, W, H_out, W_out, s)
_OUT = [(c, 0, C - 1), (i, 0, H_out - 1), (j, 0, W_out - 1)]
_EXTENTS_OUT = ((c, C), (i, H_out), (j, W_out))
_WINDOW = [(m, 0, K - 1), (n, 0, K - 1)]


def avg_output() -> sp.Expr:
    return sp.Sum(x[c, i * s + m, j * s + n], *_WINDOW) / K**2


def max_output() -> sp.Expr:
    return sp.Sum(mask[c, i, j, m, n] * x[c, i * s + m, j * s + n], *_WINDOW)


@lru_cache(maxsize=2)
def pool_layer(mode: str = "max") -> LayerDerivation:
    """The pooling layer for ``mode`` "max" or "avg"."""
    if mode == "avg":
        forward = Equation("forward", z[c, i, j], avg_output(), _EXTENTS_OUT,
                           r"z_{c,i,j} = \frac{1}{K^{2}} \sum_{m,n} x_{c,is+m,js+n}",
                           "z[c,i,j] = (1/K²) Σ_m Σ_n x[c, i·s+m, j·s+n] (the K×K window)", (),
                           matrix_numpy=_avg_numpy)
        backward = _input_gradient(avg_output(), "constant_multiple",
                                   r"\frac{\partial L}{\partial x_{c}} = \frac{1}{K^{2}}\,"
                                   r"\big(\operatorname{dil}_{s}(\delta_{c})"
                                   r" \star_{\text{full}} \mathbf{1}_{K \times K}\big)_{H \times W}",
                                   "∂L/∂x[c] = (1/K²)·(dilₛ(δ[c]) ⋆_full 1_K×K) on H×W (δ spread "
                                   "as 1/K² over each window; overlapping windows add; rows and "
                                   "columns no window reaches are 0)",
                                   _avg_gradient_numpy)
        return LayerDerivation("avgpool", "average pooling K×K, stride s", _CITATION,
                               (forward,), (backward,), SIZES)
    forward = Equation("forward", z[c, i, j], max_output(), _EXTENTS_OUT,
                       r"z_{c,i,j} = \max_{\text{window}} x = \sum_{m,n} M_{c,i,j,m,n}\,"
                       r"x_{c,is+m,js+n}",
                       "z[c,i,j] = max over the window = Σ_m Σ_n M[c,i,j,m,n]·x[c, i·s+m, j·s+n]",
                       (_max_selects(),), note="M is 1 at each window's argmax, 0 elsewhere",
                       matrix_numpy=_max_numpy)
    backward = _input_gradient(max_output(), "sum",
                               r"\frac{\partial L}{\partial x_{c,\,is+m,\,js+n}} \mathrel{+}= "
                               r"M_{c,i,j,m,n}\,\delta_{c,i,j}",
                               "∂L/∂x[c, i·s+m, j·s+n] += M[c,i,j,m,n]·δ[c,i,j] (each window "
                               "routes δ to its argmax; overlapping windows add; 0 elsewhere)",
                               _max_gradient_numpy)
    return LayerDerivation("maxpool", "max pooling K×K, stride s", _CITATION, (forward,),
                           (backward,), SIZES)


def _input_gradient(output: sp.Expr, rule: str, matrix_latex: str, matrix_text: str,
                    matrix_numpy: Any) -> Equation:
    steps, rhs = chain_rule(upstream=delta[c, i, j], output=output, limits=_OUT,
                            wrt=x[c2, u2, v2], wrt_extents=[(c2, C), (u2, H), (v2, W)],
                            names={c2: c, u2: u, v2: v}, local_rule=rule, cost="L")
    return Equation("dL/dx", tensor("dL_dx")[c, u, v], rhs, ((c, C), (u, H), (v, W)),
                    matrix_latex, matrix_text, steps, matrix_numpy=matrix_numpy)


def _max_selects() -> Step:
    """∂max(x₁, x₂)/∂x₁ by sympy.diff: a step function, so max is a locally constant selection."""
    x1, x2 = sp.symbols("x_1 x_2", real=True)
    derivative = sp.diff(sp.Max(x1, x2), x1)
    return Step("max", sp.Derivative(sp.Max(x1, x2), x1), derivative,
                "the derivative of a max is 1 for the largest argument and 0 for the others, "
                "so max pooling acts as a fixed 0/1 selection mask M")


# -- the matrix forms as printed, in NumPy ------------------------------------------------------

def _windows(values: Mapping[str, Any]) -> np.ndarray:
    """(C, H′, W′, K, K): window (i, j) of each map, x[c, i·s+m, j·s+n]."""
    k, stride = int(values["K"]), int(values["s"])
    x = np.asarray(values["x"], dtype=np.float64)
    return np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))[:, ::stride, ::stride]


def _avg_numpy(values: Mapping[str, Any]) -> np.ndarray:
    return _windows(values).sum(axis=(-2, -1)) / int(values["K"]) ** 2


def _max_numpy(values: Mapping[str, Any]) -> np.ndarray:
    return np.einsum("cijmn,cijmn->cij", np.asarray(values["M"], dtype=np.float64), _windows(values))


def _avg_gradient_numpy(values: Mapping[str, Any]) -> np.ndarray:
    k, dilated = int(values["K"]), dilate(np.asarray(values["delta"]), int(values["s"]))
    height, width = int(values["H"]), int(values["W"])
    return np.array([crop(correlate_full(d, np.ones((k, k))), 0, height, width) / k**2
                     for d in dilated])


def _max_gradient_numpy(values: Mapping[str, Any]) -> np.ndarray:
    mask, delta = np.asarray(values["M"], dtype=np.float64), np.asarray(values["delta"])
    k, stride = int(values["K"]), int(values["s"])
    out = np.zeros((delta.shape[0], int(values["H"]), int(values["W"])))
    for ch, row, col in np.ndindex(delta.shape):  # += : overlapping windows add
        out[ch, row * stride:row * stride + k, col * stride:col * stride + k] += \
            mask[ch, row, col] * delta[ch, row, col]
    return out


_CITATION = "CS231n notes, Convolutional Networks (pooling); Goodfellow et al., Deep Learning §9.3"
