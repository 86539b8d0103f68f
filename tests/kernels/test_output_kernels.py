"""The fused output kernels (loss + BP1) against SymPy's loss and finite differences of it."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from chainrule.derive.activations import A, Z, get_activation
from chainrule.derive.functions import elementary
from chainrule.derive.losses import T, get_loss
from chainrule.kernels.cpu.output import loss_factor, output_source, softmax_ce_source
from chainrule.kernels.registry import get_backend

RNG = np.random.default_rng(3)
Z_IN = RNG.standard_normal((3, 4))  # (batch, n_out)
BIAS = RNG.standard_normal(4) * 0.1
TARGET = RNG.uniform(0.1, 0.9, (3, 4))


def reference_loss(activation: str, loss: str, z: np.ndarray) -> float:
    """The batch mean of the loss's vector form, evaluated by SymPy-lambdified scalars."""
    g = sp.lambdify(Z, elementary(get_activation(activation).expr), "math")
    unit = sp.lambdify((A, T), get_loss(loss).scalar, "math")
    total = sum(unit(g(zz), tt) for zz, tt in zip((z + BIAS).ravel(), TARGET.ravel(), strict=True))
    return loss_factor(loss, z.shape[1]) * total / z.shape[0]


@pytest.mark.parametrize(("activation", "loss"), [
    ("sigmoid", "bce"), ("sigmoid", "mse"), ("linear", "mse"), ("linear", "half_mse"),
    ("tanh", "half_mse"), ("softplus", "mse"), ("elu", "mse")])
def test_output_layer_loss_and_delta(activation: str, loss: str) -> None:
    kernel = get_backend("cpu").output(activation, loss)
    a, delta = np.empty_like(Z_IN), np.empty_like(Z_IN)
    scale = loss_factor(loss, 4) / 3
    value = kernel.output_layer(Z_IN, BIAS, TARGET, a, delta, scale)
    assert value == pytest.approx(reference_loss(activation, loss, Z_IN), rel=1e-12)
    numeric = np.zeros_like(Z_IN)
    for idx in np.ndindex(Z_IN.shape):
        up, down = Z_IN.copy(), Z_IN.copy()
        up[idx] += 1e-6
        down[idx] -= 1e-6
        numeric[idx] = (reference_loss(activation, loss, up)
                        - reference_loss(activation, loss, down)) / 2e-6
    np.testing.assert_allclose(delta, numeric, rtol=1e-6, atol=1e-9)


def test_loss_factors_come_from_the_vector_forms() -> None:
    assert loss_factor("mse", 4) == 0.25
    assert loss_factor("bce", 5) == 0.2
    assert loss_factor("half_mse", 4) == 1.0


def test_softmax_ce_layer_against_numpy() -> None:
    kernel = get_backend("cpu").softmax_ce()
    t = np.eye(4)[[1, 3, 0]]
    s, delta = np.empty_like(Z_IN), np.empty_like(Z_IN)
    value = kernel.softmax_ce_layer(Z_IN, BIAS, t, s, delta, 1 / 3)
    logits = Z_IN + BIAS
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(s, probs, rtol=1e-13)
    assert value == pytest.approx(-np.sum(t * np.log(probs)) / 3, rel=1e-13)
    np.testing.assert_allclose(delta, (probs - t) / 3, rtol=1e-12, atol=1e-15)
    inferred = np.empty_like(s)
    kernel.softmax(Z_IN, BIAS, inferred)
    np.testing.assert_allclose(inferred, probs, rtol=1e-13)


def test_softmax_is_stable_for_large_logits() -> None:
    kernel = get_backend("cpu").softmax_ce()
    z = np.array([[1000.0, 0.0, -1000.0]])
    s, delta = np.empty_like(z), np.empty_like(z)
    value = kernel.softmax_ce_layer(z, np.zeros(3), np.array([[0.0, 1.0, 0.0]]), s, delta, 1.0)
    assert value == pytest.approx(1000.0)
    assert np.all(np.isfinite(s))


def test_cross_entropy_textbook_value_e8() -> None:
    # E8: H = -Σ t ln s with t = [0, 1, 0], s = [0.228, 0.619, 0.153] → 0.4797
    logits = np.log(np.array([[0.228, 0.619, 0.153]]))
    s, delta = np.empty_like(logits), np.empty_like(logits)
    value = get_backend("cpu").softmax_ce().softmax_ce_layer(
        logits, np.zeros(3), np.array([[0.0, 1.0, 0.0]]), s, delta, 1.0)
    assert round(value, 4) == 0.4797
    assert math.isclose(delta[0, 1], 0.619 - 1, rel_tol=1e-9)


def test_sources_print_bp1_from_output_delta() -> None:
    assert "# BP1: dL/dz = a - t  (derive/output_delta.py)\n    return a - t\n" in \
        output_source("sigmoid", "bce")
    assert "    return s - t\n" in softmax_ce_source()
