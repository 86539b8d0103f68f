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


def test_piecewise_derivative_is_contracted_at_the_free_index() -> None:
    """sympy.diff folds ELU′'s Piecewise over the sums: the delta hides inside the branches and the
    condition escapes the sum that binds its index. chain_rule keeps g′ unevaluated until the
    deltas are contracted, then applies the rule as its own step."""
    from chainrule.derive.activations import ALPHA
    from chainrule.derive.functions import elu, leaky_relu
    from chainrule.derive.layers.chain import chain_rule

    z, up = tensor("z"), tensor("up")
    for function in (elu, leaky_relu):
        output = sp.Sum(w[k, p] * function(z[p], ALPHA), (p, 0, K - 1))
        steps, rhs = chain_rule(upstream=up[k], output=output, limits=[(k, 0, N - 1)], wrt=z[q],
                                wrt_extents=[(q, K)], names={q: j}, local_rule=function.__name__)
        expected = function(z[j], ALPHA).fdiff(1) * sp.Sum(up[k] * w[k, j], (k, 0, N - 1))
        assert rhs == expected
        assert [s.rule for s in steps] == ["chain", "sum", "simplify", function.__name__]
        assert steps[2].after.has(sp.Derivative) and not steps[2].after.has(sp.KroneckerDelta)
