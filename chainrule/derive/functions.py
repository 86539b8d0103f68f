"""The neural-network functions as SymPy ``Function`` classes: σ, ReLU, leaky ReLU, ELU, softplus,
hardlim.

Each one keeps its name when printed (so a derivation reads ``σ(z)``, not a wall of exponentials) and
rewrites to its elementary definition with ``expr.rewrite("elementary")`` (see :func:`elementary`).
Each ``fdiff`` returns the *named identity* of the rule table in :mod:`chainrule.derive.rules`; the
tests prove that every identity equals ``sympy.diff`` of the elementary definition.

Conventions (Goodfellow, Bengio & Courville, *Deep Learning*, 2016, §6.3):
ReLU'(0) = 0; hardlim(n) = 1 if n ≥ 0 (Hagan et al., *Neural Network Design*, ch. 4);
leaky ReLU slope α = 0.01 unless given; ELU α = 1 unless given.
"""

from __future__ import annotations

import sympy as sp

LEAKY_RELU_DEFAULT_SLOPE = sp.Rational(1, 100)
ELU_DEFAULT_ALPHA = sp.Integer(1)


class _ActivationBase(sp.Function):
    """A scalar activation that evaluates numerically through its elementary definition.

    Each subclass owns how it is written: ``text_name`` (Unicode), ``latex_name`` and the names
    the expression parser accepts for it (``parse_names``); the printers and the parser read
    them here, so a new function is one class."""

    text_name: str = ""
    latex_name: str = ""
    parse_names: tuple[str, ...] = ()

    def _elementary(self) -> sp.Expr:
        raise NotImplementedError

    def _eval_rewrite_as_elementary(self, *args: sp.Expr, **kwargs: object) -> sp.Expr:
        return self.func(*args)._elementary()

    def _eval_evalf(self, prec: int) -> sp.Expr | None:
        if all(arg.is_number for arg in self.args):
            return self._elementary().evalf(prec)
        return None

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real


class sigmoid(_ActivationBase):
    """σ(z) = 1 / (1 + e^{−z})."""

    nargs = 1
    text_name, latex_name, parse_names = "σ", r"\sigma", ("sigmoid", "σ")

    def _elementary(self) -> sp.Expr:
        return 1 / (1 + sp.exp(-self.args[0]))

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sigmoid(self.args[0]) * (1 - sigmoid(self.args[0]))  # rule "sigmoid"


class relu(_ActivationBase):
    """ReLU(z) = max(0, z)."""

    nargs = 1
    text_name, latex_name, parse_names = "ReLU", r"\operatorname{ReLU}", ("relu",)

    def _elementary(self) -> sp.Expr:
        return sp.Max(0, self.args[0])

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.Heaviside(self.args[0], 0)  # rule "relu": step, 0 at z = 0


class leaky_relu(_ActivationBase):
    """Leaky ReLU(z; α) = max(αz, z) for 0 < α < 1."""

    nargs = (1, 2)
    text_name, latex_name, parse_names = "LeakyReLU", r"\operatorname{LeakyReLU}", ("leaky_relu",)

    @property
    def slope(self) -> sp.Expr:
        return self.args[1] if len(self.args) > 1 else LEAKY_RELU_DEFAULT_SLOPE

    def _elementary(self) -> sp.Expr:
        z = self.args[0]
        return sp.Piecewise((z, z >= 0), (self.slope * z, True))

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        z = self.args[0]
        if argindex != 1:
            return sp.Piecewise((0, z >= 0), (z, True))
        return sp.Piecewise((1, z > 0), (self.slope, True))  # rule "leaky_relu"


class elu(_ActivationBase):
    """ELU(z; α) = z for z > 0, α(e^z − 1) otherwise (Clevert et al., 2016)."""

    nargs = (1, 2)
    text_name, latex_name, parse_names = "ELU", r"\operatorname{ELU}", ("elu",)

    @property
    def alpha(self) -> sp.Expr:
        return self.args[1] if len(self.args) > 1 else ELU_DEFAULT_ALPHA

    def _elementary(self) -> sp.Expr:
        z = self.args[0]
        return sp.Piecewise((z, z > 0), (self.alpha * (sp.exp(z) - 1), True))

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        z = self.args[0]
        if argindex != 1:
            return sp.Piecewise((0, z > 0), (sp.exp(z) - 1, True))
        return sp.Piecewise((1, z > 0), (self.func(*self.args) + self.alpha, True))  # rule "elu"


class softplus(_ActivationBase):
    """softplus(z) = ln(1 + e^z)."""

    nargs = 1
    text_name, latex_name, parse_names = "softplus", r"\operatorname{softplus}", ("softplus",)

    def _elementary(self) -> sp.Expr:
        return sp.log(1 + sp.exp(self.args[0]))

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sigmoid(self.args[0])  # rule "softplus"


class hardlim(_ActivationBase):
    """hardlim(n) = 1 if n ≥ 0 else 0: the Rosenblatt perceptron's transfer function."""

    nargs = 1
    text_name, latex_name, parse_names = "hardlim", r"\operatorname{hardlim}", ("hardlim",)

    def _elementary(self) -> sp.Expr:
        return sp.Heaviside(self.args[0], 1)

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.Integer(0)  # rule "hardlim": zero almost everywhere, undefined at 0


NAMED_FUNCTIONS: tuple[type[_ActivationBase], ...] = (
    sigmoid,
    relu,
    leaky_relu,
    elu,
    softplus,
    hardlim,
)


def elementary(expr: sp.Expr) -> sp.Expr:
    """Rewrite every named activation in ``expr`` to its elementary definition."""
    previous = None
    while previous != expr:  # one pass can leave leaky_relu(3) from leaky_relu(leaky_relu(3))
        previous, expr = expr, expr.replace(
            lambda node: isinstance(node, _ActivationBase),
            lambda node: node._elementary(),
        )
    return expr
