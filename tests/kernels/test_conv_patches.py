"""The patch-major im2col conv (kernels/cpu/conv.py) against float64 direct loops in NumPy
and central differences: strides 1 and 2, padding 0-2, non-square inputs, few channels and many
(runs of k·C values from 4 to 51), and batches that leave a partial block of samples."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import central_difference, rel_err

from chainrule.kernels.cpu import conv

CASES = [  # (batch, c_in, H, W, filters, k, stride, padding)
    (3, 2, 7, 5, 3, 3, 1, 0),
    (2, 3, 8, 9, 4, 3, 2, 1),
    (conv.BLOCK_SAMPLES + 1, 2, 5, 6, 2, 2, 1, 2),  # a second, partial block
    (2, 1, 9, 7, 2, 5, 2, 2),
    (2, 16, 5, 6, 3, 3, 1, 1),  # runs of k·C = 48 values
    (3, 17, 7, 6, 2, 3, 2, 2),
]


@pytest.fixture(autouse=True)
def im2col_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every conv below runs through the patches, whatever its size."""
    monkeypatch.setattr(conv, "IM2COL_MIN_ROWS", 1)


def direct_conv(xp: np.ndarray, w: np.ndarray, stride: int) -> np.ndarray:
    """z[n,f,i,j] = Σ_c Σ_m Σ_q w[f,c,m,q] xp[n,c,i·s+m,j·s+q], float64 loops over the taps."""
    k = w.shape[2]
    rows, cols = (xp.shape[2] - k) // stride + 1, (xp.shape[3] - k) // stride + 1
    out = np.zeros((xp.shape[0], w.shape[0], rows, cols))
    for m in range(k):
        for q in range(k):
            window = xp[:, :, m:m + stride * (rows - 1) + 1:stride, q:q + stride * (cols - 1) + 1:stride]
            out += np.einsum("fc,ncij->nfij", w[:, :, m, q], window)
    return out


def direct_grads(xp: np.ndarray, w: np.ndarray, delta: np.ndarray, stride: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(∂L/∂w, ∂L/∂xp) of L = Σ δ ⊙ z, by the index formulas of conv.py's docstring."""
    k = w.shape[2]
    dw, dxp = np.zeros_like(w), np.zeros_like(xp)
    for i in range(delta.shape[2]):
        for j in range(delta.shape[3]):
            window = (slice(None), slice(None), slice(i * stride, i * stride + k),
                      slice(j * stride, j * stride + k))
            dw += np.einsum("nf,nchw->fchw", delta[:, :, i, j], xp[window])
            dxp[window] += np.einsum("nf,fchw->nchw", delta[:, :, i, j], w)
    return dw, dxp


def case_arrays(case: tuple[int, ...], seed: int = 3):
    batch, c_in, h, w_, filters, k, stride, padding = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, c_in, h, w_))
    w = rng.standard_normal((filters, c_in, k, k))
    xp = conv.pad(x, padding)
    delta = rng.standard_normal(direct_conv(xp, w, stride).shape)
    return x, w, xp, delta, stride, padding


@pytest.mark.parametrize("case", CASES)
def test_passes_match_direct_loops(case: tuple[int, ...]) -> None:
    x, w, xp, delta, stride, padding = case_arrays(case)
    out = np.empty(delta.shape)
    patches = conv.forward(x, w, stride, padding, out)
    assert patches is not None and patches.shape == (out.shape[0] * out.shape[2] * out.shape[3],
                                                     w[0].size)
    np.testing.assert_allclose(out, direct_conv(xp, w, stride), rtol=1e-12, atol=1e-12)
    expected_dw, expected_dxp = direct_grads(xp, w, delta, stride)
    dw, dx = np.empty_like(w), np.empty_like(x)
    conv.weight_grad(x, delta, stride, padding, dw, patches)
    np.testing.assert_allclose(dw, expected_dw, rtol=1e-12, atol=1e-12)
    rebuilt = np.empty_like(w)
    conv.weight_grad(x, delta, stride, padding, rebuilt)  # no patches kept: built again
    np.testing.assert_array_equal(rebuilt, dw)
    conv.input_grad(delta, w, stride, padding, dx)  # the padding's terms dropped
    inside = (slice(None), slice(None), slice(padding, padding + x.shape[2]),
              slice(padding, padding + x.shape[3]))
    np.testing.assert_allclose(dx, expected_dxp[inside], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", [CASES[1], CASES[2]])
def test_gradients_match_central_differences(case: tuple[int, ...]) -> None:
    x, w, xp, delta, stride, padding = case_arrays(case, seed=5)
    dw, dx = np.empty_like(w), np.empty_like(x)
    conv.weight_grad(x, delta, stride, padding, dw)
    conv.input_grad(delta, w, stride, padding, dx)
    numeric_w = central_difference(lambda v: float(np.sum(delta * direct_conv(xp, v, stride))), w)
    numeric_x = central_difference(
        lambda v: float(np.sum(delta * direct_conv(conv.pad(v, padding), w, stride))), x)
    assert rel_err(dw, numeric_w) < 1e-8
    assert rel_err(dx, numeric_x) < 1e-8


def test_weight_gradient_adds_the_blocks_in_order() -> None:
    """BP4 is the sum of each block's product, added in block order: it depends on the batch
    alone, not on how many threads ran the blocks."""
    case = (2 * conv.BLOCK_SAMPLES + 3, 2, 6, 5, 3, 3, 1, 1)
    x, w, xp, delta, stride, padding = case_arrays(case, seed=7)
    out = np.empty(delta.shape)
    patches = conv.forward(x, w, stride, padding, out)
    full = np.empty((w.shape[0], patches.shape[1]))
    conv.patch_weight_grad(patches, delta, full)
    positions = delta.shape[2] * delta.shape[3]
    total = None
    for first in range(0, xp.shape[0], conv.BLOCK_SAMPLES):
        last = min(xp.shape[0], first + conv.BLOCK_SAMPLES)
        part = np.empty_like(full)
        conv.patch_weight_grad(patches[first * positions:last * positions],
                                 np.ascontiguousarray(delta[first:last]), part)
        total = part if total is None else total + part
    np.testing.assert_array_equal(full, total)
    again = np.empty_like(full)
    conv.patch_weight_grad(patches, delta, again)
    np.testing.assert_array_equal(again, full)  # the same bits every run


def test_float32_matches_float64() -> None:
    x, w, _, delta, stride, padding = case_arrays(CASES[0], seed=9)
    out64, out32 = np.empty(delta.shape), np.empty(delta.shape, dtype=np.float32)
    conv.forward(x, w, stride, padding, out64)
    conv.forward(x.astype(np.float32), w.astype(np.float32), stride, padding, out32)
    np.testing.assert_allclose(out32, out64, rtol=1e-4, atol=1e-5)
