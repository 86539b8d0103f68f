"""L2/L1 penalties in the gradient and update, and inverted dropout, against central differences."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import central_difference, rel_err

from chainrule.derive.layers import dropout as drop
from chainrule.derive.layers import dropout_layer, evaluate, regularised_layer
from chainrule.derive.layers.regularisation import j, k

RNG = np.random.default_rng(13)
WEIGHTS = RNG.uniform(0.2, 1.0, size=(2, 3)) * RNG.choice([-1, 1], size=(2, 3))  # away from 0
LAM, ETA = 0.3, 0.1


def base_cost(w: np.ndarray) -> float:
    return float(np.sum(np.sin(w) * np.arange(1, 7).reshape(2, 3)))


PENALTY = {"l2": lambda w: LAM / 2 * np.sum(w**2), "l1": lambda w: LAM * np.sum(np.abs(w))}


@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_penalised_gradient_matches_finite_differences(penalty: str) -> None:
    grad0 = central_difference(base_cost, WEIGHTS)
    values = {"w": WEIGHTS, "dC0_dw": grad0, "lambda": LAM, "eta": ETA}
    layer = regularised_layer(penalty)
    derived = evaluate(layer.equation("dC/dw").rhs, [(j, 2), (k, 3)], values)
    numeric = central_difference(lambda w: base_cost(w) + PENALTY[penalty](w), WEIGHTS)
    assert rel_err(derived, numeric) < 1e-6
    updated = evaluate(layer.equation("update").rhs, [(j, 2), (k, 3)], values)
    assert rel_err(updated, WEIGHTS - ETA * numeric) < 1e-6


def test_l2_update_is_weight_decay() -> None:
    from chainrule.derive.layers.regularisation import ETA as eta_sym
    from chainrule.derive.layers.regularisation import LAMBDA, grad0, w
    rhs = regularised_layer("l2").equation("update").rhs
    assert (rhs - ((1 - eta_sym * LAMBDA) * w[j, k] - eta_sym * grad0[j, k])).expand() == 0
    assert regularised_layer("l2").equation("dC/dw").steps[-1].rule == "l2_penalty"


def test_dropout_forward_and_backward_with_a_fixed_mask() -> None:
    a, keep = RNG.normal(size=6), 0.5
    mask = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 1.0])
    upstream = RNG.normal(size=6)
    values = {"a": a, "mask": mask, "p": keep, "dC_dy": upstream}
    layer = dropout_layer()
    forward = evaluate(layer.equation("forward").rhs, [(drop.j, 6)], values)
    assert rel_err(forward, mask * a / keep) < 1e-12
    derived = evaluate(layer.equation("dC/da").rhs, [(drop.j, 6)], values)
    numeric = central_difference(lambda a_: float(np.sum(upstream * mask * a_ / keep)), a)
    assert rel_err(derived, numeric) < 1e-6
    assert np.all(derived[mask == 0] == 0)
