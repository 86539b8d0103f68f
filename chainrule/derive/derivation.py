"""Derivations: an ordered list of steps, each citing the rule it applies.

A :class:`Step` records the rule's name (a key of :data:`chainrule.derive.rules.RULES`), the
expression before and after, a sentence, and, when values are given, the same step with numbers.
A :class:`Derivation` is the whole chain and ends in the simplified result. The printers in
:mod:`chainrule.derive.printing` render both (``_print_Step``, ``_print_Derivation``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp


@dataclass(frozen=True)
class Step:
    """One step: ``before`` becomes ``after`` by ``rule``; ``numeric`` shows it with numbers."""

    rule: str
    before: sp.Expr
    after: sp.Expr
    text: str
    numeric: str | None = None  # e.g. "σ(3.2) = 1/(1+e^{-3.2}) = 0.9608"
    value: float | None = None  # the numeric value of ``after`` at the given point
    # Equality chains with numbers in, for printers to typeset in any format, e.g.
    # ((σ(3.2), 1/(1 + e^{-3.2}), 0.9608),); numbers are chainrule.derive.steps.Shown atoms.
    chains: tuple[tuple[sp.Expr, ...], ...] = ()


@dataclass(frozen=True)
class Derivation:
    """d ``expression`` / d ``wrt``, step by step, ending in ``result``."""

    expression: sp.Expr
    wrt: sp.Symbol
    steps: tuple[Step, ...]
    result: sp.Expr
    values: dict[str, float] = field(default_factory=dict)
    value: float | None = None  # the expression at ``values``
    derivative_value: float | None = None  # the result at ``values``

    def _repr_latex_(self) -> str:
        """Jupyter renders a derivation as its ``align*`` (printer imported late: no cycle)."""
        from chainrule.derive.printing.latex import latex

        return latex(self)
