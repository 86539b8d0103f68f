"""Inverted dropout: a fixed 0/1 mask μ and the 1/p scaling, forward and backward, derived.

Forward (training): y_j = μ_j·a_j / p with μ_j ~ Bernoulli(p), p the keep probability; at test time
y = a, and the 1/p keeps the expected activation unchanged. For a given mask the layer is linear,
so ∂C/∂a_j = μ_j·(∂C/∂y_j) / p: the gradient flows only through the kept units, scaled the same
way. In a network the next layer reads y, and the dense layer's BP2 carries the same μ/p
(:func:`chainrule.derive.layers.dense.hidden_error` with ``dropout=True``).
Srivastava et al., "Dropout", JMLR 15 (2014); CS231n notes, "Neural Networks 2" (inverted dropout).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from chainrule.derive.layers.chain import chain_rule
from chainrule.derive.layers.equations import Equation, LayerDerivation
from chainrule.derive.layers.notation import index, size, tensor

j, k, q = index("j"), index("k"), index("q")
J = size("J")
KEEP = sp.Symbol("p", positive=True)  # keep probability
a, y, mask, grad_y = tensor("a"), tensor("y"), tensor("mask"), tensor("dC_dy")
SIZES = (J,)


def dropout_output(unit: sp.Expr = j) -> sp.Expr:
    return mask[unit] * a[unit] / KEEP


@lru_cache(maxsize=1)
def dropout_layer() -> LayerDerivation:
    forward = Equation("forward", y[j], dropout_output(), ((j, J),),
                       r"y = \frac{\mu \odot a}{p}", "y = μ ⊙ a / p",
                       note="μⱼ ∈ {0, 1} drawn with P(μⱼ = 1) = p, fixed for the step",
                       matrix_numpy=lambda v: v["mask"] * v["a"] / v["p"])
    steps, rhs = chain_rule(upstream=grad_y[k], output=dropout_output(k), limits=[(k, 0, J - 1)],
                            wrt=a[q], wrt_extents=[(q, J)], names={q: j},
                            local_rule="constant_multiple",
                            local_text="μ_k / p is a constant factor; ∂a_k/∂a_j = δ_kj")
    backward = Equation("dC/da", tensor("dC_da")[j], rhs, ((j, J),),
                        r"\frac{\partial C}{\partial a} = \frac{\mu \odot \partial C / \partial y}{p}",
                        "∂C/∂a = μ ⊙ (∂C/∂y) / p", steps,
                        matrix_numpy=lambda v: np.asarray(v["mask"]) * v["dC_dy"] / v["p"])
    return LayerDerivation("dropout", "inverted dropout (keep probability p)", _CITATION,
                           (forward,), (backward,), SIZES)


_CITATION = "Srivastava et al., Dropout, JMLR 15 (2014); CS231n notes, Neural Networks 2"


# The scalar bodies the dropout kernel prints (kernels/bodies.py): the forward and backward
# equations above for one unit, the mask entry μ ∈ {0, 1} and the keep probability p as scalars.
MU = sp.Symbol("mu", nonnegative=True)  # μ_j
UNIT_A = sp.Symbol("a", real=True)  # a_j
UNIT_GRAD = sp.Symbol("g", real=True)  # ∂C/∂y_j, or any factor the backward pass multiplies


def unit_forward() -> sp.Expr:
    """y_j = μ_j a_j / p, from the forward equation."""
    return dropout_layer().equation("forward").rhs.xreplace({mask[j]: MU, a[j]: UNIT_A})


def unit_backward() -> sp.Expr:
    """∂C/∂a_j = μ_j (∂C/∂y_j) / p, from the derived backward equation."""
    return dropout_layer().equation("dC/da").rhs.xreplace({mask[j]: MU, grad_y[j]: UNIT_GRAD})
