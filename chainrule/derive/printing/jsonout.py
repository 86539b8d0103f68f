"""JSON payloads for derivations, as the CLI contract in DESIGN.md fixes them.

A derivation gives ``expression``, ``derivative``, ``steps`` (each ``rule``, ``text``, ``latex``,
and more) and, with values, ``value`` and ``derivative_value``. Expressions appear in SymPy's
syntax (``expression``, ``derivative``), in Unicode (``*_text``) and in LaTeX (``*_latex``).
:func:`step_to_json` serves any :class:`~chainrule.derive.derivation.Step` list.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from chainrule.derive.derivation import Derivation, Step
from chainrule.derive.printing.latex import ChainruleLatexPrinter, latex
from chainrule.derive.printing.text import chain_text, text


def step_to_json(step: Step) -> dict[str, Any]:
    """``rule``, ``text``, ``latex`` (before = after), ``before``, ``after``, and the numbers."""
    payload: dict[str, Any] = {
        "rule": step.rule,
        "text": step.text,
        "latex": f"{latex(step.before)} = {latex(step.after)}",
        "before": text(step.before),
        "after": text(step.after),
    }
    if step.chains or step.numeric:
        payload["numeric"] = ("; ".join(chain_text(c) for c in step.chains)
                              if step.chains else step.numeric)
    if step.chains:
        printer = ChainruleLatexPrinter()
        payload["numeric_latex"] = [printer.latex_chain(chain) for chain in step.chains]
    if step.value is not None:
        payload["value"] = float(step.value)
    return payload


def derivation_to_json(derivation: Derivation) -> dict[str, Any]:
    """The whole derivation as one JSON object (plain floats)."""
    payload: dict[str, Any] = {
        "expression": sp.sstr(derivation.expression),
        "wrt": str(derivation.wrt),
        "derivative": sp.sstr(derivation.result),
        "expression_text": text(derivation.expression),
        "derivative_text": text(derivation.result),
        "expression_latex": latex(derivation.expression),
        "derivative_latex": latex(derivation.result),
        "steps": [step_to_json(step) for step in derivation.steps],
        "rules": sorted({step.rule for step in derivation.steps}),
    }
    if derivation.values:
        payload["values"] = {k: float(v) for k, v in derivation.values.items()}
    if derivation.value is not None:
        payload["value"] = float(derivation.value)
    if derivation.derivative_value is not None:
        payload["derivative_value"] = float(derivation.derivative_value)
    return payload
