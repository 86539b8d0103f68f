"""The activation registry: each activation defined once, as a SymPy expression of z.

Derivatives are never typed here: :meth:`Activation.derivative` is ``sympy.diff`` of the expression
(through the named identities of :mod:`chainrule.derive.functions`), and
:meth:`Activation.derivative_from_output` rewrites that same derivative in terms of the output
a = g(z) where the identity allows it (σ' = a(1−a), tanh' = 1−a²), which is what fused kernels use.

Follows Goodfellow, Bengio & Courville, *Deep Learning* (2016), §6.3.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from chainrule.derive.functions import elu, hardlim, leaky_relu, relu, sigmoid, softplus
from chainrule.errors import ChainruleError

Z = sp.Symbol("z", real=True)  # pre-activation (weighted input)
A = sp.Symbol("a", real=True)  # activation output


@dataclass(frozen=True)
class Activation:
    """One elementwise activation g: its name, g(z), and the rule that differentiates it."""

    name: str
    expr: sp.Expr  # g(z), in terms of Z
    rule: str  # the name of its rule in chainrule.derive.rules
    description: str

    def derivative(self) -> sp.Expr:
        """g'(z) = d g / d z, by SymPy differentiation."""
        return sp.diff(self.expr, Z)

    def derivative_from_output(self) -> sp.Expr | None:
        """g'(z) written with a = g(z) only, or ``None`` when z cannot be eliminated."""
        rewritten = self.derivative().subs(self.expr, A)
        return None if Z in rewritten.free_symbols else sp.simplify(rewritten)

    def at(self, z: sp.Expr) -> sp.Expr:
        """g applied to another expression."""
        return self.expr.subs(Z, z)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("sigmoid", sigmoid(Z), "sigmoid", "logistic σ(z) = 1/(1+e^{-z})"),
        Activation("tanh", sp.tanh(Z), "tanh", "hyperbolic tangent"),
        Activation("relu", relu(Z), "relu", "max(0, z); ReLU'(0) = 0"),
        Activation("leaky_relu", leaky_relu(Z), "leaky_relu", "max(0.01z, z)"),
        Activation("elu", elu(Z), "elu", "z if z > 0 else e^z − 1"),
        Activation("softplus", softplus(Z), "softplus", "ln(1 + e^z)"),
        Activation("linear", Z, "identity", "identity g(z) = z"),
        Activation("hardlim", hardlim(Z), "hardlim", "1 if z ≥ 0 else 0 (perceptron)"),
    )
}


def get_activation(name: str) -> Activation:
    """Look an activation up by name, with an error that lists the known ones."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ChainruleError(
            f"unknown activation {name!r}: expected one of {', '.join(ACTIVATIONS)}"
        ) from None
