"""The activation registry: each activation defined once, as a SymPy expression of z.

Derivatives are never typed here: :meth:`Activation.derivative` is ``sympy.diff`` of the expression
(through the named identities of :mod:`chainrule.derive.functions`), and
:meth:`Activation.derivative_from_output` rewrites that same derivative in terms of the output
a = g(z) where the identity allows it (σ' = a(1−a), tanh' = 1−a²), which is what fused kernels use.

An entry may own one parameter (leaky ReLU's slope α, default 0.01; ELU's α, default 1), with its
symbol, default and valid range. ``NAME:VALUE`` selects a value (``leaky_relu:0.1``), parsed here so
that every command that takes an activation name takes it. :attr:`Activation.symbolic` keeps α as a
symbol (what derivations print, with :attr:`Activation.note` stating its value), and
:attr:`Activation.expr` has the value put in (what kernels print, as a constant).

Each entry also names the weight initialisation that suits it (:attr:`Activation.init_family`):
"he" for the ReLU family, "xavier" otherwise; :mod:`chainrule.train.init` reads it from here.

Follows Goodfellow, Bengio & Courville, *Deep Learning* (2016), §6.3.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Literal

import sympy as sp

from chainrule.derive.functions import (
    ELU_DEFAULT_ALPHA,
    LEAKY_RELU_DEFAULT_SLOPE,
    elu,
    hardlim,
    leaky_relu,
    relu,
    sigmoid,
    softplus,
)
from chainrule.errors import ChainruleError

Z = sp.Symbol("z", real=True)  # pre-activation (weighted input)
A = sp.Symbol("a", real=True)  # activation output
ALPHA = sp.Symbol("alpha", positive=True)  # an activation's parameter α (a slope or a scale)
# He (He et al., ICCV 2015) for the ReLU family, Xavier/Glorot (AISTATS 2010) for the others.
InitFamily = Literal["he", "xavier"]


@dataclass(frozen=True)
class Parameter:
    """An activation's one parameter: its symbol, default and the interval it must lie in."""

    symbol: sp.Symbol
    default: sp.Rational
    low: sp.Rational  # included
    high: sp.Rational | None  # excluded; None for no upper bound
    meaning: str  # "slope for z < 0"

    def interval(self) -> str:
        return f"[{_decimal(self.low)}, {'∞' if self.high is None else _decimal(self.high)})"

    def parse(self, activation: str, text: str) -> sp.Rational:
        """The value written in ``text`` (a decimal or a fraction p/q), checked; never sympified."""
        value = _number(text.strip())
        if value is None or value < self.low or (
                self.high is not None and value >= self.high):
            raise ChainruleError(f"{activation}: {self.symbol.name.replace('alpha', 'α')} must be a "
                                 f"finite number in {self.interval()}, got {text!r}")
        return sp.Rational(value.numerator, value.denominator)


@dataclass(frozen=True)
class Activation:
    """One elementwise activation g: its name, g(z), and the rule that differentiates it.

    ``expr`` is g(z) with the parameter's value put in; ``symbolic`` keeps the parameter as its
    symbol (None for an activation without one)."""

    name: str  # "leaky_relu", or "leaky_relu:0.1" for a value other than the default
    expr: sp.Expr  # g(z), in terms of Z
    rule: str  # the name of its rule in chainrule.derive.rules
    description: str
    init_family: InitFamily  # the weight initialisation of a layer it follows
    text_name: str  # how the function is written in a layer's matrix form: σ, ReLU, id
    latex_name: str
    parameter: Parameter | None = None
    value: sp.Rational | None = None  # the parameter's value
    template: sp.Expr | None = None  # g(z; α) with α as a symbol

    @property
    def base(self) -> str:
        """The registry name without the parameter ("leaky_relu" for "leaky_relu:0.1")."""
        return self.name.partition(":")[0]

    @property
    def symbolic(self) -> sp.Expr:
        """g(z) with the parameter as its symbol α (what a derivation prints)."""
        return self.template if self.template is not None else self.expr

    @property
    def values(self) -> dict[sp.Symbol, sp.Expr]:
        """{α: value} for the parameter, {} without one."""
        return {} if self.parameter is None else {self.parameter.symbol: self.value}

    @property
    def note(self) -> str:
        """States the parameter's value, e.g. "α = 0.01, the slope for z < 0"; "" without one."""
        if self.parameter is None:
            return ""
        return f"α = {_decimal(self.value)}, the {self.parameter.meaning}"

    def derivative(self) -> sp.Expr:
        """g'(z) = d g / d z, by SymPy differentiation."""
        return sp.diff(self.expr, Z)

    def derivative_from_output(self) -> sp.Expr | None:
        """g'(z) written with a = g(z) only, or ``None`` when z cannot be eliminated."""
        rewritten = self.derivative().subs(self.expr, A)
        return None if Z in rewritten.free_symbols else sp.simplify(rewritten)

    def at(self, z: sp.Expr, *, symbolic: bool = False) -> sp.Expr:
        """g applied to another expression (with α as a symbol if ``symbolic``)."""
        return (self.symbolic if symbolic else self.expr).subs(Z, z)

    def with_value(self, text: str) -> Activation:
        """This activation with its parameter set from ``text`` (``"0.1"``, ``"1/10"``)."""
        if self.parameter is None:
            raise ChainruleError(f"activation {self.base!r} takes no parameter, got "
                                 f"{self.base}:{text}")
        value = self.parameter.parse(self.base, text)
        if value == self.value:
            return self
        name = self.base if value == self.parameter.default else f"{self.base}:{_decimal(value)}"
        return replace(self, name=name, value=value,
                       expr=self.symbolic.subs(self.parameter.symbol, value))


def _number(text: str) -> Fraction | None:
    """A decimal (0.1, 1e-2) or a fraction (1/10) read exactly; None for anything else."""
    if re.fullmatch(r"[+-]?\d{1,20}/\d{1,20}", text):
        numerator, denominator = text.split("/")
        return Fraction(int(numerator), int(denominator)) if int(denominator) else None
    try:
        number = float(text)
    except ValueError:
        return None
    return Fraction(repr(number)) if math.isfinite(number) else None  # 0.1 is exactly 1/10


def _decimal(value: sp.Rational) -> str:
    """0.01 for 1/100; p/q when the decimal would not terminate (1/3)."""
    number = Fraction(int(value.p), int(value.q))
    denominator = number.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator != 1:
        return f"{number.numerator}/{number.denominator}"
    digits = 0
    while (number * 10**digits).denominator != 1:
        digits += 1
    return f"{float(number):.{digits}f}" if digits <= 15 else str(number)


def _parametric(name: str, function: type[sp.Function], parameter: Parameter, rule: str,
                description: str, *, init_family: InitFamily) -> Activation:
    """The registry entry, at the default value (written g(z), the function's own default)."""
    return Activation(name, function(Z), rule, description, init_family,
                      *_written(function), parameter, parameter.default,
                      function(Z, parameter.symbol))


def _written(function: type[sp.Function]) -> tuple[str, str]:
    """(text, LaTeX) names of a function class of chainrule.derive.functions, which owns them."""
    return function.text_name, function.latex_name


_SLOPE = Parameter(ALPHA, LEAKY_RELU_DEFAULT_SLOPE, sp.Integer(0), sp.Integer(1), "slope for z < 0")
_SCALE = Parameter(ALPHA, ELU_DEFAULT_ALPHA, sp.Integer(0), None, "scale for z < 0")

ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("sigmoid", sigmoid(Z), "sigmoid", "logistic σ(z) = 1/(1+e^{-z})",
                   "xavier", *_written(sigmoid)),
        Activation("tanh", sp.tanh(Z), "tanh", "hyperbolic tangent", "xavier", "tanh", r"\tanh"),
        Activation("relu", relu(Z), "relu", "max(0, z); ReLU'(0) = 0", "he", *_written(relu)),
        _parametric("leaky_relu", leaky_relu, _SLOPE, "leaky_relu",
                    "max(αz, z); α = 0.01 unless given as leaky_relu:α, 0 ≤ α < 1",
                    init_family="he"),
        _parametric("elu", elu, _SCALE, "elu",
                    "z if z > 0 else α(e^z − 1); α = 1 unless given as elu:α, α ≥ 0",
                    init_family="he"),
        Activation("softplus", softplus(Z), "softplus", "ln(1 + e^z)", "xavier",
                   *_written(softplus)),
        Activation("linear", Z, "identity", "identity g(z) = z", "xavier", "id",
                   r"\operatorname{id}"),
        Activation("hardlim", hardlim(Z), "hardlim", "1 if z ≥ 0 else 0 (perceptron)", "xavier",
                   *_written(hardlim)),
    )
}


def get_activation(name: str) -> Activation:
    """Look an activation up by name, ``NAME`` or ``NAME:VALUE`` for one with a parameter, with
    an error that lists the known ones."""
    base, colon, value = name.partition(":")
    try:
        entry = ACTIVATIONS[base.strip()]
    except KeyError:
        raise ChainruleError(
            f"unknown activation {name!r}: expected one of {', '.join(ACTIVATIONS)} "
            "(leaky_relu:α and elu:α set α)"
        ) from None
    return entry.with_value(value) if colon else entry
