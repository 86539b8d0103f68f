"""Unicode text for derivations: one-line expressions (σ(z)·(1 - σ(z))) and rich renderables.

:class:`TextPrinter` is SymPy's ``StrPrinter`` taught the neural-network names; :func:`step_text`
and :func:`derivation_table` render any :class:`~chainrule.derive.derivation.Step` list, so other
derivations (graphs, neurons, layers) reuse them. The layout follows SymPy Gamma's step listing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import sympy as sp
from sympy.printing.str import StrPrinter

from chainrule.derive.derivation import Derivation, Step


class TextPrinter(StrPrinter):
    """SymPy's str printer with σ, ReLU, step(z), |x|, d/dx and rounded shown numbers."""

    printmethod = "_chainrule_text"
    _default_settings: ClassVar[dict[str, Any]] = {**StrPrinter._default_settings, "decimals": 4}

    def _print_Function(self, expr: sp.Expr) -> str:
        name = getattr(type(expr), "text_name", None)  # owned by chainrule.derive.functions
        if name is None and not any(_is_shown(a) for a in expr.args):
            return super()._print_Function(expr)
        name = name or type(expr).__name__
        return f"{name}({', '.join(self._argument(a) for a in expr.args)})"

    def _print_Heaviside(self, expr: sp.Expr) -> str:
        return f"step({self._argument(expr.args[0])})"

    def _argument(self, arg: sp.Expr) -> str:
        """A function's argument; a shown number without brackets: σ(-1), never σ((-1))."""
        if _is_shown(arg):
            return number_text(float(arg.name), decimals=self._settings["decimals"])
        return self._print(arg)

    def _print_exp(self, expr: sp.Expr) -> str:
        power = self._print(expr.args[0])
        return f"e^{power}" if expr.args[0].is_Atom and not power.startswith("-") else f"e^({power})"

    def _print_Abs(self, expr: sp.Expr) -> str:
        return f"|{self._print(expr.args[0])}|"

    def _print_Derivative(self, expr: sp.Derivative) -> str:
        variables = "".join(f"d{self._print(v)}" for v in expr.variables)
        inner = self._print(expr.expr)
        if not expr.expr.is_Atom:
            inner = f"({inner})"
        return f"d/{variables} {inner}"

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        parts = [f"{self._print(value)} otherwise" if cond == sp.true
                 else f"{self._print(value)} if {self._print(cond)}" for value, cond in expr.args]
        return "{" + "; ".join(parts) + "}"

    def _print_Shown(self, expr: sp.Symbol) -> str:
        text = number_text(float(expr.name), decimals=self._settings["decimals"])
        return f"({text})" if text.startswith("-") else text

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        indices = ",".join(self._print(i) for i in expr.indices)
        return f"{self._print(expr.base)}[{indices}]"

    def _print_IndexedBase(self, expr: sp.IndexedBase) -> str:
        return self._print(expr.label)

    def _print_Idx(self, expr: sp.Idx) -> str:
        return self._print(expr.label)

    def _print_Sum(self, expr: sp.Sum) -> str:
        limits = ",".join(f"{self._print(i)}={self._print(lo)}..{self._print(hi)}"
                          for i, lo, hi in expr.limits)
        return f"Σ_{{{limits}}} ({self._print(expr.function)})"

    def _print_KroneckerDelta(self, expr: sp.KroneckerDelta) -> str:
        return kronecker_text(self._print(expr.args[0]), self._print(expr.args[1]))

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return {"lambda": "λ", "alpha": "α"}.get(expr.name) or super()._print_Symbol(expr)


KRONECKER = "𝟙"  # the Kronecker delta is the indicator 𝟙[i = j] (LaTeX \mathbf{1}): δ is the error


def kronecker_text(i: str, j: str) -> str:
    """The Kronecker delta δᵢⱼ as the indicator ``𝟙[i = j]``, as LaTeX and Markdown print it too."""
    return f"{KRONECKER}[{i} = {j}]"


def _is_shown(expr: sp.Basic) -> bool:
    return type(expr).__name__ == "Shown"  # chainrule.derive.steps.Shown (imported late: no cycle)


def number_text(value: float, *, decimals: int = 4) -> str:
    """A number rounded to ``decimals`` places, trailing zeros dropped: 0.9608, -4, 3.2."""
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def text(expr: Any, **settings: Any) -> str:
    """One line of Unicode text for a SymPy expression: ``σ(z)·(1 - σ(z))``."""
    printed = TextPrinter(settings).doprint(expr)
    return printed.replace("**", "^").replace("*", "·")


def chain_text(chain: Sequence[sp.Expr]) -> str:
    """An equality chain ``a = b = c``; a lone number prints without parentheses."""
    parts = [number_text(float(e.name)) if type(e).__name__ == "Shown" else text(e)
             for e in chain]
    return " = ".join(parts)


def step_text(step: Step) -> str:
    """A step as one line: ``before = after``."""
    return f"{text(step.before)} = {text(step.after)}"


def step_numbers_text(step: Step) -> str:
    """The step's numbers as one line (empty when it has none)."""
    if step.chains:
        return "; ".join(chain_text(chain) for chain in step.chains)
    return step.numeric or ""


def derivation_table(derivation: Derivation) -> Any:
    """A rich renderable: a table of rule | step | numbers, then the result."""
    from rich.console import Group

    title = f"d/d{text(derivation.wrt)} of {text(derivation.expression)}"
    table = steps_table(derivation.steps, title=title)
    return Group(table, *[line for line in result_lines(derivation)])


def steps_table(steps: Sequence[Step], *, title: str | None = None) -> Any:
    """A rich Table of any steps: rule | step (and its sentence) | numbers."""
    from rich.table import Table

    table = Table(title=title, show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("rule", style="bold cyan")
    table.add_column("step")
    with_numbers = any(step.chains or step.numeric for step in steps)
    if with_numbers:
        table.add_column("numbers")
    for number, step in enumerate(steps, start=1):
        row = [str(number), step.rule, f"{step_text(step)}\n[dim]{_escape(step.text)}[/dim]"]
        if with_numbers:
            row.append(step_numbers_text(step))
        table.add_row(*row)
    return table


def result_lines(derivation: Derivation) -> list[str]:
    """The result, and with values the expression's and derivative's numbers."""
    derivative = text(sp.Derivative(derivation.expression, derivation.wrt))
    lines = [f"{derivative} = {text(derivation.result)}"]
    if derivation.value is not None:
        at = ", ".join(f"{k} = {number_text(v)}" for k, v in derivation.values.items())
        lines.append(f"at {at}: value = {number_text(derivation.value)}, "
                     f"derivative = {number_text(_or_nan(derivation.derivative_value))}")
    return lines


def derivation_text(derivation: Derivation) -> str:
    """The whole derivation as plain lines of text (no rich markup)."""
    lines = [f"d/d{text(derivation.wrt)} of {text(derivation.expression)}"]
    for number, step in enumerate(derivation.steps, start=1):
        lines.append(f"{number:>2}. [{step.rule}] {step_text(step)}    ({step.text})")
        numbers = step_numbers_text(step)
        if numbers:
            lines.append(f"      {numbers}")
    return "\n".join([*lines, *result_lines(derivation)])


def _escape(value: str) -> str:
    return value.replace("[", r"\[")


def _or_nan(value: float | None) -> float:
    return float("nan") if value is None else value
