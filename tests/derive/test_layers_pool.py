"""Pooling and flatten backward passes, as derived, against central differences (CS231n)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import central_difference, rel_err

from chainrule.derive.layers import evaluate, flatten_layer, pool_layer
from chainrule.derive.layers import flatten as flat
from chainrule.derive.layers.pool import c, u, v

RNG = np.random.default_rng(11)


def windows(x: np.ndarray, k: int, stride: int) -> np.ndarray:
    """(C,H,W) → (C,H',W',k,k), the pooling windows."""
    ch, h, w = x.shape
    h_out, w_out = (h - k) // stride + 1, (w - k) // stride + 1
    out = np.zeros((ch, h_out, w_out, k, k))
    for cc, ii, jj in np.ndindex(ch, h_out, w_out):
        out[cc, ii, jj] = x[cc, ii * stride:ii * stride + k, jj * stride:jj * stride + k]
    return out


def argmax_mask(win: np.ndarray) -> np.ndarray:
    flat_win = win.reshape(*win.shape[:3], -1)
    mask = np.zeros_like(flat_win)
    np.put_along_axis(mask, flat_win.argmax(axis=-1)[..., None], 1.0, axis=-1)
    return mask.reshape(win.shape)


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize(("k", "stride"), [(2, 2), (3, 1), (2, 1)])
def test_pool_backward_matches_finite_differences(mode: str, k: int, stride: int) -> None:
    x = RNG.permutation(2 * 5 * 5).reshape(2, 5, 5) / 7.0  # distinct values: a unique argmax
    reduce = (lambda win: win.max(axis=(-2, -1))) if mode == "max" else \
        (lambda win: win.mean(axis=(-2, -1)))
    out = reduce(windows(x, k, stride))
    upstream = RNG.normal(size=out.shape)

    def loss(x_: np.ndarray) -> float:
        return float(np.sum(upstream * reduce(windows(x_, k, stride))))

    values = {"x": x, "delta": upstream, "M": argmax_mask(windows(x, k, stride)), "C": 2, "K": k,
              "H": 5, "W": 5, "H_out": out.shape[1], "W_out": out.shape[2], "s": stride}
    layer = pool_layer(mode)
    from chainrule.derive.layers.pool import i, j
    forward = evaluate(layer.equation("forward").rhs, [(c, 2), (i, out.shape[1]),
                                                       (j, out.shape[2])], values)
    assert rel_err(forward, out) < 1e-12
    dx = evaluate(layer.equation("dL/dx").rhs, [(c, 2), (u, 5), (v, 5)], values)
    assert rel_err(dx, central_difference(loss, x)) < 1e-6


def test_avg_pool_spreads_one_over_k_squared() -> None:
    from chainrule.derive.layers.pool import K
    rhs = pool_layer("avg").equation("dL/dx").rhs
    assert rhs.has(K**-2)


def test_flatten_backward_is_a_reshape() -> None:
    x = RNG.normal(size=(2, 3, 4))
    upstream = RNG.normal(size=24)
    values = {"x": x, "delta": upstream, "C": 2, "H": 3, "W": 4}
    layer = flatten_layer()
    forward = evaluate(layer.equation("forward").rhs, [(flat.f, 24)], values)
    assert rel_err(forward, x.reshape(-1)) < 1e-12
    dx = evaluate(layer.equation("dL/dx").rhs, [(flat.c, 2), (flat.i, 3), (flat.j, 4)], values)
    loss = lambda x_: float(np.sum(upstream * x_.reshape(-1)))
    assert rel_err(dx, central_difference(loss, x)) < 1e-6
    assert str(layer.equation("dL/dx").rhs) == "delta[H*W*c + W*i + j]"
