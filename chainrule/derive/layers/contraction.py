"""Kronecker-delta contraction for derivatives of index sums (structure, not calculus).

``sympy.diff`` of ``Σ_k w[j,k]·a[k]`` with respect to ``w[p,q]`` gives
``Σ_k δ_jp·δ_kq·a[k]``; ``doit()`` contracts the sum over k and leaves ``δ_jp·a[q]`` guarded by
``Piecewise((…, 0 ≤ q ≤ K−1), (0, True))``. :func:`contract` runs that contraction and removes a
guard only when it is implied by the ranges of the free indices (a derivative is only ever asked
for an index inside its tensor), checked at the corners of those ranges, which is exact for the
linear index conditions that occur here. Guards that are real (a kernel offset that falls outside
the kernel, in a convolution's input gradient) stay.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import sympy as sp

from chainrule.derive.layers.equations import Extent

Ranges = dict[sp.Symbol, tuple[sp.Expr, sp.Expr]]


def contract(expr: sp.Expr, extents: Iterable[Extent]) -> sp.Expr:
    """Evaluate the index sums of ``expr`` (collapsing deltas) and drop implied range guards."""
    ranges = {idx: (sp.Integer(0), n - 1) for idx, n in extents}
    done = contract_deltas(expr, ranges)
    for _ in range(6):  # nested sums contract from the inside out, one level per pass
        again = done.doit().replace(lambda e: isinstance(e, sp.Piecewise),
                                    lambda e: _strip_guard(e, ranges))
        again = lift_constants(again)
        if again == done:
            break
        done = again
    return done


def contract_deltas(expr: sp.Expr, ranges: Ranges) -> sp.Expr:
    """Σ_u δ_{u,e}·f(u) → f(e), guarded by lo ≤ e ≤ hi unless ``ranges`` imply it;
    index-to-index deltas go first."""
    return expr.replace(lambda e: isinstance(e, sp.Sum), lambda e: _contract_sum(e, ranges))


def _contract_sum(total: sp.Sum, ranges: Ranges) -> sp.Expr:
    body = _distribute(total.function)
    if isinstance(body, sp.Add):
        return sp.Add(*(_contract_sum(sp.Sum(term, *total.limits), ranges) for term in body.args))
    body, limits = _merge_nested(body, list(total.limits))
    guards: list[sp.Basic] = []
    while (found := _pick_delta(body, limits)) is not None:
        var, value = found
        _, lo, hi = next(limit for limit in limits if limit[0] == var)
        limits = [limit for limit in limits if limit[0] != var]
        body = body.xreplace({var: value})
        guards += [sp.Ge(value, lo), sp.Le(value, hi)]
    kept = [guard for guard in guards if not _relation_implied(guard, ranges)]
    if kept:
        body = sp.Piecewise((body, sp.And(*kept)), (0, True))
    return sp.Sum(body, *limits) if limits else body


def _distribute(body: sp.Expr) -> sp.Expr:
    """Multiply out only the sums that hold a delta or a nested Sum (keep σ(1−σ) as it is)."""
    factors = sp.Mul.make_args(body)
    for position, factor in enumerate(factors):
        if isinstance(factor, sp.Add) and factor.has(sp.Sum, sp.KroneckerDelta):
            rest = sp.Mul(*factors[:position], *factors[position + 1:])
            return sp.Add(*(_distribute(rest * term) for term in factor.args))
    return body


def _merge_nested(body: sp.Expr, limits: list) -> tuple[sp.Expr, list]:
    """Σ_a x·(Σ_b y) = Σ_a Σ_b x·y, so that deltas in either can be contracted together."""
    factors = list(sp.Mul.make_args(body))
    for position, factor in enumerate(factors):
        if isinstance(factor, sp.Sum):
            factors[position] = factor.function
            return _merge_nested(sp.Mul(*factors), limits + list(factor.limits))
    return body, limits


def _pick_delta(body: sp.Expr, limits: list) -> tuple[sp.Symbol, sp.Expr] | None:
    """The delta to contract next: index = index first, then the innermost summation index that
    appears with coefficient ±1 (so the value it takes stays an integer)."""
    bound = [limit[0] for limit in limits]
    choices = []
    for delta in (f for f in sp.Mul.make_args(body) if isinstance(f, sp.KroneckerDelta)):
        left, right = delta.args
        difference = left - right
        for var in bound:
            coefficient = sp.diff(difference, var)
            if coefficient in (1, -1) and var not in (difference - coefficient * var).free_symbols:
                value = sp.expand(var - difference / coefficient)
                pure = left.is_Symbol and right.is_Symbol
                choices.append((0 if pure else 1, -bound.index(var), var, value))
    if not choices:
        return None
    _, _, var, value = min(choices, key=lambda choice: choice[:2])
    return var, value


def _strip_guard(piecewise: sp.Piecewise, ranges: Ranges) -> sp.Expr:
    (value, condition), *rest = piecewise.args
    if len(rest) != 1 or rest[0][0] != 0:
        return piecewise
    relations = condition.args if isinstance(condition, sp.And) else (condition,)
    kept = [rel for rel in relations if not _relation_implied(rel, ranges)]
    if not kept:
        return value
    return sp.Piecewise((value, sp.And(*kept)), (0, True))


def _relation_implied(rel: sp.Basic, ranges: Ranges) -> bool:
    if not isinstance(rel, sp.core.relational.Relational):
        return False
    free = [s for s in rel.free_symbols if s in ranges]
    if not free:
        return bool(rel == sp.true)
    for corner in itertools.product(*(ranges[s] for s in free)):
        value = rel.subs(dict(zip(free, corner, strict=True)))
        if value is sp.true:
            continue
        if value is sp.false or not isinstance(value, sp.core.relational.Relational):
            return False
        margin = _shift_positive(sp.expand(value.gts - value.lts))
        strict = isinstance(value, sp.StrictGreaterThan | sp.StrictLessThan)
        if not (margin.is_positive if strict else margin.is_nonnegative):
            return False
    return True


def _shift_positive(expr: sp.Expr) -> sp.Expr:
    """Write each positive integer symbol X as 1 + X′ (X′ ≥ 0), so that sign questions about
    sizes, such as C·H·W − 1 ≥ 0, become sums of non-negative terms."""
    shift = {sym: 1 + sp.Symbol(f"{sym.name}_shifted", integer=True, nonnegative=True)
             for sym in expr.free_symbols if sym.is_integer and sym.is_positive}
    return sp.expand(expr.xreplace(shift))


def lift_constants(expr: sp.Expr) -> sp.Expr:
    """Pull factors that do not depend on a sum's index out of it (``Σ_j c·x_j = c·Σ_j x_j``)."""
    return expr.replace(lambda e: isinstance(e, sp.Sum), _lift)


def _lift(total: sp.Sum) -> sp.Expr:
    bound = {limit[0] for limit in total.limits}
    outside: list[sp.Expr] = []
    inside: list[sp.Expr] = []
    for factor in sp.Mul.make_args(total.function):
        (inside if factor.free_symbols & bound else outside).append(factor)
    if not outside:
        return total
    return sp.Mul(*outside) * sp.Sum(sp.Mul(*inside), *total.limits)


def rename(expr: sp.Expr, names: dict[sp.Symbol, sp.Symbol]) -> sp.Expr:
    """Rename free indices (a derivative's fresh indices p, q back to the textbook's j, k).

    Nothing is renamed when a new name is already used in ``expr`` (say as a summation index),
    since that would capture it."""
    used = expr.atoms(sp.Symbol)
    if any(new in used for new in names.values()):
        return expr
    return expr.xreplace(names)
