"""The fused reduction + step kernels against NumPy: the rules, the reductions, STORE, inf/NaN."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.kernels.fused_step import ParamUpdates, StepRule, flat, store_updates
from chainrule.kernels.update import Rule, hyperparameters, update_module, update_source

W0 = np.array([[0.5, -1.5], [0.0, 2.0]])
G = np.array([[0.1, -0.2], [0.3, 0.05]])
NONE = np.zeros(0)
RNG = np.random.default_rng(4)


def penalised(w: np.ndarray, g: np.ndarray, l2: float, l1: float) -> np.ndarray:
    return g + l2 * w + l1 * np.sign(w)  # E21: λw and λ·sign(w), sign(0) = 0


def apply(w: np.ndarray, g: np.ndarray, kind: Rule, first: np.ndarray, second: np.ndarray,
          **hyper: float) -> int:
    return update_module().apply(w.reshape(-1), g.reshape(-1), int(kind), first.reshape(-1),
                                 second.reshape(-1), hyperparameters(**hyper))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sgd_with_penalties(dtype: type) -> None:
    w = W0.astype(dtype)
    assert apply(w, G.astype(dtype), Rule.SGD, NONE, NONE, lr=0.1, l2=0.01, l1=0.001) == 0
    np.testing.assert_allclose(w, W0 - 0.1 * penalised(W0, G, 0.01, 0.001), rtol=1e-6)


def test_momentum_two_steps() -> None:
    w, v = W0.copy(), np.zeros_like(W0)
    ref_w, ref_v = W0.copy(), np.zeros_like(W0)
    for _ in range(2):
        apply(w, G, Rule.MOMENTUM, v, NONE, lr=0.1, beta1=0.9, l2=0.01)
        ref_v = 0.9 * ref_v + penalised(ref_w, G, 0.01, 0.0)
        ref_w = ref_w - 0.1 * ref_v
    np.testing.assert_allclose(w, ref_w, rtol=1e-14)
    np.testing.assert_allclose(v, ref_v, rtol=1e-14)


def test_adam_three_steps() -> None:
    w, m, v = W0.copy(), np.zeros_like(W0), np.zeros_like(W0)
    ref_w, ref_m, ref_v = W0.copy(), np.zeros_like(W0), np.zeros_like(W0)
    for step in (1, 2, 3):
        apply(w, G, Rule.ADAM, m, v, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8,
              correction1=1 - 0.9**step, correction2=1 - 0.999**step, l1=0.001)
        g = penalised(ref_w, G, 0.0, 0.001)
        ref_m = 0.9 * ref_m + 0.1 * g
        ref_v = 0.999 * ref_v + 0.001 * g * g
        m_hat, v_hat = ref_m / (1 - 0.9**step), ref_v / (1 - 0.999**step)
        ref_w = ref_w - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-8)
    np.testing.assert_allclose(w, ref_w, rtol=1e-13)


def test_store_writes_the_gradient_and_leaves_the_parameter() -> None:
    w, out = W0.copy(), np.zeros_like(W0)
    assert apply(w, G, Rule.STORE, out, NONE, lr=0.1, l2=0.5) == 0
    np.testing.assert_array_equal(out, G)  # no penalty, no step: the loss gradient alone
    np.testing.assert_array_equal(w, W0)


def test_values_that_become_inf_or_nan_are_counted() -> None:
    w = np.array([1.0, 2.0, 3.0])
    assert apply(w, np.array([np.inf, 0.0, np.nan]), Rule.SGD, NONE, NONE, lr=0.1) == 2
    w32 = np.array([1.0, 2.0], dtype=np.float32)  # finite in float64, inf once stored in float32
    assert apply(w32, np.array([1e39, 0.0]), Rule.SGD, NONE, NONE, lr=1.0) == 1


def test_a_division_by_zero_gives_a_counted_non_finite_value_not_an_exception() -> None:
    """The kernels are compiled with NumPy's error model: x/0 is ±inf or NaN, which the NaN stop
    counts. (Numba's default, Python's model, raises ZeroDivisionError and pays a branch per
    division, which kept the Adam loop from vectorising: 3.02 -> 0.81 ms on 401k weights,
    bench/kernel_micro.py.)"""
    w, m, v = np.array([1.0, 2.0]), np.zeros(2), np.zeros(2)
    bad = apply(w, np.array([0.5, 0.0]), Rule.ADAM, m, v, lr=0.01, beta1=0.9, beta2=0.999,
                eps=1e-8, correction1=0.0, correction2=1.0)
    assert bad == 2  # 0.05/0 = inf in one weight, 0/0 = NaN in the other
    assert np.isneginf(w[0]) and np.isnan(w[1])


def test_penalty_gradient_is_printed_from_derive() -> None:
    assert "    return g + l1*(1.0 if w > 0 else (-1.0 if w < 0 else 0.0)) + l2*w\n" in update_source()


def sgd_updates(params: dict[str, np.ndarray], lr: float, l2: float) -> ParamUpdates:
    hyper = hyperparameters(lr=lr, l2=l2)
    rules = {key: StepRule(Rule.SGD, hyper, np.zeros(0)) for key in params}
    return ParamUpdates(rules, {key: np.empty_like(p) for key, p in params.items()})


def test_bias_reduction_fused_with_the_step() -> None:
    delta = RNG.standard_normal((5, 3, 4))  # (batch, channels, positions)
    b = RNG.standard_normal(3)
    expected = b - 0.1 * delta.sum(axis=(0, 2))  # biases carry no penalty: l2 is the caller's
    updates = sgd_updates({"b": b}, lr=0.1, l2=0.0)
    updates.bias("b", b, delta)
    np.testing.assert_allclose(b, expected, rtol=1e-13)
    assert updates.nonfinite == 0


def test_bp2_bp3_fused_with_the_step() -> None:
    grad_a, d = RNG.standard_normal((2, 4, 6)), RNG.standard_normal((2, 4, 6))
    b, delta = np.zeros(4), np.empty((2, 4, 6))
    sgd_updates({"b": b}, lr=0.5, l2=0.0).delta_bias("b", b, grad_a, d, delta)
    np.testing.assert_array_equal(delta, grad_a * d)  # BP2
    np.testing.assert_allclose(b, -0.5 * (grad_a * d).sum(axis=(0, 2)), rtol=1e-13)  # BP3 + step


@pytest.mark.parametrize(("batch", "n_out", "n_in"), [(3, 4, 5), (64, 40, 300)])  # 1 | 2 blocks
def test_dense_weight_reduction_fused_with_the_step(batch: int, n_out: int, n_in: int) -> None:
    delta, x = RNG.standard_normal((batch, n_out)), RNG.standard_normal((batch, n_in))
    w = RNG.standard_normal((n_out, n_in))
    expected = w - 0.1 * (delta.T @ x + 0.01 * w)  # BP4 δᵀx with the L2 gradient
    sgd_updates({"w": w}, lr=0.1, l2=0.01).dense_weight("w", w, delta, x)
    np.testing.assert_allclose(w, expected, rtol=1e-12, atol=1e-12)


def test_conv_weight_reduction_by_cols_fused_with_the_step() -> None:
    cols = RNG.standard_normal((3, 18, 7))  # (batch, c_in·k·k, Ho·Wo)
    delta = RNG.standard_normal((3, 4, 7))  # (batch, f, Ho·Wo)
    w = RNG.standard_normal((4, 2, 3, 3))
    grad = np.einsum("nfp,ncp->fc", delta, cols).reshape(w.shape)  # Σₙ δₙ colsₙᵀ
    expected = w - 0.2 * grad
    sgd_updates({"w": w}, lr=0.2, l2=0.0).conv_weight_cols("w", w, cols, delta)
    np.testing.assert_allclose(w, expected, rtol=1e-12, atol=1e-12)


def test_store_updates_write_the_reductions_into_the_gradients() -> None:
    delta, x = RNG.standard_normal((6, 3)), RNG.standard_normal((6, 5))
    w, dw, db = RNG.standard_normal((3, 5)), np.empty((3, 5)), np.empty(3)
    updates = store_updates({"w": dw, "b": db})
    updates.dense_weight("w", w, delta, x)
    updates.bias("b", np.zeros(3), delta.reshape(6, 3, 1))
    np.testing.assert_allclose(dw, delta.T @ x, rtol=1e-13)
    np.testing.assert_allclose(db, delta.sum(axis=0), rtol=1e-13)


def test_a_strided_parameter_is_refused() -> None:
    with pytest.raises(ValueError, match=r"must be C-contiguous .* for shape \(3, 2\)"):
        flat(np.zeros((2, 3)).T, "layer0.weight")


def test_the_readme_excerpt_is_the_generated_source() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    excerpt = readme.split("```python\ndef penalised", 1)[1].split("```", 1)[0]
    source = update_source()
    for line in ("def penalised" + excerpt).splitlines():
        if line.strip() and not line.endswith("..."):  # the README elides one long comment
            assert line in source.splitlines(), line


@pytest.mark.parametrize("blocks", [2, 3])
def test_reductions_in_several_blocks(blocks: int) -> None:
    """rows_step and cols_step split between threads (one thread under `make test`, so the
    wrappers choose one block; here the kernels are called with several)."""
    hyper, none = hyperparameters(lr=0.1), np.zeros(0)
    delta_t, x = RNG.standard_normal((5, 6)), RNG.standard_normal((6, 4))  # δᵀ (n_out, batch), x
    w, scratch = RNG.standard_normal(20), np.empty((5, 4))
    expected = w - 0.1 * (delta_t @ x).reshape(-1)
    update_module().rows_step(delta_t, x, w, scratch, int(Rule.SGD), none, none, hyper, blocks)
    np.testing.assert_allclose(w, expected, rtol=1e-12, atol=1e-12)
    cols, delta = RNG.standard_normal((3, 8, 5)), RNG.standard_normal((3, 4, 5))
    wc, scratch_c = RNG.standard_normal(32), np.empty((4, 8))
    expected_c = wc - 0.1 * np.einsum("nfp,ncp->fc", delta, cols).reshape(-1)
    update_module().cols_step(cols, delta, wc, scratch_c, int(Rule.SGD), none, none, hyper, blocks)
    np.testing.assert_allclose(wc, expected_c, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(64, 128, 1), (5, 6, 49), (3, 1, 7)])
def test_bias_reductions_give_the_same_bits_in_any_blocks(shape: tuple[int, int, int]) -> None:
    """BP3 and BP2 + BP3 in one block (the caller's thread, no parallel region) and in several:
    each channel's sum runs in the same order, so the parameters and deltas are identical, and
    they match NumPy's float64 sums."""
    hyper, none, module = hyperparameters(lr=0.1), np.zeros(0, np.float32), update_module()
    grad_a, d = (RNG.standard_normal(shape).astype(np.float32) for _ in range(2))
    bias = RNG.standard_normal(shape[1]).astype(np.float32)
    results = []
    for blocks in (1, 2, 3):
        p, scratch, delta = bias.copy(), np.empty_like(bias), np.empty_like(grad_a)
        module.delta_bias_step(grad_a, d, delta, p, scratch, int(Rule.SGD), none, none, hyper,
                               blocks)
        q, scratch_q = bias.copy(), np.empty_like(bias)
        module.bias_step(grad_a, q, scratch_q, int(Rule.SGD), none, none, hyper, blocks)
        results.append((p, delta, q))
    for p, delta, q in results[1:]:
        for got, first in zip((p, delta, q), results[0]):
            assert np.array_equal(got, first)
    product = grad_a.astype(np.float64) * d
    np.testing.assert_allclose(results[0][0], bias - 0.1 * product.sum(axis=(0, 2)), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(results[0][2], bias - 0.1 * grad_a.sum(axis=(0, 2), dtype=np.float64),
                               rtol=1e-5, atol=1e-5)


def test_sgd_in_the_product_counts_values_that_become_inf() -> None:
    """SGD without L1 steps inside BLAS's product; the values it makes non-finite are counted."""
    delta = np.full((2, 3), 1e30, np.float32)
    x, w = np.full((2, 4), 1e30, np.float32), np.zeros((3, 4), np.float32)
    updates = sgd_updates({"w": w}, lr=0.1, l2=0.0)
    updates.dense_weight("w", w, delta, x)
    assert updates.nonfinite == 12 and np.isinf(w).all()


def test_sgd_coefficients_are_the_rules_derivatives() -> None:
    import sympy as sp

    from chainrule.derive.penalties import W as w
    from chainrule.kernels.update import penalty_symbols, rate_symbol, sgd_coefficients

    l2, _, g = penalty_symbols()
    alpha, beta = sgd_coefficients(w, g + l2 * w)
    assert (alpha, sp.expand(beta)) == (-rate_symbol(), 1 - rate_symbol() * l2)
    with pytest.raises(ValueError, match="not affine"):
        sgd_coefficients(w, g + l2 * w ** 2)
