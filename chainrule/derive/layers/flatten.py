"""Flatten: (C, H, W) → C·H·W, row-major, and its backward pass (a reshape of δ).

Written as z[f] = Σ_c Σ_i Σ_j δ_{f, cHW+iW+j}·x[c,i,j] so that differentiation, not an assumed
reshape, gives ∂L/∂x[c,i,j] = δ[c·H·W + i·W + j]. Keras' ``Flatten`` (seed 002) in index form.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from chainrule.derive.layers.chain import chain_rule
from chainrule.derive.layers.equations import Equation, LayerDerivation
from chainrule.derive.layers.notation import index, size, tensor

f, c, i, j = index("f"), index("c"), index("i"), index("j")
c2, i2, j2 = index("c'"), index("i'"), index("j'")
C, H, W = size("C"), size("H"), size("W")
x, z, delta = tensor("x"), tensor("z"), tensor("delta")
SIZES = (C, H, W)


def flatten_output(ff: sp.Expr = f) -> sp.Expr:
    return sp.Sum(sp.KroneckerDelta(ff, c * H * W + i * W + j) * x[c, i, j],
                  (c, 0, C - 1), (i, 0, H - 1), (j, 0, W - 1))


@lru_cache(maxsize=1)
def flatten_layer() -> LayerDerivation:
    forward = Equation("forward", z[f], flatten_output(), ((f, C * H * W),),
                       r"z = \operatorname{vec}(x)", "z = vec(x), row-major (C, H, W) → C·H·W",
                       matrix_numpy=lambda values: np.asarray(values["x"]).reshape(-1))
    steps, rhs = chain_rule(upstream=delta[f], output=flatten_output(), limits=[(f, 0, C * H * W - 1)],
                            wrt=x[c2, i2, j2], wrt_extents=[(c2, C), (i2, H), (j2, W)],
                            names={c2: c, i2: i, j2: j}, cost="L")
    backward = Equation("dL/dx", tensor("dL_dx")[c, i, j], rhs, ((c, C), (i, H), (j, W)),
                        r"\frac{\partial L}{\partial x} = \operatorname{reshape}(\delta, C, H, W)",
                        "∂L/∂x = δ reshaped to (C, H, W)", steps,
                        matrix_numpy=lambda values: np.asarray(values["delta"]).reshape(
                            int(values["C"]), int(values["H"]), int(values["W"])))
    return LayerDerivation("flatten", "flatten (C, H, W) → C·H·W", "Keras Flatten; row-major",
                           (forward,), (backward,), SIZES)
