"""The structural templates compute exactly the equations derive/layers derived: the conv forward,
∂L/∂w, ∂L/∂b and ∂L/∂x (derive/layers/conv.py) and the pool forward and ∂L/∂x
(derive/layers/pool.py), each evaluated from its SymPy expression and compared with the kernel."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import rel_err

from chainrule.derive.layers import conv as dconv
from chainrule.derive.layers import conv_layer, evaluate, pool_layer
from chainrule.derive.layers import pool as dpool
from chainrule.kernels.cpu import conv, pool
from chainrule.kernels.fused_step import store_updates


@pytest.fixture(params=["direct", "im2col"])
def conv_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a conv test through the direct loops and through im2col + BLAS."""
    monkeypatch.setattr(conv, "IM2COL_MIN_ROWS", 10**9 if request.param == "direct" else 1)
    return request.param


RNG = np.random.default_rng(23)


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (2, 1)])
def test_conv_template_is_the_derived_conv(stride: int, padding: int,
                                          conv_path: str) -> None:
    channels, filters, size, k = 2, 3, 5, 3
    x = RNG.standard_normal((1, channels, size, size))
    w = RNG.standard_normal((filters, channels, k, k))
    b = RNG.standard_normal(filters)
    out_size = (size + 2 * padding - k) // stride + 1
    z = np.empty((1, filters, out_size, out_size))
    conv.forward(x, w, stride, padding, z)
    delta = RNG.standard_normal(z.shape)
    values = {"x": x[0], "w": w, "b": b, "delta": delta[0], "C": channels, "F": filters, "K": k,
              "H": size, "W": size, "H_out": out_size, "W_out": out_size, "s": stride,
              "P": padding}
    layer = conv_layer()
    o, c, i, j, m, n, u, v = (dconv.o, dconv.c, dconv.i, dconv.j, dconv.m, dconv.n, dconv.u,
                              dconv.v)
    derived_z = evaluate(layer.equation("forward").rhs, [(o, filters), (i, out_size),
                                                         (j, out_size)], values)
    assert rel_err(z[0] + b[:, None, None], derived_z) < 1e-13
    dw = np.empty_like(w)
    conv.weight_grad(x, delta, stride, padding, dw)
    derived_dw = evaluate(layer.equation("dL/dw").rhs, [(o, filters), (c, channels), (m, k),
                                                        (n, k)], values)
    assert rel_err(dw, derived_dw) < 1e-13
    db = np.empty(filters)
    grad3 = delta.reshape(1, filters, -1)
    store_updates({"bias": db}).delta_bias("bias", db, grad3, np.ones_like(grad3),
                                            np.empty_like(grad3))
    assert rel_err(db, evaluate(layer.equation("dL/db").rhs, [(o, filters)], values)) < 1e-13
    dx = np.empty_like(x)
    conv.input_grad(delta, w, stride, padding, dx)
    derived_dx = evaluate(layer.equation("dL/dx").rhs, [(c, channels), (u, size), (v, size)],
                          values)
    assert rel_err(dx[0], derived_dx) < 1e-13


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize(("k", "stride"), [(2, 2), (3, 1)])
def test_pool_template_is_the_derived_pool(mode: str, k: int, stride: int) -> None:
    x = RNG.permutation(2 * 5 * 5).reshape(1, 2, 5, 5) / 7.0  # distinct values: one arg-max
    out_size = (5 - k) // stride + 1
    out = np.empty((1, 2, out_size, out_size))
    dx = np.empty_like(x)
    delta = RNG.standard_normal(out.shape)
    values = {"x": x[0], "delta": delta[0], "C": 2, "K": k, "H": 5, "W": 5, "H_out": out_size,
              "W_out": out_size, "s": stride}
    if mode == "max":
        arg = np.empty(out.shape, dtype=np.int64)
        pool.max_forward(x, k, stride, out, arg)
        pool.max_backward(delta, arg, dx)
        values["M"] = _argmax_mask(x[0], arg[0], k, stride)
    else:
        pool.avg_forward(x, k, stride, out)
        pool.avg_backward(delta, k, stride, dx)
    layer = pool_layer(mode)
    derived = evaluate(layer.equation("forward").rhs, [(dpool.c, 2), (dpool.i, out_size),
                                                       (dpool.j, out_size)], values)
    assert rel_err(out[0], derived) < 1e-13
    derived_dx = evaluate(layer.equation("dL/dx").rhs, [(dpool.c, 2), (dpool.u, 5), (dpool.v, 5)],
                          values)
    assert rel_err(dx[0], derived_dx) < 1e-13


def _argmax_mask(x: np.ndarray, arg: np.ndarray, k: int, stride: int) -> np.ndarray:
    """M[c,i,j,m,n] = 1 where the kernel's arg-max sits in window (i, j), as derive/layers/pool."""
    channels, rows, cols = arg.shape
    mask = np.zeros((channels, rows, cols, k, k))
    for c, i, j in np.ndindex(arg.shape):
        r, q = divmod(int(arg[c, i, j]), x.shape[2])
        mask[c, i, j, r - i * stride, q - j * stride] = 1.0
    return mask


def test_softmax_ce_bodies_are_the_derived_softmax_and_cross_entropy() -> None:
    # the printed bodies, run on the shifted logits, against the derivation at the raw logits
    from chainrule.derive.layers import softmax as dsoft
    from chainrule.derive.layers import softmax_ce_layer
    from chainrule.kernels.cpu.output import softmax_ce_module

    module = softmax_ce_module()
    logits = RNG.standard_normal(4) * 3
    target = np.eye(4)[2]
    shifted = logits - logits.max()
    total = sum(module.partition_term(v) for v in shifted)
    log_total = module.log_partition(total)
    printed_s = np.array([module.softmax_unit(v, total) for v in shifted])
    from_terms = np.array([module.softmax_of_term(module.partition_term(v), total)
                           for v in shifted])  # the kernels' form: s from the kept terms
    assert np.array_equal(from_terms, printed_s)
    printed_loss = sum(module.ce_term(v, log_total, tk) for v, tk in zip(shifted, target,
                                                                          strict=True))
    printed_delta = np.array([module.softmax_ce_delta(sk, tk) for sk, tk in zip(printed_s, target,
                                                                               strict=True)])
    layer, n = softmax_ce_layer(), {"N": 4}
    derived_s = evaluate(layer.equation("forward s").rhs, [(dsoft.i, 4)], {"z": logits, **n})
    assert rel_err(printed_s, derived_s) < 1e-14
    derived_loss = evaluate(layer.equation("forward L").rhs, [],
                            {"t": target, "s": derived_s, **n})
    assert abs(printed_loss - float(derived_loss)) < 1e-13
    derived_delta = evaluate(layer.equation("dL/dz").rhs, [(dsoft.j, 4)],
                             {"t": target, "s": derived_s, **n})
    assert rel_err(printed_delta, derived_delta) < 1e-14


def test_dropout_bodies_are_the_derived_dropout() -> None:
    from chainrule.derive.layers import dropout as ddrop
    from chainrule.derive.layers import dropout_layer
    from chainrule.kernels.cpu.output import dropout_module

    rng = np.random.default_rng(11)  # its own draws: the module's RNG depends on test order, and
    keep, draws = 0.6, rng.random(7)  # under xdist some orders drew seven kept units
    a, d = rng.standard_normal(7), rng.standard_normal(7)
    y, scaled = a.copy(), d.copy()
    dropout_module().dropout(draws, keep, y, scaled)
    layer = dropout_layer()
    values = {"mask": (draws < keep).astype(float), "a": a, "dC_dy": d, "p": keep, "J": 7}
    assert rel_err(y, evaluate(layer.equation("forward").rhs, [(ddrop.j, 7)], values)) < 1e-15
    assert rel_err(scaled, evaluate(layer.equation("dC/da").rhs, [(ddrop.j, 7)], values)) < 1e-15
    assert 0 < (y == 0).sum() < 7  # the draws both keep and drop units


def test_softmax_and_dropout_templates_type_no_calculus() -> None:
    # exp, log and the 1/p scaling come from the printed bodies, on both backends
    from chainrule.kernels.cpu import output
    from chainrule.kernels.cuda import generated

    for template in (output._SOFTMAX, output._DROPOUT, generated._SOFTMAX):
        assert "math.exp" not in template and "math.log" not in template
        assert "/ keep" not in template and "/ total" not in template
