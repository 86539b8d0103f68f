"""The mini-batch gradient-descent update (E10), derived from the per-sample BP3 and BP4.

C = (1/m)·Σ_x C_x over a mini-batch of m samples, z^x_j = Σ_k w_jk a^x_k + b_j for each sample
x, and δ^x_j = ∂C_x/∂z^x_j. The chain rule over samples and units gives
∂C/∂w_jk = (1/m)·Σ_x δ^x_j a^x_k and ∂C/∂b_j = (1/m)·Σ_x δ^x_j, hence
w → w − (η/m)·Σ_x δ^{x,l} (a^{x,l−1})ᵀ and b → b − (η/m)·Σ_x δ^{x,l}. Nielsen, *NNDL* (2015), ch. 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp

from chainrule.derive.derivation import Step
from chainrule.derive.layers.chain import chain_rule
from chainrule.derive.layers.equations import Equation, LayerDerivation
from chainrule.derive.layers.notation import index, size, tensor

xs, j, k, p, q, u, r = (index(name) for name in ("x", "j", "k", "p", "q", "u", "r"))
J, K, BATCH = size("J"), size("K"), size("m")
ETA = sp.Symbol("eta", positive=True)
w, b, a_prev, delta = tensor("w"), tensor("b"), tensor("a_prev"), tensor("delta")
SIZES = (J, K, BATCH)


def batch_input(sample: sp.Expr, unit: sp.Expr, inner: sp.Symbol) -> sp.Expr:
    """z^x_j = Σ_k w_jk a^x_k + b_j for sample x."""
    return sp.Sum(w[unit, inner] * a_prev[sample, inner], (inner, 0, K - 1)) + b[unit]


def mean_cost() -> sp.Expr:
    """C = (1/m)·Σ_x C_x, printed with 1/m in front (not as Σ_x C_x / m); C_x is C[x] per sample."""
    per_sample = tensor("C")[xs]  # C_x: prints as C[x] and C_{x}
    return sp.Mul(sp.UnevaluatedExpr(1 / BATCH), sp.Sum(per_sample, (xs, 0, BATCH - 1)),
                  evaluate=False)


@lru_cache(maxsize=1)
def minibatch_update() -> LayerDerivation:
    limits = [(xs, 0, BATCH - 1), (u, 0, J - 1)]
    w_steps, dw = chain_rule(upstream=delta[xs, u] / BATCH, output=batch_input(xs, u, r),
                             limits=limits, wrt=w[p, q], wrt_extents=[(p, J), (q, K)],
                             names={p: j, q: k})
    b_steps, db = chain_rule(upstream=delta[xs, u] / BATCH, output=batch_input(xs, u, r),
                             limits=limits, wrt=b[p], wrt_extents=[(p, J)], names={p: j})
    forward = Equation("cost", sp.Symbol("C"), mean_cost(), (),
                       r"C = \frac{1}{m} \sum_{x} C_{x}", "C = (1/m) Σ_x C_x",
                       matrix_numpy=lambda values: np.mean(values["C"]))
    w_new, b_new = w[j, k] - ETA * dw, b[j] - ETA * db
    backward = (
        Equation("dC/dw", tensor("dC_dw")[j, k], dw, ((j, J), (k, K)),
                 r"\frac{\partial C}{\partial w^{l}} = \frac{1}{m} \sum_{x} \delta^{x,l} "
                 r"(a^{x,l-1})^{T}", "∂C/∂wˡ = (1/m) Σ_x δ^{x,l} (a^{x,l−1})ᵀ", w_steps,
                 matrix_numpy=_weight_gradient_numpy),
        Equation("dC/db", tensor("dC_db")[j], db, ((j, J),),
                 r"\frac{\partial C}{\partial b^{l}} = \frac{1}{m} \sum_{x} \delta^{x,l}",
                 "∂C/∂bˡ = (1/m) Σ_x δ^{x,l}", b_steps,
                 matrix_numpy=lambda values: np.mean(values["delta"], axis=0)),
        Equation("update w", tensor("w_new")[j, k], w_new, ((j, J), (k, K)),
                 r"w^{l} \to w^{l} - \frac{\eta}{m} \sum_{x} \delta^{x,l} (a^{x,l-1})^{T}",
                 "wˡ → wˡ − (η/m) Σ_x δ^{x,l} (a^{x,l−1})ᵀ",
                 (Step("constant_multiple", w[j, k] - ETA * tensor("dC_dw")[j, k], w_new,
                       "gradient descent with learning rate η"),),
                 matrix_numpy=lambda values: np.asarray(values["w"])
                 - values["eta"] * _weight_gradient_numpy(values)),
        Equation("update b", tensor("b_new")[j], b_new, ((j, J),),
                 r"b^{l} \to b^{l} - \frac{\eta}{m} \sum_{x} \delta^{x,l}",
                 "bˡ → bˡ − (η/m) Σ_x δ^{x,l}",
                 (Step("constant_multiple", b[j] - ETA * tensor("dC_db")[j], b_new,
                       "gradient descent with learning rate η"),),
                 matrix_numpy=lambda values: np.asarray(values["b"])
                 - values["eta"] * np.mean(values["delta"], axis=0)),
    )
    return LayerDerivation("minibatch", "mini-batch gradient descent (m samples)", _CITATION,
                           (forward,), backward, SIZES)


def _weight_gradient_numpy(values: Mapping[str, Any]) -> np.ndarray:
    """(1/m) Σ_x δ^x (a^x)ᵀ with δ as (m, J) and aˡ⁻¹ as (m, K)."""
    delta, a_prev = np.asarray(values["delta"]), np.asarray(values["a_prev"])
    return delta.T @ a_prev / delta.shape[0]


_CITATION = "Nielsen, Neural Networks and Deep Learning (2015), ch. 2"
