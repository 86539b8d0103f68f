"""Markdown for derivations: a numbered list of steps with ``$…$`` LaTeX, for notes and READMEs.

:func:`step_markdown` renders any :class:`~chainrule.derive.derivation.Step`, so other derivations
reuse it. The math inside the dollars is the same LaTeX the printer in
:mod:`chainrule.derive.printing.latex` produces (GitHub and Jupyter render it with MathJax).
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from chainrule.derive.derivation import Derivation, Step
from chainrule.derive.printing.latex import ChainruleLatexPrinter
from chainrule.derive.printing.text import number_text


def step_markdown(step: Step, *, number: int | None = None) -> str:
    """One list item: ``1. **rule**: $before = after$ — sentence``, numbers on the next line."""
    printer = ChainruleLatexPrinter()
    head = f"{number}. " if number is not None else "- "
    equation = f"{printer.doprint(step.before)} = {printer.doprint(step.after)}"
    lines = [f"{head}**{step.rule}**: ${equation}$ — {step.text}"]
    lines += [f"   $\\quad {printer.latex_chain(chain)}$" for chain in step.chains]
    if not step.chains and step.numeric:
        lines.append(f"   {step.numeric}")
    return "  \n".join(lines)


def steps_markdown(steps: Sequence[Step]) -> str:
    """A numbered list of steps."""
    return "\n".join(step_markdown(step, number=i) for i, step in enumerate(steps, start=1))


def derivation_markdown(derivation: Derivation) -> str:
    """A heading, the steps, and the result (with its numbers when values were given)."""
    printer = ChainruleLatexPrinter()
    derivative = printer.doprint(sp.Derivative(derivation.expression, derivation.wrt))
    result = printer.doprint(derivation.result)
    lines = [f"### ${derivative}$", "", steps_markdown(derivation.steps), "",
             f"**Result:** ${derivative} = {result}$"]
    if derivation.value is not None:
        at = ", ".join(f"{k} = {number_text(v)}" for k, v in derivation.values.items())
        numbers = (f"value = {number_text(derivation.value)}, "
                   f"derivative = {_number(derivation.derivative_value)}")
        lines += ["", f"At {at}: {numbers}"]
    return "\n".join(lines) + "\n"


def _number(value: float | None) -> str:
    return "undefined" if value is None else number_text(value)
