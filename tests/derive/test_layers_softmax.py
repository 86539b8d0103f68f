"""Softmax with cross-entropy, as derived (s − t; diag(s) − s sᵀ), against central differences."""

from __future__ import annotations

import numpy as np
import sympy as sp
from conftest import central_difference, rel_err

from chainrule.derive.layers import evaluate, softmax_ce_layer
from chainrule.derive.layers.softmax import i, j, s, t
from chainrule.derive.output_delta import S, T, softmax_ce_delta

RNG = np.random.default_rng(5)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def test_output_error_is_s_minus_t() -> None:
    assert softmax_ce_layer().equation("dL/dz").rhs == s[j] - t[j]
    assert softmax_ce_delta() == S - T  # the same identity, derived on explicit classes


def test_sum_of_targets_is_its_own_step_that_states_the_assumption() -> None:
    """s_j Σ_i t_i − t_j → s_j − t_j uses Σt = 1: one step, citing the target_sum rule."""
    steps = softmax_ce_layer().equation("dL/dz").steps
    assumption = steps[-1]
    assert assumption.rule == "target_sum" and "Σ_i t_i = 1" in assumption.text
    assert assumption.before == s[j] * sp.Sum(t[i], (i, 0, softmax_ce_layer().sizes[0] - 1)) - t[j]
    assert assumption.after == s[j] - t[j]
    assert all(step.rule != "target_sum" for step in steps[:-1])


def test_softmax_ce_gradient_matches_finite_differences() -> None:
    z, target = RNG.normal(size=4), np.eye(4)[2]
    values = {"s": softmax(z), "t": target, "N": 4}
    derived = evaluate(softmax_ce_layer().equation("dL/dz").rhs, [(j, 4)], values)
    numeric = central_difference(lambda z_: float(-np.sum(target * np.log(softmax(z_)))), z)
    assert rel_err(derived, numeric) < 1e-6


def test_jacobian_is_diag_s_minus_s_s_transpose() -> None:
    z = RNG.normal(size=3)
    jac = evaluate(softmax_ce_layer().equation("ds/dz").rhs, [(i, 3), (j, 3)],
                   {"s": softmax(z), "N": 3})
    rows = [central_difference(lambda z_, r=r: float(softmax(z_)[r]), z) for r in range(3)]
    assert rel_err(jac, np.array(rows)) < 1e-6
    assert rel_err(jac, np.diag(softmax(z)) - np.outer(softmax(z), softmax(z))) < 1e-12
    assert sp.simplify(softmax_ce_layer().equation("ds/dz").rhs
                       - s[i] * (sp.KroneckerDelta(i, j) - s[j])) == 0
