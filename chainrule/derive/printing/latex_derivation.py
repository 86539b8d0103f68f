"""LaTeX printing methods (``_print_<Node>``) for the derivation objects; mixed into
:class:`chainrule.derive.printing.latex.ChainruleLatexPrinter`.

A :class:`~chainrule.derive.derivation.Derivation` prints as one ``align*`` environment (the
``environment`` setting): a row per step, ``before &= after`` with the rule's name on the right,
and beneath it the step's numbers, as worked examples in Nielsen's *NNDL* and the CS231n notes
show them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sympy as sp


class DerivationLatexMixin:
    """``_print_<Node>`` methods for derivation objects."""

    _settings: dict[str, Any]

    if TYPE_CHECKING:  # provided by sympy's LatexPrinter and ChainruleLatexPrinter
        def _print(self, expr: Any, **kwargs: Any) -> str: ...

        def number(self, value: float) -> str: ...

    def _print_Shown(self, expr: sp.Symbol) -> str:
        text = self.number(float(expr.name))
        return rf"\left({text}\right)" if text.startswith("-") else text

    def _print_Heaviside(self, expr: sp.Expr, exp: str | None = None) -> str:
        head = rf"\theta^{{{exp}}}" if exp else r"\theta"
        return rf"{head}\left({self._print(expr.args[0])}\right)"

    def _print_Derivative(self, expr: sp.Derivative) -> str:
        """d/dx for one variable in a one-variable expression, ∂/∂x otherwise; bracketed."""
        d = r"d" if len(expr.expr.free_symbols) <= 1 else r"\partial"
        operator = "".join(rf"\frac{{{d}}}{{{d} {self._print(v)}}}" for v in expr.variables)
        return rf"{operator} {self.bracket(expr.expr)}"

    def _print_Step(self, step: Any) -> str:
        """``before &= after && \\text{(rule)}``, then one row per chain of numbers."""
        rule = _escape(step.rule)
        rows = [rf"{self._print(step.before)} &= {self._print(step.after)} && \text{{{rule}}}"]
        rows += [rf"&\quad {self.latex_chain(chain)}" for chain in step.chains]
        return " \\\\\n".join(rows)

    def _print_Derivation(self, derivation: Any) -> str:
        """An ``align*`` with every step, the result and, with values, the numbers."""
        environment = self._settings["environment"]
        rows = [self._print_Step(step) for step in derivation.steps]
        expression = self._print(derivation.expression)
        derivative = self._print(sp.Derivative(derivation.expression, derivation.wrt))
        rows.append(rf"{derivative} &= {self._print(derivation.result)} && \text{{result}}")
        if derivation.value is not None:
            at = r",\; ".join(rf"{self._print(sp.Symbol(name))} = {self.number(v)}"
                              for name, v in derivation.values.items())
            rows.append(rf"{expression} &= {self.number(derivation.value)} "
                        rf"&& \text{{at }} {at}")
            if derivation.derivative_value is not None:
                rows.append(rf"{derivative} &= "
                            rf"{self.number(derivation.derivative_value)}")
        body = " \\\\\n".join(rows)
        return f"\\begin{{{environment}}}\n{body}\n\\end{{{environment}}}"

    def latex_chain(self, chain: Sequence[sp.Expr]) -> str:
        """``a = b = c``; a lone number prints without parentheses."""
        saved = self._settings["mul_symbol_latex"]
        self._settings["mul_symbol_latex"] = r" \cdot "  # (-4) \cdot 1, never "(-4) 1"
        try:
            parts = [self.number(float(e.name)) if type(e).__name__ == "Shown"
                     else self._print(e) for e in chain]
        finally:
            self._settings["mul_symbol_latex"] = saved
        return " = ".join(parts)

    def bracket(self, expr: sp.Expr) -> str:
        printed = self._print(expr)
        return printed if expr.is_Atom or isinstance(expr, sp.Function) \
            else rf"\left({printed}\right)"


def _escape(text: str) -> str:
    """Plain text for ``\\text{}``: underscores become spaces."""
    return text.replace("_", " ").replace("&", r"\&").replace("%", r"\%").replace("#", r"\#")
