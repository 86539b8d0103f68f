"""The Kronecker-delta contraction helper (structure, not calculus) and index renaming."""

from __future__ import annotations

import sympy as sp

from chainrule.derive.layers.contraction import contract, contract_deltas, rename
from chainrule.derive.layers.notation import index, size, tensor

i, j, k, p, q = (index(n) for n in "ijkpq")
K, N = size("K"), size("N")
a, w = tensor("a"), tensor("w")


def test_delta_against_an_index_collapses_the_sum() -> None:
    expr = sp.Sum(sp.KroneckerDelta(k, q) * a[k], (k, 0, K - 1))
    assert contract(expr, [(q, K)]) == a[q]


def test_guard_kept_when_the_free_index_may_fall_outside() -> None:
    expr = sp.Sum(sp.KroneckerDelta(k, q) * a[k], (k, 0, K - 1))
    kept = contract(expr, [(q, N)])  # q runs over N values, the sum over K: not implied
    assert isinstance(kept, sp.Piecewise)


def test_delta_with_an_offset_solves_for_the_unit_coefficient_index() -> None:
    s = size("s")
    expr = sp.Sum(sp.KroneckerDelta(q, i * s + k) * a[k], (i, 0, N - 1), (k, 0, K - 1))
    result = contract_deltas(expr, {q: (sp.Integer(0), K - 1)})
    body = result.function  # the sum over i stays; k = q − i·s, never i = (q − k)/s
    assert result.limits == ((i, 0, N - 1),)
    assert body.args[0][0] == a[q - i * s]


def test_nested_sums_merge_and_index_to_index_deltas_go_first() -> None:
    f, c, h = index("f"), index("c"), index("h")
    c2, h2 = index("c'"), index("h'")
    C, H = size("C"), size("H")
    delta = tensor("delta")
    inner = sp.Sum(sp.KroneckerDelta(f, c * H + h) * sp.KroneckerDelta(c, c2)
                   * sp.KroneckerDelta(h, h2), (c, 0, C - 1), (h, 0, H - 1))
    expr = sp.Sum(delta[f] * inner, (f, 0, C * H - 1))
    assert contract(expr, [(c2, C), (h2, H)]) == delta[c2 * H + h2]


def test_constant_factors_leave_the_sum() -> None:
    expr = sp.Sum(sp.Symbol("g") * w[k, j], (k, 0, K - 1))
    assert contract(expr, []) == sp.Symbol("g") * sp.Sum(w[k, j], (k, 0, K - 1))


def test_rename_never_captures_a_summation_index() -> None:
    expr = sp.Sum(w[p, k], (k, 0, K - 1)) * a[q]
    assert rename(expr, {q: k}) == expr  # k is bound: nothing renamed
    assert rename(expr, {q: j}) == sp.Sum(w[p, k], (k, 0, K - 1)) * a[j]
