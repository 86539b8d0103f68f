"""The rule table: every differentiation rule and named identity that a derivation may cite.

One rule per line, each with its name, its formula in LaTeX and a sentence, in the table style of
SymPy Gamma's ``diffsteps.py`` and tinygrad's ``gradient.py``. Function rules also carry their
``definition`` f(x) (elementary) and their ``derivative`` f'(x) written as the named identity; the
tests prove each identity equal to ``sympy.diff`` of the definition and to central differences.

Sources: Goodfellow, Bengio & Courville, *Deep Learning* (2016), §6.3 and §7.1; Nielsen, *Neural
Networks and Deep Learning* (2015), ch. 2–3; Bishop, *PRML* (2006), §4.3; CS231n notes
"Backpropagation, Intuitions"; Hagan et al., *Neural Network Design*, ch. 4 (hardlim).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from chainrule.derive.functions import elu, hardlim, leaky_relu, relu, sigmoid, softplus
from chainrule.errors import ChainruleError

X = sp.Symbol("x", real=True)  # the variable of every function rule
T = sp.Symbol("t", real=True)  # a target
W = sp.Symbol("w", real=True)  # a weight
LAMBDA = sp.Symbol("lambda", positive=True)  # penalty strength λ
ALPHA = sp.Symbol("alpha", positive=True)  # an activation's slope α (read from the function)


@dataclass(frozen=True)
class Rule:
    """One rule: its name, formula (LaTeX), a sentence, and for function rules f(x) and f'(x)."""

    name: str
    formula: str
    description: str
    definition: sp.Expr | None = None  # f(x), elementary, in X (and T, W, LAMBDA where needed)
    derivative: sp.Expr | None = None  # f'(x) as the named identity states it
    variable: sp.Symbol = X  # the variable f' is taken with respect to
    # f'(x) where it exists, for a function with a kink at x = 0 (the "kink" step then states the
    # assumption x ≠ 0 and moves to ``derivative``, the value frameworks take there too)
    off_kink: sp.Expr | None = None
    source: str = ""  # where the rule comes from (a textbook section), shown by `chainrule rules`


_e = sp.exp
_RULES: tuple[Rule, ...] = (
    Rule("constant", r"\frac{d}{dx} c = 0", "a constant has derivative 0", source="Stewart, Calculus, ch. 3"),
    Rule("identity", r"\frac{d}{dx} x = 1", "dx/dx = 1", X, sp.S.One, source="Stewart, Calculus, ch. 3"),
    Rule("sum", r"(f + g)' = f' + g'", "(f + g)' = f' + g': differentiate term by term", source="Stewart, Calculus, ch. 3"),
    Rule("constant_multiple", r"(c f)' = c f'", "(c·f)' = c·f': the constant factor stays in front", source="Stewart, Calculus, ch. 3"),
    Rule("power", r"\frac{d}{dx} x^{n} = n x^{n-1}", "d/dx xⁿ = n·xⁿ⁻¹", X**3, 3 * X**2, source="Stewart, Calculus, ch. 3"),
    Rule("product", r"(f g)' = f' g + f g'", "(f·g)' = f'·g + f·g'", source="Stewart, Calculus, ch. 3"),
    Rule("quotient", r"\left(\frac{f}{g}\right)' = \frac{f' g - f g'}{g^{2}}", "(f/g)' = (f'·g − f·g')/g²", source="Stewart, Calculus, ch. 3"),
    Rule("chain", r"\frac{d}{dx} f(u) = f'(u) \frac{du}{dx}", "d/dx f(u) = f'(u)·du/dx: outer derivative times inner", source="Goodfellow et al., Deep Learning, §6.5.2"),
    Rule("exp", r"\frac{d}{dx} e^{x} = e^{x}", "d/dx eˣ = eˣ (and d/dx aˣ = aˣ·ln a)", _e(X), _e(X), source="Stewart, Calculus, ch. 3"),
    Rule("log", r"\frac{d}{dx} \ln x = \frac{1}{x}", "d/dx ln x = 1/x", sp.log(X), 1 / X, source="Stewart, Calculus, ch. 3"),
    Rule("sqrt", r"\frac{d}{dx} \sqrt{x} = \frac{1}{2\sqrt{x}}", "d/dx √x = 1/(2√x)", sp.sqrt(X), 1 / (2 * sp.sqrt(X)), source="Stewart, Calculus, ch. 3"),
    Rule("abs", r"\frac{d}{dx} |x| = \operatorname{sign}(x)", "d/dx |x| = sign(x), taking 0 at x = 0", sp.Abs(X), sp.sign(X), off_kink=sp.Piecewise((-1, X < 0), (1, X > 0)), source="Stewart, Calculus, ch. 3"),
    Rule("sin", r"\frac{d}{dx} \sin x = \cos x", "d/dx sin x = cos x", sp.sin(X), sp.cos(X), source="Stewart, Calculus, ch. 3"),
    Rule("cos", r"\frac{d}{dx} \cos x = -\sin x", "d/dx cos x = −sin x", sp.cos(X), -sp.sin(X), source="Stewart, Calculus, ch. 3"),
    Rule("max", r"\frac{\partial}{\partial a} \max(a, b) = \theta(a - b)", "∂max(a, b)/∂a = step(a − b): the gradient goes to the larger argument", sp.Max(X, 1), sp.Heaviside(X - 1), source="CS231n, Backpropagation, Intuitions"),
    Rule("min", r"\frac{\partial}{\partial a} \min(a, b) = \theta(b - a)", "∂min(a, b)/∂a = step(b − a): the gradient goes to the smaller argument", sp.Min(X, 1), sp.Heaviside(1 - X), source="CS231n, Backpropagation, Intuitions"),
    Rule("sigmoid", r"\sigma'(x) = \sigma(x)\left(1 - \sigma(x)\right)", "σ'(x) = σ(x)·(1 − σ(x))", 1 / (1 + _e(-X)), sigmoid(X) * (1 - sigmoid(X)), source="Goodfellow et al., Deep Learning, §3.10"),
    Rule("tanh", r"\tanh'(x) = 1 - \tanh^{2}(x)", "tanh'(x) = 1 − tanh²(x)", (_e(X) - _e(-X)) / (_e(X) + _e(-X)), 1 - sp.tanh(X) ** 2, source="Goodfellow et al., Deep Learning, §6.3.2"),
    Rule("relu", r"\operatorname{ReLU}'(x) = \theta(x)", "ReLU'(x) = step(x), taking 0 at x = 0", sp.Max(0, X), sp.Heaviside(X, 0), off_kink=sp.Piecewise((0, X < 0), (1, X > 0)), source="Goodfellow et al., Deep Learning, §6.3.1"),
    Rule("leaky_relu", r"\operatorname{LeakyReLU}'(x) = 1 \text{ if } x > 0 \text{ else } \alpha", "LeakyReLU'(x) = 1 for x > 0, else the slope α", sp.Piecewise((X, X >= 0), (X / 100, True)), leaky_relu(X).fdiff(), off_kink=sp.Piecewise((1, X > 0), (ALPHA, X < 0)), source="Maas et al. (2013); Goodfellow et al., §6.3.1"),
    Rule("elu", r"\operatorname{ELU}'(x) = 1 \text{ if } x > 0 \text{ else } \operatorname{ELU}(x) + \alpha", "ELU'(x) = 1 for x > 0, else ELU(x) + α", sp.Piecewise((X, X > 0), (_e(X) - 1, True)), elu(X).fdiff(), source="Clevert et al. (2016), ELU"),
    Rule("softplus", r"\operatorname{softplus}'(x) = \sigma(x)", "softplus'(x) = σ(x)", sp.log(1 + _e(X)), sigmoid(X), source="Goodfellow et al., Deep Learning, §3.10"),
    Rule("hardlim", r"\operatorname{hardlim}'(x) = 0", "hardlim'(x) = 0 almost everywhere (undefined at 0)", sp.Heaviside(X, 1), sp.S.Zero, source="Hagan et al., Neural Network Design, ch. 4"),
    Rule("softmax_jacobian", r"\frac{\partial s_i}{\partial z_j} = s_i(\mathbf{1}[i = j] - s_j) = \left(\operatorname{diag}(s) - s s^{T}\right)_{ij}", "∂sᵢ/∂zⱼ = sᵢ(𝟙[i = j] − sⱼ), i.e. diag(s) − s·sᵀ (𝟙[i = j] is the Kronecker delta)", source="Bishop, PRML, §4.3.4"),
    Rule("target_sum", r"\sum_i t_i = 1", "the target sums to 1 (one-hot, or a probability vector), so s_j·Σᵢ tᵢ = s_j", source="Bishop, PRML, §4.3.4"),
    Rule("softmax_ce", r"\frac{\partial}{\partial z_k}\left(-\sum_i t_i \ln s_i\right) = s_k - t_k", "softmax with cross-entropy: ∂L/∂z = s − t", source="Bishop, PRML, §4.3.4"),
    Rule("sigmoid_bce", r"\frac{\partial}{\partial z}\left(-t\ln\sigma(z) - (1-t)\ln(1-\sigma(z))\right) = \sigma(z) - t", "sigmoid with binary cross-entropy: ∂L/∂z = a − t", -(T * sp.log(1 / (1 + _e(-X))) + (1 - T) * sp.log(1 - 1 / (1 + _e(-X)))), sigmoid(X) - T, source="Bishop, PRML, §4.3.2"),
    Rule("l2_penalty", r"\frac{\partial}{\partial w} \frac{\lambda}{2} w^{2} = \lambda w", "∂(λ/2·w²)/∂w = λ·w", LAMBDA / 2 * W**2, LAMBDA * W, W, source="Goodfellow et al., Deep Learning, §7.1.1"),
    Rule("l1_penalty", r"\frac{\partial}{\partial w} \lambda |w| = \lambda \operatorname{sign}(w)", "∂(λ·|w|)/∂w = λ·sign(w)", LAMBDA * sp.Abs(W), LAMBDA * sp.sign(W), W, source="Goodfellow et al., Deep Learning, §7.1.2"),
    Rule("kink", r"x \neq 0", "the function has a kink at 0, where it has no derivative: assume x ≠ 0 (at 0 frameworks take the value this formula gives)", source="Goodfellow et al., Deep Learning, §6.3 (non-differentiable points)"),
    Rule("earlier_step", r"\text{as in step } n", "the same derivative was worked out in an earlier step: cite it, do not repeat it", source="chainrule: a step of the printed derivation"),
    Rule("rename", r"i' \to i", "rename the free indices back to the textbook's names (o′ → o), once no sum binds those names", source="chainrule: a step of the printed derivation"),
    Rule("rewrite", r"f^{g} = e^{g \ln f}", "f^g = e^(g·ln f) when both depend on x", source="logarithmic differentiation (Stewart, Calculus, §3.6)"),
    Rule("differentiate", r"\frac{d}{dx} f", "no named rule applies: SymPy differentiates it", source="SymPy's diff"),
    Rule("simplify", r"= \ldots", "put the pieces together and simplify", source="chainrule: a step of the printed derivation"),
)  # fmt: skip
RULES: dict[str, Rule] = {rule.name: rule for rule in _RULES}

# The rule that differentiates each SymPy function class (the outer function of a chain).
FUNCTION_RULES: dict[type, str] = {
    sp.exp: "exp", sp.log: "log", sp.Abs: "abs", sp.sin: "sin", sp.cos: "cos", sp.tanh: "tanh",
    sp.Max: "max", sp.Min: "min", sigmoid: "sigmoid", relu: "relu", leaky_relu: "leaky_relu",
    elu: "elu", softplus: "softplus", hardlim: "hardlim",
}  # fmt: skip


def get_rule(name: str) -> Rule:
    """Look a rule up by name, with an error that lists the known ones."""
    try:
        return RULES[name]
    except KeyError:
        raise ChainruleError(f"unknown rule {name!r}: expected one of {', '.join(RULES)}") from None


def softmax(z: Sequence[sp.Expr]) -> list[sp.Expr]:
    """softmax(z)_i = e^{z_i} / Σ_j e^{z_j} on explicit classes."""
    total = sum(sp.exp(zj) for zj in z)
    return [sp.exp(zi) / total for zi in z]


def softmax_jacobian(s: Sequence[sp.Expr]) -> sp.Matrix:
    """The named identity ∂s_i/∂z_j = diag(s) − s sᵀ, for explicit classes."""
    column = sp.Matrix(list(s))  # (n, 1)
    return sp.diag(*s) - column * column.T  # (n, n)


def softmax_ce_gradient(s: Sequence[sp.Expr], t: Sequence[sp.Expr]) -> sp.Matrix:
    """The named identity ∂(−Σ t ln s)/∂z = s − t (for Σ t = 1), for explicit classes."""
    return sp.Matrix(list(s)) - sp.Matrix(list(t))  # (n, 1)
