"""Step-by-step differentiation of a scalar expression, each step citing a rule of the table.

:func:`derive_expression` walks the expression tree top-down, as SymPy Gamma's ``diffsteps.py``
does: each node becomes one :class:`~chainrule.derive.derivation.Step` whose ``after`` keeps the
derivatives still to be taken as unevaluated ``Derivative`` objects, and the children follow. A
composite function f(u) gets a ``chain`` step and then the outer rule on a placeholder u. The last
step is ``simplify``. With values, every step also carries its numbers, as the lecture slides show
them: σ(3.2) = 1/(1+e^{−3.2}) = 0.9608 (CS231n notes, "Backpropagation, Intuitions").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Self

import sympy as sp
from sympy.functions.elementary.hyperbolic import HyperbolicFunction
from sympy.functions.elementary.trigonometric import TrigonometricFunction

from chainrule.derive.derivation import Derivation, Step
from chainrule.derive.functions import NAMED_FUNCTIONS, elementary
from chainrule.derive.printing.text import chain_text, number_text
from chainrule.derive.printing.text import text as unicode
from chainrule.derive.rules import ALPHA, FUNCTION_RULES, RULES
from chainrule.errors import ChainruleError

_PLACEHOLDERS = ("u", "v", "q", "p", "r")
SIMPLIFY_BUDGET = 24  # operations; sympy.simplify on anything larger is left out (too slow)
SIMPLIFY_POWER = 8  # nor does it run where a sum is raised to a larger power (it would expand it)


class Shown(sp.Symbol):
    """A number shown in a worked step: an atom that never evaluates, printed rounded."""

    def __new__(cls, value: float) -> Self:
        return super().__new__(cls, repr(float(value)), real=True)

    @property
    def number(self) -> float:
        return float(self.name)

    def _sympystr(self, printer: object) -> str:
        shown = number_text(self.number)
        return f"({shown})" if shown.startswith("-") else shown


class Argument(Shown):
    """A shown number that is a function's whole argument: σ(-1.1), never σ((-1.1))."""

    def _chainrule_text(self, printer: Any) -> str:
        return number_text(self.number, decimals=printer._settings["decimals"])

    def _chainrule_latex(self, printer: Any) -> str:
        return printer.number(self.number)


def _as_arguments(expr: sp.Expr) -> sp.Expr:
    """``expr`` with each shown number that is a function's argument made an :class:`Argument`."""
    def bare(function: sp.Expr) -> sp.Expr:
        args = [Argument(a.number) if type(a) is Shown else a for a in function.args]
        with sp.evaluate(False):
            return function.func(*args)

    return expr.replace(lambda e: isinstance(e, sp.Function) and
                        any(type(a) is Shown for a in e.args), bare)


class InOrder(sp.Expr):
    """A worked step's numbers, printed with its terms and factors in the order given.

    The printers sort the terms of a sum and the factors of a product; with numbers in place of
    symbols that order changes ("(-1.5) + 0" for "0 + (-1.5)"). :func:`in_print_order` builds the
    expression in the order of the symbolic form as printed, and this wrapper prints it unsorted
    in any printer (text, LaTeX, Markdown, JSON)."""

    def _unsorted(self, printer: Any) -> str:
        saved = printer._settings.get("order")
        printer._settings["order"] = "none"
        try:
            return printer._print(self.args[0])
        finally:
            printer._settings["order"] = saved

    _chainrule_text = _chainrule_latex = _sympystr = _latex = _unsorted


def in_print_order(expr: sp.Expr) -> sp.Expr:
    """``expr`` rebuilt unevaluated, each sum and product in the order the printers show it."""
    if expr.is_Atom:
        return expr
    if isinstance(expr, sp.Add):
        args = expr.as_ordered_terms()
    elif isinstance(expr, sp.Mul):
        args = expr.as_ordered_factors()  # splits −2 into −1, 2: join them again
        if len(args) > 2 and args[0] == -1 and args[1].is_Number:
            args = [-args[1], *args[2:]]
    else:
        args = list(expr.args)
    with sp.evaluate(False):
        return expr.func(*[in_print_order(a) for a in args])


def derive_expression(
    expr: sp.Expr, wrt: sp.Symbol, *, values: Mapping[str, object] | None = None
) -> Derivation:
    """d ``expr`` / d ``wrt`` step by step; with ``values``, the numbers at every step too."""
    numbers = _check_values(expr, values) if values is not None else None
    walker = _Walker(expr, wrt, numbers)
    raw = walker.derive(expr)
    result = simplest(raw)
    if result != raw:  # a step "x = x" teaches nothing: the result line states it
        walker.steps.append(walker.simplify_step(raw, result))
    value = derivative_value = None
    if numbers is not None:
        value = evaluate(expr, numbers, what=f"the expression {expr}")
        derivative_value = evaluate(result, numbers, what=f"the derivative {result}")
    return Derivation(expr, wrt, tuple(walker.steps), result,
                      {s.name: v for s, v in (numbers or {}).items()}, value, derivative_value)


def simplest(expr: sp.Expr) -> sp.Expr:
    """The shortest of a few simplifications of ``expr`` (by operation count; ties keep the first).

    ``sympy.simplify`` runs only on small pieces (it can take seconds on a long sum with trig
    terms), term by term on a sum. A candidate may not bring in functions that ``expr`` lacks
    (SymPy likes to turn e^{-z} into cosh): the reader should recognise the result."""
    functions = _function_types(expr)
    candidates = [expr, sp.factor_terms(expr), _small_simplify(expr)]
    if isinstance(expr, sp.Add):
        candidates.append(sp.Add(*[_small_simplify(term) for term in expr.args]))
    readable = [c for c in candidates if _function_types(c) <= functions]
    return min(readable, key=sp.count_ops)


def _small_simplify(expr: sp.Expr) -> sp.Expr:
    small = sp.count_ops(expr) <= SIMPLIFY_BUDGET and _largest_sum_power(expr) <= SIMPLIFY_POWER
    if small and expr.has(TrigonometricFunction, HyperbolicFunction):
        # trigsimp took 66 s on the 20 operations of d/dw of log((t − tanh(b + wx))⁴/4 + 1) +
        # sin(x/(w² + 1)), and its cosh/sec forms are not shown anyway (see simplest)
        return sp.factor_terms(sp.cancel(expr))
    return sp.simplify(expr) if small else expr


def _largest_sum_power(expr: sp.Expr) -> int:
    """The largest integer power of a sum in ``expr``: simplify would expand it, term by term
    (measured on a 2-core Xeon: (x+y)**64*(x-y)**64 took 8.3 s in simplify, 0.06 s without)."""
    return max((abs(int(p.exp)) for p in expr.atoms(sp.Pow) if p.exp.is_Integer and p.base.is_Add),
               default=0)


def _function_types(expr: sp.Expr) -> set[type]:
    return {type(f) for f in expr.atoms(sp.Function, sp.Max, sp.Min, sp.Heaviside)}


def evaluate(expr: sp.Expr, numbers: Mapping[sp.Symbol, float], *, what: str) -> float:
    """``expr`` as a float at ``numbers``, or a ChainruleError when it is not a finite real."""
    result = _try_evaluate(expr, numbers)
    if result is None:
        shown = ", ".join(f"{s}={number_text(v)}" for s, v in numbers.items()
                          if s in expr.free_symbols)
        raise ChainruleError(f"{what} is not a finite real number at {shown or 'these values'}")
    return result


def _try_evaluate(expr: sp.Expr, numbers: Mapping[sp.Symbol, float]) -> float | None:
    try:
        result = complex(sp.N(expr.xreplace({s: sp.Float(v) for s, v in numbers.items()}), 17))
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if result.imag != 0 or not math.isfinite(result.real):
        return None
    return result.real


def _check_values(expr: sp.Expr, values: Mapping[str, object]) -> dict[sp.Symbol, float]:
    """Map each free symbol to its float; name the missing ones and refuse vectors."""
    by_name = {s.name: s for s in expr.free_symbols}
    missing = sorted(set(by_name) - set(values))
    if missing:
        raise ChainruleError(f"no value for {', '.join(missing)}: give every variable a number, "
                             f"e.g. --at \"{','.join(f'{m}=1' for m in missing)}\"")
    numbers: dict[sp.Symbol, float] = {}
    for name, symbol in sorted(by_name.items()):
        value = values[name]
        if isinstance(value, list | tuple) or not isinstance(value, int | float):
            raise ChainruleError(f"{name} is given {value!r}, but the expression is scalar: "
                                 f"expected one number for {name}")
        numbers[symbol] = float(value)
    return numbers


class _Walker:
    """Differentiates top-down, appending one or two steps per node in pre-order."""

    def __init__(self, expr: sp.Expr, wrt: sp.Symbol, numbers: dict[sp.Symbol, float] | None):
        self.wrt = wrt
        self.numbers = numbers
        self.steps: list[Step] = []
        self.done: dict[sp.Expr, tuple[int, sp.Expr]] = {}  # node → (its first step, d node)
        self.placeholders = [sp.Symbol(n, real=True) for n in _PLACEHOLDERS
                             if sp.Symbol(n, real=True) not in expr.free_symbols and
                             sp.Symbol(n) not in expr.free_symbols]

    def derive(self, node: sp.Expr) -> sp.Expr:
        """The derivative of ``node``; records its steps, or cites them when already worked out."""
        if node in self.done:
            return self._cite(node, *self.done[node])
        start = len(self.steps)
        result = self._derive(node)
        if len(self.steps) - start > 1:  # a one-step derivative is as short as its citation
            self.done[node] = (start, result)
        return result

    def _derive(self, node: sp.Expr) -> sp.Expr:
        x = self.wrt
        if not node.has(x):
            text = f"{unicode(node)} does not depend on {x}, so its derivative is 0"
            return self._atomic("constant", node, sp.S.Zero, text)
        if node == x:
            return self._atomic("identity", node, sp.S.One, f"d{x}/d{x} = 1")
        if isinstance(node, sp.Add):
            return self._expand("sum", node, sp.Add(*[self._d(a) for a in node.args]),
                                "differentiate the sum term by term", list(node.args))
        if isinstance(node, sp.Mul):
            return self._mul(node)
        if isinstance(node, sp.Pow):
            return self._pow(node)
        if type(node) in FUNCTION_RULES:
            return self._function(node, FUNCTION_RULES[type(node)])
        return self._atomic("differentiate", node, sp.diff(node, x),
                            "no named rule: differentiated by SymPy")

    def _cite(self, node: sp.Expr, first: int, result: sp.Expr) -> sp.Expr:
        """One step for a derivative already worked out: the earlier step's number and result."""
        chains: tuple[tuple[sp.Expr, ...], ...] = ()
        value = None
        if self.numbers is not None:
            value = _try_evaluate(result, self.numbers)
            chains = ((self._d(node), Shown(value)),) if value is not None else ()
        text = f"by step {first + 1}: the same derivative, worked out there"
        self.steps.append(Step("earlier_step", self._d(node), result, text,
                               _numeric_text(chains), value, chains))
        return result

    def _d(self, node: sp.Expr) -> sp.Expr:
        return sp.Derivative(node, self.wrt)

    def _mul(self, node: sp.Mul) -> sp.Expr:
        constant, rest = node.as_independent(self.wrt, as_Add=False)
        if constant != 1:
            return self._expand("constant_multiple", node, constant * self._d(rest),
                                f"the constant factor {unicode(constant)} stays in front", [rest])
        numerator, denominator = sp.fraction(node, exact=True)
        if numerator.has(self.wrt) and denominator.has(self.wrt):
            after = (denominator * self._d(numerator) - numerator * self._d(denominator)) \
                / denominator**2
            return self._expand("quotient", node, after, "quotient rule (f/g)' = (f'g - fg')/g^2",
                                [numerator, denominator])
        factors = list(node.args)
        after = sp.Add(*[sp.Mul(*factors[:i], *factors[i + 1:]) * self._d(f)
                         for i, f in enumerate(factors)])
        return self._expand("product", node, after, "product rule (fg)' = f'g + fg'", factors)

    def _pow(self, node: sp.Pow) -> sp.Expr:
        base, exponent = node.args
        if not exponent.has(self.wrt):
            rule = "sqrt" if exponent == sp.S.Half else "power"
            return self._function(node, rule, inner=base)
        if not base.has(self.wrt):
            return self._function(node, "exp", inner=exponent)
        rewritten = sp.exp(exponent * sp.log(base))
        result = self._expand("rewrite", node, self._d(rewritten),
                              "write the variable power as an exponential", [rewritten])
        return result.xreplace({rewritten: node})  # e^{g ln f} back to f^g in the result

    def _function(self, node: sp.Expr, rule: str, *, inner: sp.Expr | None = None) -> sp.Expr:
        """A function of one dependent argument: its rule directly, or the chain rule."""
        positions = [i for i, a in enumerate(node.args)
                     if (a.has(self.wrt) if inner is None else a is inner)]
        dependent = [node.args[i] for i in positions]
        if dependent == [self.wrt]:
            text = f"{rule.replace('_', ' ')} rule: {RULES[rule].description}"
            off_kink = _off_kink(rule, self.wrt, node)
            if off_kink is None:
                return self._atomic(rule, node, sp.diff(node, self.wrt), text, forward=True)
            self._atomic(rule, node, off_kink, text, forward=True)
            return self._kink(off_kink, sp.diff(node, self.wrt), self.wrt, self.numbers)
        if len(dependent) != 1 or not self.placeholders:
            return self._chain_many(node, rule, positions)
        u_expr, u = dependent[0], self.placeholders[0]
        outer = _with_arg(node, positions[0], u)
        after = sp.diff(outer, u).xreplace({u: u_expr}) * self._d(u_expr)
        index = self._reserve()
        self._outer_step(outer, u, u_expr, rule)
        inner_result = self.derive(u_expr)
        result = after.xreplace({self._d(u_expr): inner_result})
        text = f"chain rule with {u} = {unicode(u_expr)}: the outer {rule} rule times d{u}/d{self.wrt}"
        self._fill(index, "chain", node, after, text, {u_expr: inner_result}, result)
        return result

    def _chain_many(self, node: sp.Expr, rule: str, positions: list[int]) -> sp.Expr:
        """A function of several dependent arguments: Σ ∂f/∂arg_i · d arg_i/dx."""
        u = sp.Dummy("u", real=True)
        terms = [sp.diff(_with_arg(node, i, u), u).xreplace({u: node.args[i]})
                 * self._d(node.args[i]) for i in positions]
        return self._expand("chain", node, sp.Add(*terms),
                            f"multivariable chain rule through {rule}: sum over the arguments",
                            [node.args[i] for i in positions])

    def _outer_step(self, outer: sp.Expr, u: sp.Symbol, u_expr: sp.Expr, rule: str) -> None:
        """The outer rule on the placeholder u, with numbers at u's value."""
        derivative = sp.diff(outer, u)
        off_kink = _off_kink(rule, u, outer)
        after = derivative if off_kink is None else off_kink
        chains: tuple[tuple[sp.Expr, ...], ...] = ()
        value = None
        at: dict[sp.Symbol, float] | None = None
        if self.numbers is not None:
            u_value = _try_evaluate(u_expr, self.numbers)
            if u_value is not None:
                at = {u: u_value}
                value = _try_evaluate(after, at)
                chains = (*self._forward(outer, at), self._derivative_chain(
                    sp.Derivative(outer, u), _substituted(after, {u: Shown(u_value)}), value))
        text = f"{rule.replace('_', ' ')} rule, with {u} = {unicode(u_expr)}: {RULES[rule].description}"
        self.steps.append(Step(rule, sp.Derivative(outer, u), after, text,
                               _numeric_text(chains), value, chains))
        if off_kink is not None:
            self._kink(off_kink, derivative, u, at)

    def _kink(self, off_kink: sp.Expr, derivative: sp.Expr, variable: sp.Symbol,
              at: Mapping[sp.Symbol, float] | None) -> sp.Expr:
        """The assumption step: f'(x) where it exists becomes the formula used everywhere."""
        chains: tuple[tuple[sp.Expr, ...], ...] = ()
        value = None
        if at is not None:
            value = _try_evaluate(derivative, at)
            shown = _substituted(derivative, {s: Shown(v) for s, v in at.items()})
            chains = ((shown, Shown(value)),) if value is not None and \
                not derivative.has(sp.Piecewise) else ()
        text = (f"assume {unicode(variable)} ≠ 0: there the derivative exists and equals this; "
                f"at {unicode(variable)} = 0 frameworks take this value too")
        self.steps.append(Step("kink", off_kink, derivative, text, _numeric_text(chains),
                               value, chains))
        return derivative

    def _atomic(self, rule: str, node: sp.Expr, after: sp.Expr, text: str, *,
                forward: bool = False) -> sp.Expr:
        """A leaf step: the rule gives the derivative outright."""
        chains: tuple[tuple[sp.Expr, ...], ...] = ()
        value = None
        if self.numbers is not None:
            value = _try_evaluate(after, self.numbers)
            shown = self._with_numbers(after, {})
            chains = (*(self._forward(node, self.numbers) if forward else ()),
                      self._derivative_chain(self._d(node), shown, value))
        self.steps.append(Step(rule, self._d(node), after, text, _numeric_text(chains),
                               value, chains))
        return after

    def _expand(self, rule: str, node: sp.Expr, after: sp.Expr, text: str,
                children: list[sp.Expr]) -> sp.Expr:
        """A structural step: ``after`` holds d child/dx; the children's steps follow."""
        index = self._reserve()
        results = {child: self.derive(child) for child in dict.fromkeys(children)}
        result = after.xreplace({self._d(c): r for c, r in results.items()})
        self._fill(index, rule, node, after, text, results, result)
        return result

    def _reserve(self) -> int:
        self.steps.append(Step("chain", sp.S.Zero, sp.S.Zero, ""))  # replaced by _fill
        return len(self.steps) - 1

    def _fill(self, index: int, rule: str, node: sp.Expr, after: sp.Expr, text: str,
              results: dict[sp.Expr, sp.Expr], result: sp.Expr) -> None:
        chains: tuple[tuple[sp.Expr, ...], ...] = ()
        value = None
        if self.numbers is not None:
            value = _try_evaluate(result, self.numbers)
            derivative_values = {self._d(c): _try_evaluate(r, self.numbers)
                                 for c, r in results.items()}
            shown = self._with_numbers(after, derivative_values)
            chains = (self._derivative_chain(self._d(node), shown, value),)
        self.steps[index] = Step(rule, self._d(node), after, text, _numeric_text(chains),
                                 value, chains)

    def _with_numbers(self, expr: sp.Expr, derivatives: dict[sp.Expr, float | None]) -> sp.Expr:
        """``expr`` with each known derivative and each variable replaced by a shown number, its
        terms and factors in the printed order of ``expr``."""
        known: dict[sp.Expr, sp.Expr] = {d: Shown(v) for d, v in derivatives.items()
                                         if v is not None}
        known.update({s: Shown(v) for s, v in (self.numbers or {}).items()})
        return _substituted(expr, known)

    def _forward(self, node: sp.Expr, at: Mapping[sp.Symbol, float]) -> tuple[tuple[sp.Expr, ...], ...]:
        """f(number) = its definition with the number = value, for a named activation."""
        if not isinstance(node, NAMED_FUNCTIONS) or len(node.args) != 1:
            return ()
        arg_value = _try_evaluate(node.args[0], at)
        value = _try_evaluate(node, at)
        if arg_value is None or value is None:
            return ()
        shown = node.func(Argument(arg_value))
        definition = elementary(shown)
        if definition.has(sp.Piecewise):  # "{(-1) if (-1) >= 0; …}" reads worse than nothing
            return ((shown, Shown(value)),)
        return ((shown, definition, Shown(value)),)

    @staticmethod
    def _derivative_chain(before: sp.Expr, shown: sp.Expr, value: float | None) -> tuple[sp.Expr, ...]:
        """``before = shown = value``; ``shown`` left out when it is the value already."""
        chain = [before]
        inner = shown.args[0] if isinstance(shown, InOrder) else shown
        if inner.free_symbols and not isinstance(inner, Shown) and not inner.has(sp.Piecewise) and \
                (value is None or chain_text([shown]) != number_text(value)):
            chain.append(shown)
        if value is not None:
            chain.append(Shown(value))
        return tuple(chain)

    def simplify_step(self, raw: sp.Expr, result: sp.Expr) -> Step:
        """The last step: the assembled derivative, simplified."""
        chains: tuple[tuple[sp.Expr, ...], ...] = ()
        value = None
        if self.numbers is not None:
            value = _try_evaluate(result, self.numbers)
            if value is not None:
                chains = (self._derivative_chain(result, self._with_numbers(result, {}), value),)
        text = ("put the pieces together and simplify" if raw != result
                else "put the pieces together; nothing simplifies further")
        return Step("simplify", raw, result, text, _numeric_text(chains), value, chains)


def _substituted(expr: sp.Expr, numbers: Mapping[sp.Expr, sp.Expr]) -> sp.Expr:
    """``expr`` in its printed order with ``numbers`` put in, unevaluated (no "1·1 = 1²")."""
    ordered = in_print_order(expr)
    keys = {in_print_order(k) if isinstance(k, sp.Derivative) else k: v for k, v in numbers.items()}
    with sp.evaluate(False):
        return InOrder(_as_arguments(ordered.xreplace(keys)))


def _off_kink(rule: str, variable: sp.Symbol, node: sp.Expr) -> sp.Expr | None:
    """The rule's derivative where it exists, in ``variable``, for a function with a kink (its
    slope α, for leaky ReLU, read from ``node``)."""
    off_kink = RULES[rule].off_kink
    if off_kink is None:
        return None
    return off_kink.xreplace({RULES[rule].variable: variable, ALPHA: getattr(node, "slope", ALPHA)})


def _with_arg(node: sp.Expr, position: int, replacement: sp.Expr) -> sp.Expr:
    """``node`` with its argument at ``position`` replaced (other occurrences untouched)."""
    args = list(node.args)
    args[position] = replacement
    return node.func(*args)


def _numeric_text(chains: tuple[tuple[sp.Expr, ...], ...]) -> str | None:
    """The chains as one line of Unicode text (the text printer's form)."""
    if not chains:
        return None
    return "; ".join(chain_text(chain) for chain in chains)
