"""Each layer's printed matrix form names the same contraction that SymPy derived.

The derived index expressions are evaluated and compared with the textbook's matrix forms written
in NumPy: (wᵀδ) ⊙ σ'(z), δ aᵀ, the full convolution of δ with the flipped kernel, δ spread as
1/K², diag(s) − s sᵀ. And every step cites a rule that the rule table knows.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import rel_err
from scipy.signal import convolve2d, correlate2d

from chainrule.derive.layers import (
    activation_layer,
    conv_layer,
    dense_layer,
    dropout_layer,
    evaluate,
    flatten_layer,
    minibatch_update,
    output_error_for_loss,
    pool_layer,
    regularised_layer,
    softmax_ce_layer,
)
from chainrule.derive.layers import conv as cv
from chainrule.derive.layers import dense as dn
from chainrule.derive.layers import pool as pl
from chainrule.derive.rules import RULES

RNG = np.random.default_rng(17)


def test_bp2_and_bp4_matrix_forms() -> None:
    z, w_next, d_next = RNG.normal(size=3), RNG.normal(size=(2, 3)), RNG.normal(size=2)
    delta = evaluate(dense_layer("tanh").equation("BP2").rhs, [(dn.j, 3)],
                     {"z": z, "w_next": w_next, "delta_next": d_next, "N": 2})
    assert rel_err(delta, (w_next.T @ d_next) * (1 - np.tanh(z) ** 2)) < 1e-12
    a_prev = RNG.normal(size=4)
    dw = evaluate(dense_layer("tanh").equation("BP4").rhs, [(dn.j, 3), (dn.k, 4)],
                  {"delta": delta, "a_prev": a_prev})
    assert rel_err(dw, np.outer(delta, a_prev)) < 1e-12


def test_conv_input_gradient_is_full_convolution_with_the_kernel() -> None:
    x, w = RNG.normal(size=(1, 5, 5)), RNG.normal(size=(2, 1, 3, 3))
    delta = RNG.normal(size=(2, 3, 3))
    values = {"x": x, "w": w, "delta": delta, "C": 1, "F": 2, "K": 3, "H": 5, "W": 5,
              "H_out": 3, "W_out": 3, "s": 1, "P": 0}
    layer = conv_layer()
    dx = evaluate(layer.equation("dL/dx").rhs, [(cv.c, 1), (cv.u, 5), (cv.v, 5)], values)
    # convolve2d flips its second argument: a full convolution of δ with w is the correlation
    # of δ with the flipped kernel, the textbook's rot180 form.
    full = sum(convolve2d(delta[o], w[o, 0], mode="full") for o in range(2))
    assert rel_err(dx[0], full) < 1e-12
    dw = evaluate(layer.equation("dL/dw").rhs, [(cv.o, 2), (cv.c, 1), (cv.m, 3), (cv.n, 3)],
                  values)
    assert rel_err(dw[1, 0], correlate2d(x[0], delta[1], mode="valid")) < 1e-12


def test_avg_pool_gradient_is_upsampled_delta_over_k_squared() -> None:
    delta = RNG.normal(size=(1, 2, 2))
    values = {"delta": delta, "C": 1, "K": 2, "H": 4, "W": 4, "H_out": 2, "W_out": 2, "s": 2}
    dx = evaluate(pool_layer("avg").equation("dL/dx").rhs, [(pl.c, 1), (pl.u, 4), (pl.v, 4)],
                  values)
    assert rel_err(dx[0], np.kron(delta[0], np.ones((2, 2))) / 4) < 1e-12


def test_softmax_ce_matrix_forms() -> None:
    from chainrule.derive.layers import softmax as sm
    s, t = np.array([0.228, 0.619, 0.153]), np.array([0.0, 1.0, 0.0])
    delta = evaluate(softmax_ce_layer().equation("dL/dz").rhs, [(sm.j, 3)],
                     {"s": s, "t": t, "N": 3})
    assert rel_err(delta, s - t) < 1e-12


ALL_LAYERS = [dense_layer(a, output=o) for a in ("sigmoid", "tanh", "relu", "linear", "elu",
                                                  "leaky_relu", "softplus") for o in (True, False)]
ALL_LAYERS += [conv_layer(), pool_layer("max"), pool_layer("avg"), flatten_layer(),
               softmax_ce_layer(), dropout_layer(), regularised_layer("l2"),
               regularised_layer("l1"), minibatch_update(), activation_layer("tanh")]


@pytest.mark.parametrize("layer", ALL_LAYERS, ids=[f"{x.kind}-{x.title}" for x in ALL_LAYERS])
def test_every_step_cites_a_known_rule(layer) -> None:
    rules = {step.rule for eq in layer.equations for step in eq.steps}
    assert rules <= set(RULES), rules - set(RULES)
    assert all(eq.steps for eq in layer.backward)


def test_bp1_with_bce_and_sigmoid_is_a_minus_t_over_j() -> None:
    import sympy as sp
    rhs = output_error_for_loss("sigmoid", "bce").rhs
    a, z = dn.a, dn.z
    from chainrule.derive.functions import sigmoid
    simplified = sp.simplify(rhs.subs(a[dn.j], sigmoid(z[dn.j])))
    t = sp.IndexedBase(sp.Symbol("t", real=True), real=True)
    assert sp.simplify(simplified - (sigmoid(z[dn.j]) - t[dn.j]) / dn.J) == 0


def test_lenet5_c1_input_gradient_matrix_form_is_cropped_by_p() -> None:
    """Issue 8: with P = 2 the printed full convolution gave 32×32 for a 28×28 input; with s = 2
    δ must be dilated, and ∂L/∂w uses the padded x. The printed form, run with NumPy, must give
    the index form's shape and numbers (here C1's P = 2 with a stride 2 added, on 7×6 maps)."""
    layer = conv_layer()
    x, w = RNG.normal(size=(1, 7, 6)), RNG.normal(size=(2, 1, 5, 5))
    values = {"x": x, "w": w, "b": RNG.normal(size=2), "C": 1, "F": 2, "K": 5, "H": 7, "W": 6,
              "H_out": 3, "W_out": 2, "s": 2, "P": 2, "delta": RNG.normal(size=(2, 3, 2))}
    extents = {"dL/dx": [(cv.c, 1), (cv.u, 7), (cv.v, 6)],
               "dL/dw": [(cv.o, 2), (cv.c, 1), (cv.m, 5), (cv.n, 5)]}
    for name, extent in extents.items():
        eq = layer.equation(name)
        assert eq.matrix_numpy is not None
        printed = eq.matrix_numpy(values)
        assert printed.shape == tuple(n for _, n in extent)
        assert rel_err(printed, evaluate(eq.rhs, extent, values)) < 1e-12
    assert "crop_P" in layer.equation("dL/dx").matrix_text
    assert "dilₛ" in layer.equation("dL/dx").matrix_text
    assert "x_pad" in layer.equation("dL/dw").matrix_text
    assert "dilₛ(δ[o])" in layer.equation("dL/dw").matrix_text
    assert r"\operatorname{crop}_{P}" in layer.equation("dL/dx").matrix_latex


def test_cost_prints_one_over_m_in_front() -> None:
    """Issue 8: the cost printed as C = Σ_x Cₓ[x]/m."""
    from chainrule.derive.printing.latex import latex
    from chainrule.derive.printing.layers_text import expr_text
    cost = minibatch_update().equation("cost")
    assert expr_text(cost.rhs).startswith("1/m·Σ") and "Cₓ" not in expr_text(cost.rhs)
    assert r"\frac{1}{m} \sum_{x=0}^{m - 1} {C}_{x}" in latex(cost)
    per_sample = np.array([0.5, 1.5, 4.0])
    assert evaluate(cost.rhs, [], {"C": per_sample, "m": 3}) == pytest.approx(2.0)
