"""The lecture worked examples that train: E4 (XOR: perceptron vs MLP), E11 (the NumPy network of
seed 001), E12 ("hello world" Y = 3X + 1) and E13 (gradient descent on one weight)."""

import itertools

import numpy as np
import pytest
import sympy as sp

from chainrule.derive.spec import parse_spec
from chainrule.train.data import load_dataset
from chainrule.train.gradient_descent import W_SYMBOL, cost_expression, gradient_descent
from chainrule.train.perceptron import train_perceptron
from chainrule.train.session import TrainOptions, start


def test_e4_the_perceptron_never_converges_on_xor():
    run = train_perceptron(parse_spec("perceptron:2"), load_dataset("xor"), epochs=100, lr=1.0)
    assert not run.trace.converged
    assert min(run.trace.errors_per_epoch()) > 0  # errors never reach 0
    assert run.history[-1].train_acc < 1.0


def test_e4_but_it_converges_on_or():
    run = train_perceptron(parse_spec("perceptron:2"), load_dataset("or"), epochs=100, lr=1.0)
    assert run.trace.converged and run.history[-1].train_acc == 1.0


def test_e4_a_two_layer_mlp_learns_xor():
    session = start("mlp:2-4-1", "xor", TrainOptions(epochs=2000, batch=4, lr=1.0,
                                                     activation="tanh", seed=0))
    state = session.run()
    assert state.history[-1].train_acc == 1.0  # 4/4 correct
    predictions = session.network.forward(session.batches.x_train)[:, 0]
    np.testing.assert_array_equal(predictions > 0.5, [False, True, True, False])


def test_e11_numpy_network_from_scratch():
    session = start("mlp:3-4-1", "xor3", TrainOptions(epochs=2000, batch=4, lr=1.0,
                                                      activation="sigmoid", loss="mse", seed=0))
    assert session.network.loss == "mse"
    assert session.network.output_activation == "sigmoid"
    history = session.run().history
    assert 0.2 < history[0].loss < 0.35  # slide: 0.3246 (depends on the random start)
    assert history[-1].loss < 0.01  # slide: 0.00127 after 2000 epochs
    assert min(s.epoch for s in history if s.loss < 0.01) < 2000


def test_e12_hello_world_learns_y_equals_3x_plus_1():
    session = start("linear:1", "line", TrainOptions(epochs=500, batch=6, lr=0.05, seed=0))
    session.run()
    assert session.network.loss == "mse" and session.network.output_activation == "linear"
    assert float(session.network.params["layer0.weight"][0, 0]) == pytest.approx(3, abs=1e-2)
    assert float(session.network.params["layer0.bias"][0]) == pytest.approx(1, abs=1e-2)


X13 = [1, 2, 3, 4, 5, 6, 7, 8]
Z13 = [6, 8, 10, 12, 14, 16, 18, 20]  # z = 2x + 4 (seed 003's data); no intercept in the model


def test_e13_derivative_is_sympy_diff_of_the_cost():
    cost = cost_expression(X13, Z13)
    x, z = np.array(X13, float), np.array(Z13, float)
    for w in (-1.0, 0.5, 2.7):
        assert float(cost.subs(W_SYMBOL, w)) == pytest.approx(((z - w * x) ** 2).sum() / 16)
    descent = gradient_descent(X13, Z13, w0=0.0, lr=0.01, steps=1)
    assert sp.simplify(descent.derivative - sp.diff(cost, W_SYMBOL)) == 0
    h = 1e-6
    numeric = (float(cost.subs(W_SYMBOL, 0.3 + h)) - float(cost.subs(W_SYMBOL, 0.3 - h))) / (2 * h)
    assert float(descent.derivative.subs(W_SYMBOL, 0.3)) == pytest.approx(numeric, rel=1e-6)


def test_e13_iterations_converge_to_the_least_squares_w():
    descent = gradient_descent(X13, Z13, w0=0.0, lr=0.05, steps=60)
    x, z = np.array(X13, float), np.array(Z13, float)
    least = float(np.linalg.lstsq(x[:, None], z, rcond=None)[0][0])  # 2.70588… = 46/17
    assert descent.least_squares == pytest.approx(least, rel=1e-12)
    assert descent.iterates[-1].w == pytest.approx(least, abs=1e-6)
    costs = [it.cost for it in descent.iterates]
    assert all(b <= a + 1e-12 for a, b in itertools.pairwise(costs))  # J falls every step
    first = descent.iterates[0]
    assert descent.iterates[1].w == pytest.approx(first.w - 0.05 * first.slope)


def test_e13_too_large_a_step_diverges():
    # ε ≥ 2m / Σx² = 16/204 makes the iterates oscillate away from w*
    descent = gradient_descent(X13, Z13, w0=0.0, lr=0.1, steps=10)
    assert abs(descent.iterates[-1].w - descent.least_squares) > abs(descent.least_squares)
