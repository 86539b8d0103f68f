"""Weight penalties (regularisation) as SymPy expressions of one weight w, and their gradients.

L2: λ/2·w² (so that ∂/∂w = λw); L1: λ·|w| (∂/∂w = λ·sign(w), taking sign(0) = 0).
Summed over all weights they give λ/2·‖w‖² and λ‖w‖₁ (Goodfellow et al., *Deep Learning*, §7.1).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

W = sp.Symbol("w", real=True)  # one weight
LAMBDA = sp.Symbol("lambda", positive=True)  # penalty strength λ


@dataclass(frozen=True)
class Penalty:
    name: str
    expr: sp.Expr  # the penalty contributed by one weight

    def gradient(self) -> sp.Expr:
        """∂penalty/∂w by SymPy differentiation."""
        return sp.diff(self.expr, W).rewrite(sp.sign)


PENALTIES: dict[str, Penalty] = {
    "l2": Penalty("l2", LAMBDA / 2 * W**2),
    "l1": Penalty("l1", LAMBDA * sp.Abs(W)),
}
