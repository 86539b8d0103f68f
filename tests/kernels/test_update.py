"""Optimiser steps against NumPy formulas; the penalty gradient is printed from derive/penalties."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.kernels.update import adam_update, momentum_update, sgd_update, update_source

W0 = np.array([[0.5, -1.5], [0.0, 2.0]])
G = np.array([[0.1, -0.2], [0.3, 0.05]])


def penalised(w: np.ndarray, g: np.ndarray, l2: float, l1: float) -> np.ndarray:
    return g + l2 * w + l1 * np.sign(w)  # E21: λw and λ·sign(w), sign(0) = 0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sgd_with_penalties(dtype: type) -> None:
    w = W0.astype(dtype)
    sgd_update(w, G.astype(dtype), lr=0.1, l2=0.01, l1=0.001)
    np.testing.assert_allclose(w, W0 - 0.1 * penalised(W0, G, 0.01, 0.001), rtol=1e-6)


def test_momentum_two_steps() -> None:
    w, v = W0.copy(), np.zeros_like(W0)
    ref_w, ref_v = W0.copy(), np.zeros_like(W0)
    for _ in range(2):
        momentum_update(w, G, v, lr=0.1, beta=0.9, l2=0.01)
        ref_v = 0.9 * ref_v + penalised(ref_w, G, 0.01, 0.0)
        ref_w = ref_w - 0.1 * ref_v
    np.testing.assert_allclose(w, ref_w, rtol=1e-14)
    np.testing.assert_allclose(v, ref_v, rtol=1e-14)


def test_adam_three_steps() -> None:
    w, m, v = W0.copy(), np.zeros_like(W0), np.zeros_like(W0)
    ref_w, ref_m, ref_v = W0.copy(), np.zeros_like(W0), np.zeros_like(W0)
    for step in (1, 2, 3):
        adam_update(w, G, m, v, step=step, lr=0.01, l1=0.001)
        g = penalised(ref_w, G, 0.0, 0.001)
        ref_m = 0.9 * ref_m + 0.1 * g
        ref_v = 0.999 * ref_v + 0.001 * g * g
        m_hat, v_hat = ref_m / (1 - 0.9**step), ref_v / (1 - 0.999**step)
        ref_w = ref_w - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-8)
    np.testing.assert_allclose(w, ref_w, rtol=1e-13)


def test_adam_step_counts_from_one() -> None:
    with pytest.raises(ValueError, match="counts from 1"):
        adam_update(W0.copy(), G, np.zeros_like(W0), np.zeros_like(W0), step=0, lr=0.1)


def test_penalty_gradient_is_printed_from_derive() -> None:
    assert "    return g + l1*(1.0 if w > 0 else (-1.0 if w < 0 else 0.0)) + l2*w\n" in update_source()
