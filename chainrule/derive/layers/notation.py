"""The symbols of layer equations, and how each prints as text and as LaTeX.

SymPy symbol names stay plain identifiers (``w_next``, ``delta``); :data:`TEXT_NAMES` and
:data:`LATEX_NAMES` map them to what a reader sees (w⁽ˡ⁺¹⁾, ``w^{l+1}``). Index symbols are
integers, shape symbols positive integers.
"""

from __future__ import annotations

import sympy as sp


def index(name: str) -> sp.Symbol:
    """An index symbol (an integer that runs over 0 … n−1)."""
    return sp.Symbol(name, integer=True)


def size(name: str) -> sp.Symbol:
    """A shape symbol (a positive integer)."""
    return sp.Symbol(name, integer=True, positive=True)


def tensor(name: str) -> sp.IndexedBase:
    """A real-valued tensor, indexed as ``tensor(name)[i, j]``."""
    return sp.IndexedBase(sp.Symbol(name, real=True), real=True)


# name → (text, LaTeX)
_NAMES: dict[str, tuple[str, str]] = {
    "a_prev": ("a⁽ˡ⁻¹⁾", "a^{l-1}"),
    "y_prev": ("y⁽ˡ⁻¹⁾", "y^{l-1}"),
    "w_next": ("w⁽ˡ⁺¹⁾", "w^{l+1}"),
    "b_next": ("b⁽ˡ⁺¹⁾", "b^{l+1}"),
    "delta_next": ("δ⁽ˡ⁺¹⁾", r"\delta^{l+1}"),
    "delta": ("δ", r"\delta"),
    "nabla_a": ("∇ₐC", r"\nabla_{a}C"),
    "dC0_dw": ("∂C₀/∂w", r"\frac{\partial C_0}{\partial w}"),
    "w_new": ("w′", "w'"),
    "b_new": ("b′", "b'"),
    "eta": ("η", r"\eta"),
    "alpha": ("α", r"\alpha"),
    "lambda": ("λ", r"\lambda"),
    "H_out": ("H′", "H'"),
    "W_out": ("W′", "W'"),
    "M": ("M", "M"),
    "mask": ("μ", r"\mu"),
    "x_batch": ("x", "x"),
    "C_in": ("C", "C"),
    "delta_a": ("δₐ", r"\delta_{a}"),
    "C_x": ("Cₓ", "C_{x}"),
}
for _f, _v in [(f, v) for f in "CL" for v in ("w", "b", "x", "z", "a", "a_prev", "y")] + [("s", "z")]:
    _text, _latex = _NAMES.get(_v, (_v, _v))
    _NAMES[f"d{_f}_d{_v}"] = (f"∂{_f}/∂{_text}", rf"\frac{{\partial {_f}}}{{\partial {_latex}}}")
TEXT_NAMES: dict[str, str] = {k: v[0] for k, v in _NAMES.items()}
LATEX_NAMES: dict[str, str] = {k: v[1] for k, v in _NAMES.items()}


def latex_symbol_names(expr: sp.Expr) -> dict[sp.Symbol, str]:
    """The ``symbol_names`` setting for SymPy's LaTeX printer for the symbols in ``expr``."""
    found = expr.atoms(sp.Symbol) | {b.label for b in expr.atoms(sp.IndexedBase)}
    return {s: LATEX_NAMES[s.name] for s in found if s.name in LATEX_NAMES}
