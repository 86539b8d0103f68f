"""Softmax with cross-entropy: the Jacobian diag(s) − s sᵀ and the output error s − t, derived.

s_i = e^{z_i} / Σ_k e^{z_k} and L = −Σ_i t_i ln s_i. ``sympy.diff`` of s_i with respect to z_j,
with the exponentials written back as s, gives ∂s_i/∂z_j = s_i (𝟙[i = j] − s_j); the chain rule over
i, with ∂L/∂s_i = −t_i/s_i, gives ∂L/∂z_j = s_j Σ_i t_i − t_j, and a separate step that states
its assumption, Σ_i t_i = 1 (a one-hot or probability target), gives ∂L/∂z_j = s_j − t_j. Bishop, *PRML* (2006), §4.3.4; CS231n notes, "Linear classification".
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp

from chainrule.derive.derivation import Step
from chainrule.derive.layers.contraction import contract, rename
from chainrule.derive.layers.equations import Equation, LayerDerivation
from chainrule.derive.layers.notation import index, size, tensor

i, j, k, q = index("i"), index("j"), index("k"), index("q")
N = size("N")
z, t = tensor("z"), tensor("t")
s = sp.IndexedBase(sp.Symbol("s", positive=True), positive=True)
SIZES = (N,)
_PARTITION = sp.Sum(sp.exp(z[k]), (k, 0, N - 1))


def softmax(unit: sp.Expr = i) -> sp.Expr:
    return sp.exp(z[unit]) / _PARTITION


def cross_entropy() -> sp.Expr:
    return -sp.Sum(t[i] * sp.log(s[i]), (i, 0, N - 1))


def _as_softmax(expr: sp.Expr) -> sp.Expr:
    """Write each e^{z_u} as s_u · Σ_k e^{z_k} and cancel the partition function."""
    wild, partition = sp.Wild("u"), sp.Symbol("Z_partition", positive=True)
    written = expr.xreplace({_PARTITION: partition})
    written = written.replace(sp.exp(z[wild]), lambda u: s[u] * partition)
    return sp.factor(sp.cancel(written))


@lru_cache(maxsize=1)
def softmax_ce_layer() -> LayerDerivation:
    jacobian = softmax_jacobian()
    forward = (
        Equation("forward s", s[i], softmax(), ((i, N),), r"s = \operatorname{softmax}(z)",
                 "s = softmax(z)", matrix_numpy=_softmax_numpy),
        Equation("forward L", sp.Symbol("L"), cross_entropy(), (),
                 r"L = -\sum_{i} t_{i} \ln s_{i}", "L = −Σ_i t_i ln s_i",
                 matrix_numpy=lambda values: -np.sum(np.asarray(values["t"])
                                                     * np.log(np.asarray(values["s"])))),
    )
    return LayerDerivation("softmax_ce", "softmax with cross-entropy", _CITATION, forward,
                           (jacobian, output_error(jacobian.rhs)), SIZES)


def softmax_jacobian() -> Equation:
    raw = sp.diff(softmax(), z[q])
    contracted = contract(raw, [(q, N), (i, N)])
    result = rename(_as_softmax(contracted), {q: j})
    steps = (
        Step("quotient", sp.Derivative(softmax(), z[j]), rename(raw, {q: j}),
             "quotient rule on e^{z_i} / Σ_k e^{z_k}; ∂e^{z_k}/∂z_j = e^{z_k} 𝟙[k = j] (exp rule)"),
        Step("simplify", rename(raw, {q: j}), rename(contracted, {q: j}),
             "contract the Kronecker delta in the sum"),
        Step("softmax_jacobian", rename(contracted, {q: j}), result,
             "write e^{z_u}/Σ_k e^{z_k} as s_u"),
    )
    return Equation("ds/dz", tensor("ds_dz")[i, j], result, ((i, N), (j, N)),
                    r"\frac{\partial s}{\partial z} = \operatorname{diag}(s) - s s^{T}",
                    "∂s/∂z = diag(s) − s sᵀ", steps,
                    note="𝟙[i = j] here is the identity matrix, not a sum left to contract",
                    matrix_numpy=_jacobian_numpy)


def output_error(jacobian: sp.Expr) -> Equation:
    dl_ds = sp.diff(cross_entropy(), s[q]).doit()
    dl_ds = contract(dl_ds, [(q, N)])
    chained = sp.Sum(dl_ds.xreplace({q: i}) * jacobian, (i, 0, N - 1))
    contracted = sp.expand(contract(sp.expand(chained), [(j, N)]))
    result = contracted.subs(sp.Sum(t[i], (i, 0, N - 1)), 1)
    steps = (
        Step("log", sp.Derivative(cross_entropy(), s[j]), dl_ds.xreplace({q: j}),
             "∂L/∂s_j = −t_j / s_j (log rule, the sum contracted)"),
        Step("chain", tensor("dL_dz")[j], chained,
             "chain rule through every s_i: ∂L/∂z_j = Σ_i ∂L/∂s_i · ∂s_i/∂z_j"),
        Step("simplify", chained, contracted, "contract the Kronecker delta 𝟙[i = j]"),
        Step("target_sum", contracted, result,
             "assume Σ_i t_i = 1 (a one-hot target, or a probability vector): "
             "s_j Σ_i t_i − t_j = s_j − t_j"),
    )
    return Equation("dL/dz", tensor("delta")[j], result, ((j, N),),
                    r"\delta = \frac{\partial L}{\partial z} = s - t", "δ = ∂L/∂z = s − t", steps,
                    note="assumes Σ_i t_i = 1 (one-hot or probability targets)",
                    matrix_numpy=lambda values: np.asarray(values["s"]) - np.asarray(values["t"]))


def _softmax_numpy(values: Mapping[str, Any]) -> np.ndarray:
    shifted = np.exp(np.asarray(values["z"], dtype=np.float64) - np.max(values["z"]))
    return shifted / shifted.sum()


def _jacobian_numpy(values: Mapping[str, Any]) -> np.ndarray:
    probabilities = np.asarray(values["s"], dtype=np.float64)
    return np.diag(probabilities) - np.outer(probabilities, probabilities)


_CITATION = "Bishop, PRML (2006), §4.3.4; CS231n notes, Linear classification"


# The scalar bodies the softmax-CE kernels print (kernels/bodies.py). The kernels shift each row
# by its maximum m: s_i = e^{z_i − m} / Σ_k e^{z_k − m} is softmax(z) (the factor e^{−m} cancels),
# and e^{z_i − m} ≤ 1 cannot overflow. Each body is the derivation above with the shifted logit
# z_i − m, the row's partition sum and its logarithm as scalar symbols.
SHIFTED = sp.Symbol("shifted", real=True)  # z_i − max_k z_k
TOTAL = sp.Symbol("total", positive=True)  # Σ_k e^{z_k − m}
LOG_TOTAL = sp.Symbol("log_total", real=True)  # ln Σ_k e^{z_k − m}
TARGET = sp.Symbol("t", real=True)
TERM = sp.Symbol("term", positive=True)  # e^{z_i − m}, a term of the row's sum


def partition_term() -> sp.Expr:
    """One term e^{z_k − m} of the (shifted) partition sum Σ_k e^{z_k}."""
    return _PARTITION.function.xreplace({z[k]: SHIFTED})


def softmax_unit() -> sp.Expr:
    """s_i of :func:`softmax` over the shifted logit and the row's partition sum."""
    return softmax().xreplace({_PARTITION: TOTAL}).xreplace({z[i]: SHIFTED})


def softmax_of_term() -> sp.Expr:
    """s_i of :func:`softmax` over its own partition term e^{z_i − m} and the row's sum: the
    numerator named, so that a kernel that kept the terms of the sum takes no second e^x."""
    return softmax().xreplace({_PARTITION: TOTAL}).xreplace({sp.exp(z[i]): TERM})


def cross_entropy_term() -> sp.Expr:
    """One class's term −t_i ln s_i of :func:`cross_entropy`, with ln s_i expanded to
    (z_i − m) − ln Σ_k e^{z_k − m}, so no logarithm of a rounded-to-zero s_i is taken."""
    summand = (-cross_entropy()).function  # t_i ln s_i
    term = -summand.xreplace({s[i]: softmax_unit(), t[i]: TARGET})
    return sp.expand_log(term, force=True).xreplace({sp.log(TOTAL): LOG_TOTAL})
