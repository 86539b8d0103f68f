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
    rule: str  # the rule that ∂L/∂a cites in ``derive neuron`` (derive/rules.py)
    default_output: str | None = None  # the output activation it trains with; None: not trainable
    # the scalar form as a lecture writes it, for exercise prompts: LaTeX and plain text; it is
    # the same function as ``scalar`` (tests/derive/test_losses_and_deltas.py evaluates both)
    formula_latex: str = ""
    formula_text: str = ""

    @property
    def trainable(self) -> bool:
        """Whether a network can be trained with this loss (it has a default output activation)."""
        return self.default_output is not None

    def unit_factor(self, n_out: int) -> float:
        """The factor c with L_vector = c · Σ_units L_scalar over ``n_out`` units, read off the
        vector form (1/N for mse and bce, 1 for half_mse); 1 for a loss without a scalar form."""
        if self.scalar is None:
            return 1.0
        unit = sp.Symbol("i", integer=True)  # a plain index: Idx bounds do not survive subs(N, n)
        vector = self.vector.xreplace({I: unit}).subs(N, n_out).doit()
        units = sum(self.scalar.subs({A: S_VEC[k], T: T_VEC[k]}) for k in range(n_out))
        factor = sp.simplify(vector / units)
        if not factor.is_number:
            raise AssertionError(f"loss {self.name!r}: vector form is not a multiple of the unit sum")
        return float(factor)

    def derivative(self) -> sp.Expr:
        """∂L/∂a of the scalar form, by SymPy differentiation."""
        if self.scalar is None:
            raise ChainruleError(f"loss {self.name!r} has no scalar form; use its vector form")
        return sp.diff(self.scalar, A)


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss("mse", (T - A) ** 2, sp.Sum((T_VEC[I] - S_VEC[I]) ** 2, (I, 0, N - 1)) / N,
             "mean squared error (1/J) Σ_j (t_j − a_j)² over the J outputs", "power", "linear",
             r"L = (a - t)^2", "L = (a − t)²"),
        Loss("half_mse", (T - A) ** 2 / 2, sp.Sum((T_VEC[I] - S_VEC[I]) ** 2, (I, 0, N - 1)) / 2,
             "half squared error ½ Σ_j (t_j − a_j)²", "power", "linear",
             r"L = \tfrac12 (a - t)^2", "L = ½(a − t)²"),
        Loss("bce", -(T * sp.log(A) + (1 - T) * sp.log(1 - A)),
             -sp.Sum(T_VEC[I] * sp.log(S_VEC[I]) + (1 - T_VEC[I]) * sp.log(1 - S_VEC[I]),
                     (I, 0, N - 1)) / N,
             "binary cross-entropy −(1/J) Σ_j (t_j ln a_j + (1 − t_j) ln(1 − a_j))", "log",
             "sigmoid", r"L = -\bigl(t \ln a + (1 - t)\ln(1 - a)\bigr)",
             "L = −(t ln a + (1 − t) ln(1 − a))"),
        Loss("softmax_ce", None, -sp.Sum(T_VEC[I] * sp.log(S_VEC[I]), (I, 0, N - 1)),
             "cross-entropy of a softmax −Σ_j t_j ln s_j", "log", "softmax"),
        Loss("none", A, S_VEC[I], "no loss: the derivative of the output itself", "identity"),
    )
}
LOSS_ALIASES = {"ce": "softmax_ce", "cross_entropy": "softmax_ce", "softmax-ce": "softmax_ce",
                "half-mse": "half_mse"}


def trainable_losses() -> list[str]:
    """The losses a network trains with, in registry order."""
    return [name for name, loss in LOSSES.items() if loss.trainable]


def unit_losses() -> list[str]:
    """The trainable losses with a per-unit scalar form (an output layer of any activation)."""
    return [name for name, loss in LOSSES.items() if loss.trainable and loss.scalar is not None]


def get_loss(name: str) -> Loss:
    """Look a loss up by name (or alias), with an error that lists the known ones."""
    key = LOSS_ALIASES.get(name, name)
    try:
        return LOSSES[key]
    except KeyError:
        raise ChainruleError(f"unknown loss {name!r}: expected one of: {', '.join(LOSSES)}") from None
