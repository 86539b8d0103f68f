"""The multivariable chain rule over an index sum, as three recorded steps.

For a loss C that depends on θ only through outputs f_u (u running over some indices),
∂C/∂θ = Σ_u ∂C/∂f_u · ∂f_u/∂θ. :func:`chain_rule` writes that sum with the upstream gradient
``upstream[u]`` (δ in Nielsen's notation), differentiates f_u with ``sympy.diff`` (which yields
Kronecker deltas for indexed symbols), and contracts the deltas
(:func:`chainrule.derive.layers.contraction.contract`). Each stage is a :class:`Step` that names
its rule. Nielsen, *NNDL* (2015), ch. 2, proof of BP1–BP4.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from chainrule.derive.derivation import Step
from chainrule.derive.layers.contraction import contract, rename
from chainrule.derive.layers.equations import Extent
from chainrule.derive.layers.notation import tensor

Limit = tuple[sp.Symbol, sp.Expr, sp.Expr]  # (index, first, last) of a Sum


def chain_rule(
    *,
    upstream: sp.Expr,
    output: sp.Expr,
    limits: Sequence[Limit],
    wrt: sp.Indexed,
    wrt_extents: Sequence[Extent],
    names: dict[sp.Symbol, sp.Symbol] | None = None,
    local_rule: str = "sum",
    local_text: str = "differentiate the index sum term by term; ∂x_u/∂x_v = δ_uv",
    cost: str = "C",
) -> tuple[tuple[Step, ...], sp.Expr]:
    """Steps and result of ``Σ_limits upstream · ∂output/∂wrt``, deltas contracted."""
    names = names or {}
    lhs = tensor(f"d{cost}_d{wrt.base.name}")[wrt.indices]  # ∂C/∂θ as a named tensor
    unevaluated = _sum(upstream * sp.Derivative(output, wrt), limits)
    local = _sum(upstream * sp.diff(output, wrt), limits)
    result = rename(contract(local, wrt_extents), names)
    used = unevaluated.atoms(sp.Symbol) | local.atoms(sp.Symbol)
    shown = {} if any(new in used for new in names.values()) else names  # never capture a dummy
    renamed = "" if shown or not names else \
        "; rename " + ", ".join(f"{old} → {new}" for old, new in names.items())
    steps = (
        Step("chain", rename(lhs, shown), rename(unevaluated, shown),
             "chain rule over every output that the variable feeds: ∂C/∂θ = Σ_u ∂C/∂f_u · ∂f_u/∂θ"),
        Step(local_rule, rename(unevaluated, shown), rename(local, shown), local_text),
        Step("simplify", rename(local, shown), result,
             "contract the Kronecker deltas: the sums collapse onto the matching indices" + renamed),
    )
    return steps, result


def _sum(expr: sp.Expr, limits: Sequence[Limit]) -> sp.Expr:
    return sp.Sum(expr, *limits) if limits else expr
