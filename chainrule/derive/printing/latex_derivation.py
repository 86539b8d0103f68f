"""LaTeX printing methods (``_print_<Node>``) for the derivation objects; mixed into
:class:`chainrule.derive.printing.latex.ChainruleLatexPrinter`.

A :class:`~chainrule.derive.derivation.Derivation` prints as one ``align*`` environment (the
``environment`` setting): a row per step, ``before &= after`` with the rule's name on the right,
and beneath it the step's numbers, as worked examples in Nielsen's *NNDL* and the CS231n notes
show them. With ``environment="longtable"`` (what standalone documents use) it prints as a
step/rule table instead: :func:`step_table` sets each equation in a paragraph column where it
breaks across lines at ``=``, ``+`` and ``−`` (:func:`breakable`) and the table breaks across pages,
so a long derivation never runs off the page and every rule's name stays visible.
"""

from __future__ import annotations

import re
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
        if environment == "longtable":
            return self._derivation_table(derivation)
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

    def _derivation_table(self, derivation: Any) -> str:
        """The derivation as a :func:`step_table`: one numbered row per step, its numbers beneath."""
        rows: list[tuple[str, str, str]] = []
        for number, step in enumerate(derivation.steps, start=1):
            rows.append((f"{number}.", math_cell(f"{self._print(step.before)} = "
                                                 f"{self._print(step.after)}"), _escape(step.rule)))
            rows += [("", math_cell(self.latex_chain(chain), indent=True), "")
                     for chain in step.chains]
        derivative = self._print(sp.Derivative(derivation.expression, derivation.wrt))
        rows.append(("", math_cell(f"{derivative} = {self._print(derivation.result)}"), "result"))
        if derivation.value is not None:
            at = r",\; ".join(rf"{self._print(sp.Symbol(name))} = {self.number(v)}"
                              for name, v in derivation.values.items())
            rows.append(("", math_cell(at), "at"))
            rows.append(("", math_cell(rf"{self._print(derivation.expression)} = "
                                       rf"{self.number(derivation.value)}"), "value"))
            if derivation.derivative_value is not None:
                rows.append(("", math_cell(f"{derivative} = "
                                           f"{self.number(derivation.derivative_value)}"), "value"))
        return step_table(rows, head=("step", "rule"))

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


def step_table(rows: Sequence[tuple[str, str, str]], *, head: tuple[str, str] | None = None,
               heading: str | None = None) -> str:
    """A ``longtable`` of (label, cell, tag) rows: the cell is a ragged paragraph that wraps with a
    hanging indent, the tag sits in its own column on the right, and the table breaks across pages
    between rows (never right after ``heading``, a bold first row). Cells are LaTeX text (use
    :func:`math_cell` for an equation)."""
    spec = (r"@{}>{\raggedleft\arraybackslash}p{1.6em}@{\hspace{0.6em}}"
            r">{\raggedright\arraybackslash\hangindent=2em\hangafter=1"
            r"\lineskiplimit=3pt\lineskip=5pt}"
            r"p{\dimexpr 0.8\linewidth-2.8em\relax}@{\hspace{0.6em}}"
            r">{\raggedright\arraybackslash\small\itshape}p{0.2\linewidth}@{}")
    lines = [rf"\begin{{longtable}}{{{spec}}}"]
    if head:
        lines += [rf"& \textbf{{{head[0]}}} & \textbf{{\upshape {head[1]}}} \\", r"\hline",
                  r"\endhead"]
    if heading:
        lines.append(rf"& \textbf{{{heading}}} & \\*")  # kept on the page of the next row
    lines += [f"{label} & {cell} & {tag} \\\\ \\noalign{{\\vskip 3pt}}" for label, cell, tag in rows]
    lines.append(r"\end{longtable}")
    return "\n".join(lines)


def math_cell(math: str, *, indent: bool = False) -> str:
    """An equation as paragraph text that may break at its top-level relations and operators."""
    return (r"\hspace*{1.5em}" if indent else "") + rf"$\displaystyle {breakable(math)}$"


_LEFT = re.compile(r"\\left(\(|\[|\\\{|\.)|\\right(\)|\]|\\\}|\.)")


def breakable(math: str) -> str:
    """``math`` with ``\\left(…\\right)`` pairs turned into sized ``\\bigl(…\\bigr)`` ones (and
    the braces SymPy puts around a function's argument dropped), so that TeX may break a line at
    any ``=``, ``+`` or ``−`` inside them, as it can only at the outer level of a formula."""
    math = _unwrap_arguments(math)
    out: list[str] = []
    stack: list[int] = []  # index in ``out`` of each open \left
    pos = 0
    for match in _LEFT.finditer(math):
        out.append(math[pos:match.start()])
        pos = match.end()
        if match.group(1) is not None:
            stack.append(len(out))
            out.append(match.group(1))
            continue
        close = match.group(2)
        if not stack:
            out.append(r"\right" + close)
            continue
        opened = stack.pop()
        inner = "".join(out[opened + 1:])
        size = _delimiter_size(inner)
        out[opened] = "" if out[opened] == "." else _sized(size, "l", out[opened])
        out.append("" if close == "." else _sized(size, "r", close))
    out.append(math[pos:])
    # 𝟙[j = k] stays on one line, and a line may break before it (a product of them is long)
    return _INDICATOR.sub(r"\\allowbreak{\g<0>}", "".join(out))


_INDICATOR = re.compile(r"\\math(?:bf|bb|rm)\{1\}\[[^\[\]]*\]")


def _delimiter_size(inner: str) -> str:
    """``\\Big`` around a fraction, a sum or a root, else plain parentheses."""
    tall = (r"\frac", r"\sum", r"\prod", r"\begin", r"\sqrt", r"\Big")
    return r"\Big" if any(mark in inner for mark in tall) else ""


def _sized(size: str, side: str, delimiter: str) -> str:
    return f"{size}{side}{delimiter}" if size else delimiter


def _unwrap_arguments(math: str) -> str:
    """``\\log{\\left(x \\right)}`` → ``\\log\\left(x \\right)``: a brace group is unbreakable."""
    drop: set[int] = set()
    for match in _FUNCTION_ARGUMENT.finditer(math):
        close = _matching_brace(math, match.start(1))
        if close is not None and math[:close].rstrip().endswith(r"\right)"):
            drop.update((match.start(1), close))
    return "".join(char for i, char in enumerate(math) if i not in drop)


_FUNCTION_ARGUMENT = re.compile(r"\\(?:log|ln|exp|a?r?c?(?:sin|cos|tan)h?|max|min|sgn)(\{)\\left\(")


def _matching_brace(text: str, start: int) -> int | None:
    depth = 0
    for i in range(start, len(text)):
        if text[i] in "{}" and (i == 0 or text[i - 1] != "\\"):
            depth += 1 if text[i] == "{" else -1
            if depth == 0:
                return i
    return None


def _escape(text: str) -> str:
    """Plain text for ``\\text{}``: underscores become spaces."""
    return text.replace("_", " ").replace("&", r"\&").replace("%", r"\%").replace("#", r"\#")
