"""Optimiser state objects against NumPy references; the penalty gradient comes from derive."""

import numpy as np
import pytest
import sympy as sp

from chainrule.derive.penalties import LAMBDA, PENALTIES, W
from chainrule.errors import ChainruleError
from chainrule.train.optim import Adam, Momentum, Optimizer, make_optimizer

L2_GRAD = sp.lambdify((W, LAMBDA), PENALTIES["l2"].gradient(), "numpy")  # λw
L1_GRAD = sp.lambdify((W, LAMBDA), PENALTIES["l1"].gradient(), "numpy")  # λ sign(w)


def setup():
    rng = np.random.default_rng(3)
    params = {"layer0.weight": rng.normal(size=(3, 2)), "layer0.bias": rng.normal(size=3)}
    grads = [{k: rng.normal(size=v.shape) for k, v in params.items()} for _ in range(3)]
    return params, grads


def penalty(key, w, l2, l1):
    return 0 * w if key.endswith("bias") else L2_GRAD(w, l2) + L1_GRAD(w, l1)


@pytest.mark.parametrize(("l2", "l1"), [(0.0, 0.0), (0.1, 0.0), (0.0, 0.05), (0.1, 0.05)])
def test_sgd(l2, l1):
    params, grads = setup()
    expected = {k: v.copy() for k, v in params.items()}
    optimizer = make_optimizer("sgd", params, lr=0.3, l2=l2, l1=l1)
    for g in grads:
        optimizer.step(params, g)
        for k in list(expected):
            expected[k] = expected[k] - 0.3 * (g[k] + penalty(k, expected[k], l2, l1))
    for k in params:
        np.testing.assert_allclose(params[k], expected[k], rtol=1e-12)


def test_momentum():
    params, grads = setup()
    expected = {k: v.copy() for k, v in params.items()}
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    optimizer = make_optimizer("momentum", params, lr=0.1, l2=0.01, beta=0.8)
    for g in grads:
        optimizer.step(params, g)
        for k in list(expected):
            velocity[k] = 0.8 * velocity[k] + g[k] + penalty(k, expected[k], 0.01, 0.0)
            expected[k] = expected[k] - 0.1 * velocity[k]
    for k in params:
        np.testing.assert_allclose(params[k], expected[k], rtol=1e-12)
        np.testing.assert_allclose(optimizer.velocity[k], velocity[k], rtol=1e-12)


def test_adam():
    params, grads = setup()
    expected = {k: v.copy() for k, v in params.items()}
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(a) for k, a in params.items()}
    optimizer = make_optimizer("adam", params, lr=0.01)
    for step, g in enumerate(grads, start=1):
        optimizer.step(params, g)
        for k in list(expected):
            m[k] = 0.9 * m[k] + 0.1 * g[k]
            v[k] = 0.999 * v[k] + 0.001 * g[k] ** 2
            m_hat, v_hat = m[k] / (1 - 0.9**step), v[k] / (1 - 0.999**step)
            expected[k] = expected[k] - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-8)
    assert optimizer.t == 3
    for k in params:
        np.testing.assert_allclose(params[k], expected[k], rtol=1e-10)


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_state_round_trip_continues_exactly(name):
    params, grads = setup()
    twin = {k: v.copy() for k, v in params.items()}
    first = make_optimizer(name, params, lr=0.05)
    for g in grads[:2]:
        first.step(params, g)
    second = make_optimizer(name, twin, lr=0.05)
    for g in grads[:2]:
        second.step(twin, g)
    restored = make_optimizer(name, twin, lr=0.05)
    restored.load_state({k: a.copy() for k, a in second.state_arrays().items()},
                        second.state_meta())
    first.step(params, grads[2])
    restored.step(twin, grads[2])
    for k in params:
        np.testing.assert_array_equal(params[k], twin[k])


def test_classes_and_hyperparameters():
    params, _ = setup()
    assert type(make_optimizer("sgd", params, lr=1)) is Optimizer
    assert isinstance(make_optimizer("momentum", params, lr=1), Momentum)
    adam = make_optimizer("adam", params, lr=1)
    assert isinstance(adam, Adam)
    assert adam.hyperparameters() == {"lr": 1, "l2": 0.0, "l1": 0.0, "beta1": 0.9,
                                      "beta2": 0.999, "eps": 1e-8}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"name": "rmsprop", "lr": 0.1}, "unknown optimizer 'rmsprop'"),
    ({"name": "sgd", "lr": 0.0}, "--lr must be"),
    ({"name": "sgd", "lr": float("nan")}, "--lr must be"),
    ({"name": "sgd", "lr": 0.1, "l2": -1.0}, "--l2 must be"),
])
def test_bad_options(kwargs, message):
    params, _ = setup()
    with pytest.raises(ChainruleError, match=message):
        make_optimizer(params=params, **kwargs)


def test_mismatched_state_is_rejected():
    params, _ = setup()
    optimizer = make_optimizer("momentum", params, lr=0.1)
    with pytest.raises(ChainruleError, match="does not fit"):
        optimizer.load_state({"velocity/other": np.zeros(2)}, {})
    with pytest.raises(ChainruleError, match="has shape"):
        optimizer.load_state({"velocity/layer0.bias": np.zeros(7)}, {})
