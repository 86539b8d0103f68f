"""Conv2d gradients, as derived, against central differences (CS231n convolutional networks)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import central_difference, rel_err

from chainrule.derive.layers import conv_layer, evaluate
from chainrule.derive.layers.conv import c, i, j, m, n, o, u, v

RNG = np.random.default_rng(7)


def reference_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, pad: int) -> np.ndarray:
    """Direct loops over a zero-padded input: (C,H,W), (F,C,K,K) → (F,H',W')."""
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    f, _, k, _ = w.shape
    h_out = (xp.shape[1] - k) // stride + 1
    w_out = (xp.shape[2] - k) // stride + 1
    out = np.zeros((f, h_out, w_out))
    for oi, ii, jj in np.ndindex(out.shape):
        window = xp[:, ii * stride:ii * stride + k, jj * stride:jj * stride + k]
        out[oi, ii, jj] = np.sum(window * w[oi]) + b[oi]
    return out


@pytest.mark.parametrize(("stride", "pad", "channels", "filters"),
                         [(1, 0, 1, 1), (1, 1, 2, 3), (2, 0, 2, 2), (2, 1, 3, 2)])
def test_conv_gradients_match_finite_differences(stride: int, pad: int, channels: int,
                                                 filters: int) -> None:
    size, k = 5, 3
    x = RNG.normal(size=(channels, size, size))
    w = RNG.normal(size=(filters, channels, k, k))
    b = RNG.normal(size=filters)
    z = reference_conv(x, w, b, stride, pad)
    upstream = RNG.normal(size=z.shape)  # δ = ∂L/∂z for L = Σ δ·z

    def loss(x_: np.ndarray, w_: np.ndarray, b_: np.ndarray) -> float:
        return float(np.sum(upstream * reference_conv(x_, w_, b_, stride, pad)))

    values = {"x": x, "w": w, "b": b, "delta": upstream, "C": channels, "F": filters, "K": k,
              "H": size, "W": size, "H_out": z.shape[1], "W_out": z.shape[2], "s": stride,
              "P": pad}
    layer = conv_layer()
    forward = evaluate(layer.equation("forward").rhs, [(o, filters), (i, z.shape[1]),
                                                       (j, z.shape[2])], values)
    assert rel_err(forward, z) < 1e-12
    dw = evaluate(layer.equation("dL/dw").rhs, [(o, filters), (c, channels), (m, k), (n, k)],
                  values)
    assert rel_err(dw, central_difference(lambda w_: loss(x, w_, b), w)) < 1e-6
    db = evaluate(layer.equation("dL/db").rhs, [(o, filters)], values)
    assert rel_err(db, central_difference(lambda b_: loss(x, w, b_), b)) < 1e-6
    dx = evaluate(layer.equation("dL/dx").rhs, [(c, channels), (u, size), (v, size)], values)
    assert rel_err(dx, central_difference(lambda x_: loss(x_, w, b), x)) < 1e-6


def test_input_gradient_is_a_sum_over_output_positions_with_guards() -> None:
    rhs = conv_layer().equation("dL/dx").rhs
    text = str(rhs)
    assert "w[o, c, P - i*s + u, P - j*s + v]" in text  # the flipped kernel, offset by the output
    assert [s.rule for s in conv_layer().equation("dL/dw").steps] == ["chain", "sum", "simplify",
                                                                     "rename"]
