"""The loss registry: each loss defined once, as a SymPy expression.

Scalar forms use the symbols ``a`` (prediction) and ``t`` (target). Vector forms use ``Indexed``
symbols s[i], t[i] over i = 0..N−1 with a ``Sum``, so they are never expanded element by element.
Gradients come from ``sympy.diff``; the stable closed forms (σ + BCE → a − t, softmax + CE → s − t)
are rules in :mod:`chainrule.derive.rules`, recognised there and proved equal in the tests.

Follows Nielsen, *Neural Networks and Deep Learning* (2015), ch. 1–3, and Bishop, *Pattern
Recognition and Machine Learning* (2006), §4.3.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from chainrule.errors import ChainruleError

A = sp.Symbol("a", real=True)  # prediction
T = sp.Symbol("t", real=True)  # target
N = sp.Symbol("N", integer=True, positive=True)  # number of outputs
I = sp.Idx("i", N)
S_VEC = sp.IndexedBase("s", real=True)  # predictions s_i
T_VEC = sp.IndexedBase("t", real=True)  # targets t_i


@dataclass(frozen=True)
class Loss:
    """One loss: its name, its scalar form L(a, t), and its vector form over N outputs.

    ``description`` writes the vector form as ``derive net`` prints it, over the J outputs j.
    """

    name: str
    scalar: sp.Expr | None  # L(a, t) for one output; None where the loss needs a vector
    vector: sp.Expr  # L(s, t) as a Sum over i
    description: str

    def derivative(self) -> sp.Expr:
        """∂L/∂a of the scalar form, by SymPy differentiation."""
        if self.scalar is None:
            raise ChainruleError(f"loss {self.name!r} has no scalar form; use its vector form")
        return sp.diff(self.scalar, A)


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss("mse", (T - A) ** 2, sp.Sum((T_VEC[I] - S_VEC[I]) ** 2, (I, 0, N - 1)) / N,
             "mean squared error (1/J) Σ_j (t_j − a_j)² over the J outputs"),
        Loss("half_mse", (T - A) ** 2 / 2, sp.Sum((T_VEC[I] - S_VEC[I]) ** 2, (I, 0, N - 1)) / 2,
             "half squared error ½ Σ_j (t_j − a_j)²"),
        Loss("bce", -(T * sp.log(A) + (1 - T) * sp.log(1 - A)),
             -sp.Sum(T_VEC[I] * sp.log(S_VEC[I]) + (1 - T_VEC[I]) * sp.log(1 - S_VEC[I]),
                     (I, 0, N - 1)) / N,
             "binary cross-entropy −(1/J) Σ_j (t_j ln a_j + (1 − t_j) ln(1 − a_j))"),
        Loss("softmax_ce", None, -sp.Sum(T_VEC[I] * sp.log(S_VEC[I]), (I, 0, N - 1)),
             "cross-entropy of a softmax −Σ_j t_j ln s_j"),
        Loss("none", A, S_VEC[I], "no loss: the derivative of the output itself"),
    )
}
LOSS_ALIASES = {"ce": "softmax_ce", "cross_entropy": "softmax_ce", "softmax-ce": "softmax_ce",
                "half-mse": "half_mse"}


def get_loss(name: str) -> Loss:
    """Look a loss up by name (or alias), with an error that lists the known ones."""
    key = LOSS_ALIASES.get(name, name)
    try:
        return LOSSES[key]
    except KeyError:
        raise ChainruleError(f"unknown loss {name!r}: expected one of {', '.join(LOSSES)}") from None
