"""The multivariable chain rule over an index sum, as three recorded steps.

For a loss C that depends on θ only through outputs f_u (u running over some indices),
∂C/∂θ = Σ_u ∂C/∂f_u · ∂f_u/∂θ. :func:`chain_rule` writes that sum with the upstream gradient
``upstream[u]`` (δ in Nielsen's notation), differentiates f_u with ``sympy.diff`` (which yields
Kronecker deltas for indexed symbols), and contracts the deltas
(:func:`chainrule.derive.layers.contraction.contract`). Each stage is a :class:`Step` that names
its rule. Nielsen, *NNDL* (2015), ch. 2, proof of BP1–BP4.

An activation whose derivative is piecewise (leaky ReLU, ELU) stays an unevaluated derivative
g′(z_p) until the deltas are contracted, and its rule is applied as a fourth step: SymPy folds a
Piecewise over the sums around it, which would hide the deltas from the contraction and move the
condition ``z_p > 0`` out of the sum that binds p.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from chainrule.derive.derivation import Step
from chainrule.derive.functions import NAMED_FUNCTIONS
from chainrule.derive.layers.contraction import contract, lift_constants, rename
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
    local_text: str = "differentiate the index sum term by term; ∂x_u/∂x_v = 𝟙[u = v]",
    cost: str = "C",
) -> tuple[tuple[Step, ...], sp.Expr]:
    """Steps and result of ``Σ_limits upstream · ∂output/∂wrt``, deltas contracted."""
    names = names or {}
    lhs = tensor(f"d{cost}_d{wrt.base.name}")[wrt.indices]  # ∂C/∂θ as a named tensor
    unevaluated = _sum(upstream * sp.Derivative(output, wrt), limits)
    masked, unmask = _mask_piecewise_derivatives(output)
    local = _sum(upstream * sp.diff(masked, wrt), limits).replace(*unmask) if unmask else \
        _sum(upstream * sp.diff(output, wrt), limits)
    fresh = contract(_sum(upstream * sp.diff(masked, wrt), limits), wrt_extents)
    contracted = rename(fresh, names)
    result = contracted.replace(*unmask) if unmask else contracted
    ruled = lift_constants(_apply_rules(result)) if unmask else result
    used = unevaluated.atoms(sp.Symbol) | local.atoms(sp.Symbol)
    shown = {} if any(new in used for new in names.values()) else names  # never capture a dummy
    renamed = "" if shown or not names else \
        "; rename " + ", ".join(f"{old} → {new}" for old, new in names.items())
    contraction = "contract the Kronecker deltas: the sums collapse onto the matching indices"
    steps: tuple[Step, ...] = (
        Step("chain", rename(lhs, shown), rename(unevaluated, shown),
             "chain rule over every output that the variable feeds: ∂C/∂θ = Σ_u ∂C/∂f_u · ∂f_u/∂θ"),
        Step("sum" if unmask else local_rule, rename(unevaluated, shown), rename(local, shown),
             local_text + ("; the activation's derivative stays g′ until the deltas are contracted"
                           if unmask else "")),
        Step("simplify", rename(local, shown), (fresh.replace(*unmask) if unmask else fresh)
             if renamed else result, contraction),
    )
    if renamed:  # the steps kept the fresh names (o′ …); the result goes back to the textbook's
        steps += (Step("rename", lhs.xreplace(names), result, renamed.removeprefix("; ")),)
    if unmask:
        steps += (Step(local_rule, result, ruled, "apply the activation's derivative rule"),)
    return steps, ruled


def _mask_piecewise_derivatives(output: sp.Expr) -> tuple[sp.Expr, tuple]:
    """``output`` with each named activation whose derivative is a Piecewise replaced by an
    undefined function of the same name, and the (masked class, real class) pair to undo it (one
    kind of such activation per expression, which is all a layer has)."""
    found = {node.func for node in output.atoms(sp.Function)
             if isinstance(node, NAMED_FUNCTIONS) and node.fdiff(1).has(sp.Piecewise)}
    if len(found) != 1:
        return output, ()
    real = found.pop()
    stand_in = sp.Function(real.__name__, real=True)
    return output.replace(real, stand_in), (stand_in, real)


def _apply_rules(expr: sp.Expr) -> sp.Expr:
    """Evaluate the derivatives of named activations (each by its rule, its fdiff)."""
    return expr.replace(lambda e: isinstance(e, sp.Derivative), lambda e: e.doit())


def _sum(expr: sp.Expr, limits: Sequence[Limit]) -> sp.Expr:
    return sp.Sum(expr, *limits) if limits else expr
