"""Weight penalties in the gradient and in the SGD update (L2 weight decay, L1), derived.

C = C₀ + Σ_j Σ_k R(w_jk) with R from :data:`chainrule.derive.penalties.PENALTIES`
(L2: λ/2·w², L1: λ·|w|). Differentiating with respect to w_pq and contracting gives
∂C/∂w = ∂C₀/∂w + λw (L2) or ∂C₀/∂w + λ·sign(w) (L1), and the update w → w − η·∂C/∂w becomes
w → (1 − ηλ)w − η·∂C₀/∂w for L2 (weight decay). Nielsen, *NNDL* (2015), ch. 3; Goodfellow et
al., *Deep Learning* (2016), §7.1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp

from chainrule.derive.derivation import Step
from chainrule.derive.layers.contraction import contract
from chainrule.derive.layers.equations import Equation, LayerDerivation
from chainrule.derive.layers.notation import index, size, tensor
from chainrule.derive.penalties import LAMBDA, PENALTIES, W
from chainrule.errors import ChainruleError

j, k, p, q = index("j"), index("k"), index("p"), index("q")
J, K = size("J"), size("K")
w, grad0 = tensor("w"), tensor("dC0_dw")
ETA = sp.Symbol("eta", positive=True)
SIZES = (J, K)
_RULES = {"l2": "l2_penalty", "l1": "l1_penalty"}
_MATRIX = {"l2": (r"\frac{\partial C}{\partial w} = \frac{\partial C_0}{\partial w} + \lambda w",
                  "∂C/∂w = ∂C₀/∂w + λw"),
           "l1": ((r"\frac{\partial C}{\partial w} = \frac{\partial C_0}{\partial w} + "
                   r"\lambda \operatorname{sign}(w)"), "∂C/∂w = ∂C₀/∂w + λ sign(w)")}


def penalised_cost(penalty: str) -> sp.Expr:
    """The penalty summed over all weights, Σ_j Σ_k R(w_jk)."""
    return sp.Sum(PENALTIES[penalty].expr.subs(W, w[j, k]), (j, 0, J - 1), (k, 0, K - 1))


@lru_cache(maxsize=2)
def regularised_layer(penalty: str = "l2") -> LayerDerivation:
    if penalty not in PENALTIES:
        raise ChainruleError(f"unknown penalty {penalty!r}: expected one of {', '.join(PENALTIES)}")
    total = penalised_cost(penalty)
    summed = total.xreplace({j: p, k: q})  # the same sum over p, q: the steps keep j, k free
    raw = sp.diff(summed, w[j, k])
    term = contract(raw, [(j, J), (k, K)])
    gradient = grad0[j, k] + term
    steps = (
        Step("sum", sp.Derivative(summed, w[j, k]), raw,
             "differentiate the penalty sum term by term; ∂w_pq/∂w_jk = 𝟙[p = j]·𝟙[q = k]"),
        Step(_RULES[penalty], raw, term, "contract the deltas: only w_jk's own term remains"),
    )
    update_raw = w[j, k] - ETA * gradient
    update = sp.collect(sp.expand(update_raw), w[j, k])
    update_steps = (Step("simplify", update_raw, update, "collect the terms in w (weight decay)"),)
    cost, grad = _matrix_numpy(penalty)
    forward = Equation("cost", sp.Symbol("C"), sp.Symbol("C_0") + total, (),
                       _cost_latex(penalty), _cost_text(penalty), matrix_numpy=cost)
    backward = (
        Equation("dC/dw", tensor("dC_dw")[j, k], gradient, ((j, J), (k, K)), *_MATRIX[penalty],
                 steps, matrix_numpy=grad),
        Equation("update", tensor("w_new")[j, k], update, ((j, J), (k, K)),
                 r"w \to w - \eta \frac{\partial C}{\partial w}", "w → w − η ∂C/∂w",
                 update_steps, matrix_numpy=lambda v: v["w"] - v["eta"] * grad(v)),
    )
    return LayerDerivation(f"{penalty}_penalty", f"{penalty.upper()} weight penalty", _CITATION,
                           (forward,), backward, SIZES)


def _matrix_numpy(penalty: str) -> tuple[Callable[[Mapping[str, Any]], Any], ...]:
    """The printed matrix forms of the cost and of ∂C/∂w, computed with NumPy as they read."""
    if penalty == "l2":
        return (lambda v: v["C_0"] + v["lambda"] / 2 * np.sum(np.square(v["w"])),
                lambda v: v["dC0_dw"] + v["lambda"] * np.asarray(v["w"]))
    return (lambda v: v["C_0"] + v["lambda"] * np.sum(np.abs(v["w"])),
            lambda v: v["dC0_dw"] + v["lambda"] * np.sign(v["w"]))


def _cost_latex(penalty: str) -> str:
    if penalty == "l2":
        return r"C = C_0 + \frac{\lambda}{2} \sum_{j,k} w_{jk}^{2}"
    return r"C = C_0 + \lambda \sum_{j,k} |w_{jk}|"


def _cost_text(penalty: str) -> str:
    return "C = C₀ + λ/2 Σ w²" if penalty == "l2" else "C = C₀ + λ Σ |w|"


_CITATION = "Nielsen, NNDL (2015), ch. 3; Goodfellow et al., Deep Learning (2016), §7.1"
__all__ = ["ETA", "LAMBDA", "penalised_cost", "regularised_layer"]
