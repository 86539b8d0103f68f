"""Evaluate a layer equation's index expression with NumPy arrays, one output element at a time.

The expression is the one SymPy derived: named activations are rewritten to elementary functions
(:func:`chainrule.derive.functions.elementary`) and the expression is turned into Python with
``sympy.lambdify`` (sums become generator sums over ``range``, Kronecker deltas and guards become
conditionals). Tensors read as zero outside their bounds, which is the zero padding of a
convolution. This is for checking equations on small tensors (tests, worked examples), not for
training: the kernels in :mod:`chainrule.kernels` do that.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp

from chainrule.derive.functions import elementary


class ZeroPadded:
    """A read-only view of an array that returns 0 for any index outside it."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = np.asarray(array, dtype=np.float64)

    def __getitem__(self, idx: Any) -> float:
        idx = idx if isinstance(idx, tuple) else (idx,)
        for i, n in zip(idx, self.array.shape, strict=True):
            if not 0 <= i < n:
                return 0.0
        return float(self.array[idx])


def _heaviside(x: float, at_zero: float = 0.5) -> float:
    return 1.0 if x > 0 else (at_zero if x == 0 else 0.0)


def _sign(x: float) -> float:
    return float(np.sign(x))


_FUNCTIONS = {"Heaviside": _heaviside, "sign": _sign, "KroneckerDelta": lambda a, b: int(a == b)}


@lru_cache(maxsize=4096)
def _compiled(expr: sp.Expr, indices: tuple[sp.Symbol, ...]
              ) -> tuple[tuple[sp.IndexedBase, ...], tuple[sp.Symbol, ...], Any]:
    """The tensors and scalars that ``expr`` reads, and ``expr`` as a Python function of (indices,
    tensors, scalars): prepared once per expression, since lambdify is most of an evaluation's
    time and the tests evaluate one equation many times."""
    bases = tuple(sorted(expr.atoms(sp.IndexedBase), key=lambda base: base.name))
    scalars = tuple(sorted((s for s in expr.free_symbols
                            if isinstance(s, sp.Symbol) and s not in indices
                            and s not in {base.label for base in bases}), key=lambda s: s.name))
    function = sp.lambdify([*indices, *bases, *scalars], elementary(expr),
                           modules=[_FUNCTIONS, "math"])
    return bases, scalars, function


def evaluate(expr: sp.Expr, extents: Sequence[tuple[sp.Symbol, int]],
             values: Mapping[str, np.ndarray | float]) -> np.ndarray:
    """The array of ``expr`` over its free ``extents`` (index, count), given tensors and numbers.

    ``values`` maps tensor names (``"w"``, ``"a_prev"``) to arrays and size or scalar names
    (``"K"``, ``"eta"``) to numbers; every other free symbol is an error.
    """
    bases, scalars, function = _compiled(expr, tuple(idx for idx, _ in extents))
    missing = [s.name for s in [*bases, *scalars] if s.name not in values]
    if missing:
        raise KeyError(f"no values given for {missing}")
    arguments: list[Any] = [ZeroPadded(np.asarray(values[base.name])) for base in bases]
    arguments += [values[s.name] for s in scalars]
    shape = tuple(n for _, n in extents)
    out = np.zeros(shape, dtype=np.float64)
    for idx in np.ndindex(shape):
        out[idx] = function(*idx, *arguments)
    return out
