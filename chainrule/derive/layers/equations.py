"""Layer equations as data: a forward equation and backward equations, each in index notation.

An :class:`Equation` is ``lhs = rhs`` where both sides are SymPy expressions over ``Indexed``
symbols, with the free indices and their extents, the textbook's matrix form of the same equation,
and the :class:`~chainrule.derive.derivation.Step` s that derived it (each citing a rule of
:mod:`chainrule.derive.rules`). A :class:`LayerDerivation` groups one layer type's equations; it is
derived once per layer *type*, with shapes as symbols, and a model instantiates those symbols
(:mod:`chainrule.derive.net`). Kernel generators read ``rhs`` directly.

Notation follows Nielsen, *Neural Networks and Deep Learning* (2015), ch. 2 (δ = ∂C/∂z).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from chainrule.derive.derivation import Step

Extent = tuple[sp.Symbol, sp.Expr]  # a free index and how many values it takes (0 … n−1)


@dataclass(frozen=True)
class Equation:
    """``lhs = rhs`` in index notation, its matrix form, and the steps that derived it."""

    name: str  # e.g. "forward", "BP1", "dC/dw"
    lhs: sp.Expr
    rhs: sp.Expr
    indices: tuple[Extent, ...]  # free indices of lhs with their extents
    matrix_latex: str  # the textbook's matrix form, e.g. r"\delta^{l} = ..."
    matrix_text: str  # the same in plain Unicode
    steps: tuple[Step, ...] = ()
    note: str = ""  # a convention worth stating (zero outside the kernel, a fixed mask, …)
    # The printed matrix form, computed as printed with NumPy from named arrays (tests check it
    # against the index form); None where the equation has no matrix form to check.
    matrix_numpy: Callable[[Mapping[str, Any]], Any] | None = field(default=None, compare=False)

    def _repr_latex_(self) -> str:  # Jupyter
        from chainrule.derive.printing.latex import latex

        return latex(self)


@dataclass(frozen=True)
class LayerDerivation:
    """One layer type: its forward equation(s) and derived backward equations."""

    kind: str  # "dense", "conv", "maxpool", "avgpool", "flatten", "softmax_ce", "dropout", …
    title: str
    citation: str
    forward: tuple[Equation, ...]
    backward: tuple[Equation, ...]
    sizes: tuple[sp.Symbol, ...] = field(default_factory=tuple)  # the shape symbols it uses

    def _repr_latex_(self) -> str:  # Jupyter: the equations, one aligned block each
        from chainrule.derive.printing.latex import latex

        return "\n".join(latex(eq) for eq in self.equations)

    @property
    def equations(self) -> tuple[Equation, ...]:
        return self.forward + self.backward

    def equation(self, name: str) -> Equation:
        """The equation called ``name`` (KeyError naming the ones there are)."""
        for eq in self.equations:
            if eq.name == name:
                return eq
        raise KeyError(f"{self.kind} has no equation {name!r}: {[e.name for e in self.equations]}")
