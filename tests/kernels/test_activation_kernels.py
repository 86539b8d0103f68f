"""The fused bias + activation + derivative kernels against SymPy, for every activation."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from chainrule.derive.activations import ACTIVATIONS, Z
from chainrule.derive.functions import elementary
from chainrule.kernels.cpu.activation import activation_source
from chainrule.kernels.registry import get_backend

Z_VALUES = np.array([[[-2.5, -0.3, 0.4], [1.2, 3.0, -1.1]]])  # (batch 1, channels 2, positions 3)
BIAS = np.array([0.1, -0.2])


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bias_act_matches_sympy(name: str, dtype: type) -> None:
    act = ACTIVATIONS[name]
    g = sp.lambdify(Z, elementary(act.expr), "math")
    g_prime = sp.lambdify(Z, elementary(act.derivative()), "math")
    z, b = Z_VALUES.astype(dtype), BIAS.astype(dtype)
    a, d = np.empty_like(z), np.empty_like(z)
    kernels = get_backend("cpu").activation(name)
    kernels.bias_act(z, b, a, d)
    shifted = (Z_VALUES + BIAS[None, :, None]).ravel()
    tol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(a.ravel(), [g(v) for v in shifted], rtol=tol, atol=tol)
    np.testing.assert_allclose(d.ravel(), [g_prime(v) for v in shifted], rtol=tol, atol=tol)
    inferred = np.empty_like(z)
    kernels.bias_act_infer(z, b, inferred)
    np.testing.assert_array_equal(inferred, a)


def test_source_names_the_rule_and_the_identity() -> None:
    source = activation_source("sigmoid")
    assert "# g'(z) = d/dz sigmoid(z) = (1 - sigmoid(z))*sigmoid(z)  (sympy.diff, rule 'sigmoid')" \
        in source
    assert "    return a*(1.0 - a)\n" in source
    assert "@njit(cache=True, error_model=\"numpy\", parallel=True)\ndef bias_act(z, b, a, d):" in source


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_bias_act_rows_is_bias_act_with_one_position(name: str) -> None:
    rng = np.random.default_rng(3)
    z = rng.standard_normal((5, 7)).astype(np.float32) * 3  # (batch, channels)
    b = rng.standard_normal(7).astype(np.float32)
    kernels = get_backend("cpu").activation(name)
    a, d = np.empty_like(z), np.empty_like(z)
    kernels.bias_act(z[:, :, None], b, a[:, :, None], d[:, :, None])
    a_rows, d_rows = np.empty_like(z), np.empty_like(z)
    kernels.bias_act_rows(z, b, a_rows, d_rows)
    np.testing.assert_array_equal(a_rows, a)
    np.testing.assert_array_equal(d_rows, d)
