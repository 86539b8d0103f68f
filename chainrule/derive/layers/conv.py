"""A 2-D convolution layer (cross-correlation, as in every deep-learning library) and its gradients.

Forward, with F filters over C input channels, kernel K×K, stride s and zero padding P:
z[o,i,j] = Σ_c Σ_m Σ_n w[o,c,m,n]·x[c, i·s+m−P, j·s+n−P] + b[o]. Differentiating with respect to
the indexed symbols and contracting the Kronecker deltas gives ∂L/∂w as the correlation of the
padded input with δ dilated by s, ∂L/∂b as the sum of δ over each map, and ∂L/∂x as the full
correlation of the dilated δ with the rotated kernel, cropped by P (guarded, in index form, where
the kernel offset falls outside 0…K−1). Each matrix form also comes as NumPy (``matrix_numpy``:
pad, dilate, correlate, crop, exactly as printed), which the tests compare with the index form.
CS231n notes, "Convolutional Networks"; Goodfellow et al., *Deep Learning* (2016), §9.5.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
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
                       r"z_{o} = \sum_{c} x_{\text{pad},c} \star_{s} w_{o,c} + b_{o}",
                       "z[o] = Σ_c x_pad[c] ⋆ₛ w[o,c] + b[o] (cross-correlation with stride s; "
                       "x_pad is x with P zeros on each side)",
                       note="x reads as 0 outside the image (zero padding)",
                       matrix_numpy=_forward_numpy)
    return LayerDerivation("conv", "convolution (F filters, C channels, K×K, stride s, padding P)",
                           _CITATION, (forward,),
                           (_weight_gradient(), _bias_gradient(), _input_gradient()), SIZES)


def _weight_gradient() -> Equation:
    steps, rhs = chain_rule(upstream=delta[o, i, j], output=conv_output(), limits=_OUT,
                            wrt=w[o2, c2, m2, n2],
                            wrt_extents=[(o2, F), (c2, C), (m2, K), (n2, K)],
                            names={o2: o, c2: c, m2: m, n2: n}, cost="L")
    return Equation("dL/dw", tensor("dL_dw")[o, c, m, n], rhs, ((o, F), (c, C), (m, K), (n, K)),
                    r"\frac{\partial L}{\partial w_{o,c}} = \left(x_{\text{pad},c} \star "
                    r"\operatorname{dil}_{s}(\delta_{o})\right)_{[0:K,\,0:K]}",
                    "∂L/∂w[o,c] = (x_pad[c] ⋆ dilₛ(δ[o]))[0:K, 0:K] (valid correlation of the "
                    "padded input with δ dilated by s)", steps,
                    note="the dilation by s puts s − 1 zeros between neighbouring entries of δ",
                    matrix_numpy=_weight_gradient_numpy)


def _bias_gradient() -> Equation:
    steps, rhs = chain_rule(upstream=delta[o, i, j], output=conv_output(), limits=_OUT,
                            wrt=b[o2], wrt_extents=[(o2, F)], names={o2: o}, cost="L")
    return Equation("dL/db", tensor("dL_db")[o], rhs, ((o, F),),
                    r"\frac{\partial L}{\partial b_{o}} = \sum_{i,j} \delta_{o,i,j}",
                    "∂L/∂b[o] = Σ_i Σ_j δ[o,i,j]", steps,
                    matrix_numpy=lambda values: np.asarray(values["delta"]).sum(axis=(1, 2)))


def _input_gradient() -> Equation:
    steps, rhs = chain_rule(upstream=delta[o, i, j], output=conv_output(), limits=_OUT,
                            wrt=x[c2, u2, v2], wrt_extents=[(c2, C), (u2, H), (v2, W)],
                            names={c2: c, u2: u, v2: v}, cost="L")
    return Equation("dL/dx", tensor("dL_dx")[c, u, v], rhs, ((c, C), (u, H), (v, W)),
                    r"\frac{\partial L}{\partial x_{c}} = \operatorname{crop}_{P}\Big(\sum_{o} "
                    r"\operatorname{dil}_{s}(\delta_{o}) \star_{\text{full}} "
                    r"\operatorname{rot180}(w_{o,c})\Big)",
                    "∂L/∂x[c] = crop_P(Σ_o dilₛ(δ[o]) ⋆_full rot180(w[o,c])) (full correlation "
                    "of the dilated δ with the rotated kernel, i.e. the full convolution with w)",
                    steps, note="w reads as 0 outside 0…K−1 (the guards); the dilation by s puts "
                    "s − 1 zeros between entries of δ; the crop by P keeps rows P … P+H−1 and "
                    "columns P … P+W−1, reading 0 past the end", matrix_numpy=_input_gradient_numpy)


# -- the matrix forms as printed, in NumPy (2-D maps; leading axes are channels) -------------------

def pad(maps: np.ndarray, p: int) -> np.ndarray:
    """x_pad: p zeros on each side of the last two axes."""
    return np.pad(maps, [(0, 0)] * (maps.ndim - 2) + [(p, p), (p, p)])


def dilate(maps: np.ndarray, stride: int) -> np.ndarray:
    """dilₛ: s − 1 zeros between neighbouring entries of the last two axes."""
    h, w = maps.shape[-2:]
    out = np.zeros((*maps.shape[:-2], stride * (h - 1) + 1, stride * (w - 1) + 1))
    out[..., ::stride, ::stride] = maps
    return out


def correlate(image: np.ndarray, kernel: np.ndarray, stride: int = 1) -> np.ndarray:
    """Valid cross-correlation of one 2-D map with a 2-D kernel: Σ_mn image[is+m, js+n]·k[m,n]."""
    windows = np.lib.stride_tricks.sliding_window_view(image, kernel.shape)[::stride, ::stride]
    return np.einsum("ijmn,mn->ij", windows, kernel)


def correlate_full(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Full cross-correlation: the map padded with K − 1 zeros on each side, then correlated."""
    kh, kw = kernel.shape
    return correlate(np.pad(image, ((kh - 1, kh - 1), (kw - 1, kw - 1))), kernel)


def crop(image: np.ndarray, first: int, height: int, width: int) -> np.ndarray:
    """Rows first … first+height−1 and columns first … first+width−1, 0 past the end."""
    grown = np.zeros((max(image.shape[0], first + height), max(image.shape[1], first + width)))
    grown[:image.shape[0], :image.shape[1]] = image
    return grown[first:first + height, first:first + width]


def _forward_numpy(values: Mapping[str, Any]) -> np.ndarray:
    x, w, b = (np.asarray(values[name], dtype=np.float64) for name in ("x", "w", "b"))
    stride, xp = int(values["s"]), pad(x, int(values["P"]))
    return np.array([sum(correlate(xp[ch], w[f, ch], stride) for ch in range(x.shape[0])) + b[f]
                     for f in range(w.shape[0])])


def _weight_gradient_numpy(values: Mapping[str, Any]) -> np.ndarray:
    x, delta = np.asarray(values["x"], dtype=np.float64), np.asarray(values["delta"])
    k, xp, dilated = int(values["K"]), pad(x, int(values["P"])), dilate(delta, int(values["s"]))
    return np.array([[correlate(xp[ch], dilated[f])[:k, :k] for ch in range(x.shape[0])]
                     for f in range(delta.shape[0])])


def _input_gradient_numpy(values: Mapping[str, Any]) -> np.ndarray:
    w, delta = np.asarray(values["w"], dtype=np.float64), np.asarray(values["delta"])
    dilated, p = dilate(delta, int(values["s"])), int(values["P"])
    height, width = int(values["H"]), int(values["W"])
    return np.array([crop(np.sum([correlate_full(dilated[f], w[f, ch, ::-1, ::-1])  # Σ_o
                                  for f in range(w.shape[0])], axis=0), p, height, width)
                     for ch in range(w.shape[1])])


_CITATION = "CS231n notes, Convolutional Networks; Goodfellow et al., Deep Learning (2016), §9.5"
