"""BP1–BP4 and the mini-batch update, as derived, against central differences (Nielsen ch. 2)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import central_difference, rel_err

from chainrule.derive.layers import dense_layer, evaluate, minibatch_update, output_error_for_loss
from chainrule.derive.layers.dense import K, N, j, k

ACTS = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh,
        "softplus": lambda z: np.log1p(np.exp(z)),
        "elu": lambda z: np.where(z > 0, z, np.expm1(z)),
        "elu:0.5": lambda z: np.where(z > 0, z, 0.5 * np.expm1(z)),
        "leaky_relu": lambda z: np.maximum(0.01 * z, z),
        "leaky_relu:0.1": lambda z: np.maximum(0.1 * z, z)}
ALPHA = {"elu": 1.0, "elu:0.5": 0.5, "leaky_relu": 0.01, "leaky_relu:0.1": 0.1}  # α, if any
RNG = np.random.default_rng(3)
W1, B1 = RNG.normal(size=(3, 4)), RNG.normal(size=3)  # layer l: 4 → 3
W2, B2 = RNG.normal(size=(2, 3)), RNG.normal(size=2)  # layer l+1: 3 → 2
X, T = RNG.normal(size=4), RNG.normal(size=2)


def cost(a_out: np.ndarray) -> float:
    return float(0.5 * np.sum((a_out - T) ** 2) + np.sum(np.sin(a_out)))


def grad_cost(a_out: np.ndarray) -> np.ndarray:
    return central_difference(cost, a_out)


def test_forward_equation_is_w_a_plus_b() -> None:
    z = evaluate(dense_layer("tanh").equation("forward z").rhs, [(j, 3)],
                 {"w": W1, "a_prev": X, "b": B1, "K": 4})
    assert rel_err(z, W1 @ X + B1) < 1e-12


@pytest.mark.parametrize("act", sorted(ACTS))
def test_bp1_matches_finite_differences(act: str) -> None:
    g = ACTS[act]
    z_out = W2 @ g(W1 @ X + B1) + B2
    derived = evaluate(dense_layer(act, output=True).equation("BP1").rhs, [(j, 2)],
                       {"z": z_out, "nabla_a": grad_cost(g(z_out)), "alpha": ALPHA.get(act)})
    assert rel_err(derived, central_difference(lambda z: cost(g(z)), z_out)) < 1e-6


@pytest.mark.parametrize("act", sorted(ACTS))
def test_bp2_bp3_bp4_match_finite_differences(act: str) -> None:
    g = ACTS[act]
    z1 = W1 @ X + B1

    def cost_of_z1(z: np.ndarray) -> float:
        return cost(g(W2 @ g(z) + B2))

    delta_next = central_difference(lambda z: cost(g(z)), W2 @ g(z1) + B2)
    layer = dense_layer(act)
    delta = evaluate(layer.equation("BP2").rhs, [(j, 3)],
                     {"z": z1, "w_next": W2, "delta_next": delta_next, "N": 2,
                      "alpha": ALPHA.get(act)})
    assert rel_err(delta, central_difference(cost_of_z1, z1)) < 1e-6
    db = evaluate(layer.equation("BP3").rhs, [(j, 3)], {"delta": delta})
    assert rel_err(db, central_difference(lambda b: cost_of_z1(W1 @ X + b), B1)) < 1e-6
    dw = evaluate(layer.equation("BP4").rhs, [(j, 3), (k, 4)], {"delta": delta, "a_prev": X})
    assert rel_err(dw, central_difference(lambda w: cost_of_z1(w @ X + B1), W1)) < 1e-6


def test_bp1_with_half_mse_is_a_minus_t_times_sigma_prime() -> None:
    rhs = output_error_for_loss("sigmoid", "half_mse").rhs
    a, t, z = (sp.IndexedBase(sp.Symbol(n, real=True), real=True) for n in ("a", "t", "z"))
    from chainrule.derive.functions import sigmoid
    assert sp.simplify(rhs - (a[j] - t[j]) * sigmoid(z[j]) * (1 - sigmoid(z[j]))) == 0


@pytest.mark.parametrize(("loss", "cost"), [
    ("mse", lambda a, t: np.mean((t - a) ** 2)),
    ("half_mse", lambda a, t: 0.5 * np.sum((t - a) ** 2)),
    ("bce", lambda a, t: -np.mean(t * np.log(a) + (1 - t) * np.log(1 - a))),
])
def test_bp1_with_each_loss_matches_finite_differences(loss: str, cost) -> None:
    z, t = RNG.normal(size=3), np.array([0.0, 1.0, 0.3])
    sig = ACTS["sigmoid"]
    derived = evaluate(output_error_for_loss("sigmoid", loss).rhs, [(j, 3)],
                       {"z": z, "a": sig(z), "t": t, "J": 3})
    assert rel_err(derived, central_difference(lambda z_: float(cost(sig(z_), t)), z)) < 1e-6


def test_equations_stay_in_index_notation() -> None:
    layer = dense_layer("sigmoid")
    assert layer.equation("BP2").rhs.has(sp.Sum)
    assert K in layer.equation("forward z").rhs.free_symbols
    assert N in layer.equation("BP2").rhs.free_symbols
    assert [s.rule for s in layer.equation("BP4").steps] == ["chain", "sum", "simplify"]
    assert layer.equation("BP2").steps[1].rule == "sigmoid"


def test_minibatch_update_matches_finite_differences() -> None:
    from chainrule.derive.layers.minibatch import j as jj
    from chainrule.derive.layers.minibatch import k as kk
    m, batch, weights = 3, RNG.normal(size=(3, 4)), RNG.normal(size=(2, 4))
    bias, eta = RNG.normal(size=2), 0.5

    def batch_cost(w: np.ndarray, b: np.ndarray) -> float:
        z = batch @ w.T + b  # (m, 2)
        return float(np.mean(np.sum(np.tanh(z) ** 2, axis=1)))

    deltas = np.stack([central_difference(lambda z: float(np.sum(np.tanh(z) ** 2)), row)
                       for row in batch @ weights.T + bias])  # (m, 2): δ^x = ∂C_x/∂z^x
    values = {"delta": deltas, "a_prev": batch, "m": m, "eta": eta, "w": weights, "b": bias}
    update = minibatch_update()
    dw = evaluate(update.equation("dC/dw").rhs, [(jj, 2), (kk, 4)], values)
    assert rel_err(dw, central_difference(lambda w: batch_cost(w, bias), weights)) < 1e-6
    db = evaluate(update.equation("dC/db").rhs, [(jj, 2)], values)
    assert rel_err(db, central_difference(lambda b: batch_cost(weights, b), bias)) < 1e-6
    new_w = evaluate(update.equation("update w").rhs, [(jj, 2), (kk, 4)], values)
    assert rel_err(new_w, weights - eta * dw) < 1e-12


@pytest.mark.parametrize("act", ["elu", "leaky_relu", "leaky_relu:0.1", "relu", "sigmoid"])
def test_backward_equations_bind_every_index_and_contract_every_delta(act: str) -> None:
    """elu and leaky_relu used to print BP2 with ``z[p] > 0`` (p bound by nothing) and BP1 with an
    uncontracted δ(j, k)·∇ₐC[k]."""
    for layer in (dense_layer(act), dense_layer(act, output=True)):
        for eq in layer.backward:
            free = {s for s in eq.rhs.free_symbols if s.is_integer and not s.is_positive}
            assert free <= {idx for idx, _ in eq.indices}, (eq.name, eq.rhs)
            assert not eq.rhs.has(sp.KroneckerDelta), (eq.name, eq.rhs)
    bp1 = output_error_for_loss(act, "half_mse")
    assert not bp1.rhs.has(sp.KroneckerDelta) and not bp1.rhs.has(sp.Sum)


def test_leaky_relu_prints_alpha_and_states_its_value() -> None:
    from chainrule.derive.activations import ALPHA as alpha
    for name, stated in (("leaky_relu", "α = 0.01"), ("leaky_relu:0.1", "α = 0.1")):
        layer = dense_layer(name)
        for eq in (layer.equation("forward a"), layer.equation("BP2")):
            assert eq.rhs.has(alpha) and stated in eq.note
            assert not eq.rhs.has(sp.Rational(1, 100)) and not eq.rhs.has(sp.Rational(1, 10))


def test_dropout_reaches_bp2_and_the_next_layer_reads_y() -> None:
    from chainrule.derive.layers.dense import mask, y_prev
    from chainrule.derive.layers.dropout import KEEP
    from chainrule.derive.net import derive_net
    net = derive_net("mlp:2-3-1", activation="sigmoid", dropout=True)
    hidden, drop, out = net.layers[0], net.layers[1], net.layers[2]
    assert drop.derivation.kind == "dropout"
    bp2 = hidden.derivation.equation("BP2")
    assert bp2.rhs.has(mask[j]) and KEEP in bp2.rhs.free_symbols and "μˡ/p" in bp2.matrix_text
    for eq in (out.derivation.equation("forward z"), out.derivation.equation("BP4")):
        assert eq.rhs.has(y_prev[k]) and not eq.rhs.has(sp.Symbol("a_prev", real=True))
    assert "yˡ⁻¹" in out.derivation.equation("forward z").matrix_text
    # μ/p numerically: BP2 against central differences through the dropped-out layer
    z1, mu, keep = RNG.normal(size=3), np.array([1.0, 0.0, 1.0]), 0.7
    w2 = RNG.normal(size=(1, 3))
    g = ACTS["sigmoid"]

    def cost_of_z1(z: np.ndarray) -> float:
        return cost1(g(w2 @ (mu * g(z) / keep) + 0.3))

    def cost1(a_out: np.ndarray) -> float:
        return float(0.5 * np.sum((a_out - 0.2) ** 2))

    z2 = w2 @ (mu * g(z1) / keep) + 0.3
    delta2 = central_difference(lambda z: cost1(g(z)), z2)
    delta1 = evaluate(bp2.rhs, [(j, 3)], {"z": z1, "w_next": w2, "delta_next": delta2, "N": 1,
                                          "mask": mu, "p": keep})
    assert rel_err(delta1, central_difference(cost_of_z1, z1)) < 1e-6
    assert delta1[1] == 0.0
