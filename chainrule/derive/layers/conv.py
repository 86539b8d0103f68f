"""A 2-D convolution layer (cross-correlation, as in every deep-learning library) and its gradients.

Forward, with F filters over C input channels, kernel K×K, stride s and zero padding P:
z[o,i,j] = Σ_c Σ_m Σ_n w[o,c,m,n]·x[c, i·s+m−P, j·s+n−P] + b[o]. Differentiating with respect to
the indexed symbols and contracting the Kronecker deltas gives ∂L/∂w as the correlation of the
input with δ, ∂L/∂b as the sum of δ over each map, and ∂L/∂x as the full convolution of δ with the
flipped kernel (guarded where the kernel offset falls outside 0…K−1).
CS231n notes, "Convolutional Networks"; Goodfellow et al., *Deep Learning* (2016), §9.5.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from chainrule.derive.layers.chain import chain_rule
from chainrule.derive.layers.equations import Equation, LayerDerivation
from chainrule.derive.layers.notation import index, size, tensor

o, c, i, j, m, n = (index(name) for name in "ocijmn")
u, v = index("u"), index("v")  # a position in the input
o2, c2, m2, n2, u2, v2 = (index(name) for name in ("o'", "c'", "m'", "n'", "u'", "v'"))
C, F, K, H, W = size("C"), size("F"), size("K"), size("H"), size("W")  # in channels, filters, kernel, input
H_out, W_out = size("H_out"), size("W_out")  # (H + 2P − K)/s + 1, likewise W
s, P = size("s"), sp.Symbol("P", integer=True, nonnegative=True)  # stride, padding
w, b, x, z, delta = tensor("w"), tensor("b"), tensor("x"), tensor("z"), tensor("delta")
SIZES = (C, F, K, H, W, H_out, W_out, s, P)


def conv_output(oo: sp.Expr = o, ii: sp.Expr = i, jj: sp.Expr = j) -> sp.Expr:
    """z[o,i,j] = Σ_c Σ_m Σ_n w[o,c,m,n]·x[c, i·s+m−P, j·s+n−P] + b[o]."""
    return sp.Sum(w[oo, c, m, n] * x[c, ii * s + m - P, jj * s + n - P],
                  (c, 0, C - 1), (m, 0, K - 1), (n, 0, K - 1)) + b[oo]


_OUT = [(o, 0, F - 1), (i, 0, H_out - 1), (j, 0, W_out - 1)]


@lru_cache(maxsize=1)
def conv_layer() -> LayerDerivation:
    """The convolution's forward equation and its three derived gradients."""
    forward = Equation("forward", z[o, i, j], conv_output(), ((o, F), (i, H_out), (j, W_out)),
                       r"z = w \star x_{\text{pad}} + b",
                       "z = w ⋆ x_pad + b (cross-correlation, stride s, padding P)",
                       note="x reads as 0 outside the image (zero padding)")
    return LayerDerivation("conv", "convolution (F filters, C channels, K×K, stride s, padding P)",
                           _CITATION, (forward,),
                           (_weight_gradient(), _bias_gradient(), _input_gradient()), SIZES)


def _weight_gradient() -> Equation:
    steps, rhs = chain_rule(upstream=delta[o, i, j], output=conv_output(), limits=_OUT,
                            wrt=w[o2, c2, m2, n2],
                            wrt_extents=[(o2, F), (c2, C), (m2, K), (n2, K)],
                            names={o2: o, c2: c, m2: m, n2: n}, cost="L")
    return Equation("dL/dw", tensor("dL_dw")[o, c, m, n], rhs, ((o, F), (c, C), (m, K), (n, K)),
                    r"\frac{\partial L}{\partial w_{o,c}} = x_{c} \star \delta_{o}",
                    "∂L/∂w[o,c] = x[c] ⋆ δ[o] (correlation of the input with δ)", steps)


def _bias_gradient() -> Equation:
    steps, rhs = chain_rule(upstream=delta[o, i, j], output=conv_output(), limits=_OUT,
                            wrt=b[o2], wrt_extents=[(o2, F)], names={o2: o}, cost="L")
    return Equation("dL/db", tensor("dL_db")[o], rhs, ((o, F),),
                    r"\frac{\partial L}{\partial b_{o}} = \sum_{i,j} \delta_{o,i,j}",
                    "∂L/∂b[o] = Σ_i Σ_j δ[o,i,j]", steps)


def _input_gradient() -> Equation:
    steps, rhs = chain_rule(upstream=delta[o, i, j], output=conv_output(), limits=_OUT,
                            wrt=x[c2, u2, v2], wrt_extents=[(c2, C), (u2, H), (v2, W)],
                            names={c2: c, u2: u, v2: v}, cost="L")
    return Equation("dL/dx", tensor("dL_dx")[c, u, v], rhs, ((c, C), (u, H), (v, W)),
                    r"\frac{\partial L}{\partial x_{c}} = \sum_{o} \delta_{o} "
                    r"\ast_{\text{full}} \operatorname{rot180}(w_{o,c})",
                    "∂L/∂x[c] = Σ_o full convolution of δ[o] with the flipped kernel w[o,c]",
                    steps, note="w reads as 0 outside 0…K−1 (the guards); with stride s the "
                    "δ map is dilated by s")


_CITATION = "CS231n notes, Convolutional Networks; Goodfellow et al., Deep Learning (2016), §9.5"
