"""Conv and pool templates against NumPy references, finite differences and the E15 worked map."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import central_difference, rel_err

from chainrule.kernels.cpu import conv, pool

E15_IMAGE = np.array([[18, 54, 51, 239, 244, 188], [55, 121, 75, 78, 95, 88],
                      [35, 24, 204, 113, 109, 221], [3, 154, 104, 235, 25, 130],
                      [15, 253, 225, 159, 78, 233], [68, 85, 180, 214, 245, 0]], dtype=np.float64)
E15_KERNEL = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=np.float64)
E15_MAP = [[429, 505, 686, 856], [261, 792, 412, 640], [633, 653, 851, 751],
           [608, 913, 713, 657]]


@pytest.fixture(params=["direct", "im2col"])
def conv_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a conv test through the direct loops and through im2col + BLAS."""
    monkeypatch.setattr(conv, "IM2COL_MIN_ROWS", 10**9 if request.param == "direct" else 1)
    return request.param


def reference_conv(xp: np.ndarray, w: np.ndarray, stride: int) -> np.ndarray:
    k = w.shape[2]
    rows = (xp.shape[2] - k) // stride + 1
    cols = (xp.shape[3] - k) // stride + 1
    out = np.zeros((xp.shape[0], w.shape[0], rows, cols))
    for i in range(rows):
        for j in range(cols):
            patch = xp[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
            out[:, :, i, j] = np.einsum("nchw,fchw->nf", patch, w)
    return out


def test_e15_convolution_map(conv_path: str) -> None:
    out = np.empty((1, 1, 4, 4))
    conv.forward(E15_IMAGE[None, None], E15_KERNEL[None, None], 1, 0, out)
    assert out[0, 0].tolist() == E15_MAP


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (2, 1)])
def test_conv_forward_and_gradients(stride: int, padding: int, conv_path: str) -> None:
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 2, 5, 5))
    w = rng.standard_normal((3, 2, 3, 3))
    xp = conv.pad(x, padding)
    expected = reference_conv(xp, w, stride)
    out = np.empty_like(expected)
    kept = conv.forward(x, w, stride, padding, out)  # P, or the padded input (direct loops)
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    upstream = rng.standard_normal(out.shape)  # L = Σ upstream ⊙ out, so δ = upstream
    dw = np.empty_like(w)
    conv.weight_grad(x, upstream, stride, padding, dw)
    from_kept = np.empty_like(w)
    conv.weight_grad(x, upstream, stride, padding, from_kept, kept)  # what forward kept: same bits
    np.testing.assert_array_equal(from_kept, dw)
    numeric_w = central_difference(lambda v: float(np.sum(upstream * reference_conv(xp, v, stride))), w)
    assert rel_err(dw, numeric_w) < 1e-8
    dx = np.empty_like(x)
    conv.input_grad(upstream, w, stride, padding, dx)
    numeric_x = central_difference(
        lambda v: float(np.sum(upstream * reference_conv(conv.pad(v, padding), w, stride))), x)
    assert rel_err(dx, numeric_x) < 1e-8


def test_max_pool_forward_and_routing() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 4, 6))
    out, arg = np.empty((2, 3, 2, 3)), np.empty((2, 3, 2, 3), dtype=np.int64)
    pool.max_forward(x, 2, 2, out, arg)
    np.testing.assert_array_equal(out, x.reshape(2, 3, 2, 2, 3, 2).max(axis=(3, 5)))
    upstream = rng.standard_normal(out.shape)
    dx = np.empty_like(x)
    pool.max_backward(upstream, arg, dx)

    def loss(v: np.ndarray) -> float:
        return float(np.sum(upstream * v.reshape(2, 3, 2, 2, 3, 2).max(axis=(3, 5))))

    assert rel_err(dx, central_difference(loss, x)) < 1e-8
    assert np.count_nonzero(dx) == upstream.size  # one winner per window


def test_avg_pool_forward_and_spreading() -> None:
    rng = np.random.default_rng(4)
    x = rng.standard_normal((1, 2, 5, 5))
    out = np.empty((1, 2, 2, 2))
    pool.avg_forward(x, 3, 2, out)
    expected = np.array([[[[x[0, c, 2 * i:2 * i + 3, 2 * j:2 * j + 3].mean() for j in range(2)]
                           for i in range(2)] for c in range(2)]])
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    upstream = rng.standard_normal(out.shape)
    dx = np.empty_like(x)
    pool.avg_backward(upstream, 3, 2, dx)

    def loss(v: np.ndarray) -> float:
        result = np.empty((1, 2, 2, 2))
        pool.avg_forward(v, 3, 2, result)
        return float(np.sum(upstream * result))

    assert rel_err(dx, central_difference(loss, x)) < 1e-8


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("rows", "cols"), [(4, 6), (5, 7), (2, 2)])
def test_avg_pool_2x2_sums_each_window_from_zero_in_row_major_order(dtype: type, rows: int,
                                                                   cols: int) -> None:
    """The 2x2 path (_avg_2x2) against NumPy adding the same four values in the same order in
    float64, bit for bit: -0.0 windows give +0.0, as the general loop's sums from 0.0 do."""
    x = np.random.default_rng(6).standard_normal((3, 2, rows, cols)).astype(dtype)
    x[0, 0, :2, :2] = -0.0
    out = np.full((3, 2, rows // 2, cols // 2), np.nan, dtype)
    pool.avg_forward(x, 2, 2, out)
    w = x[:, :, :rows // 2 * 2, :cols // 2 * 2].astype(np.float64)
    total = (((0.0 + w[:, :, 0::2, 0::2]) + w[:, :, 0::2, 1::2]) + w[:, :, 1::2, 0::2]) \
        + w[:, :, 1::2, 1::2]
    expected = (total * 0.25).astype(dtype)
    np.testing.assert_array_equal(out.view(f"i{out.itemsize}"), expected.view(f"i{out.itemsize}"))
    assert np.signbit(out[0, 0, 0, 0]) == np.False_


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("size", "rows", "cols"), [(2, 4, 6), (2, 5, 7), (3, 7, 6), (3, 6, 8)])
def test_avg_backward_delta_spreads_the_rounded_share_times_d(dtype: type, size: int, rows: int,
                                                              cols: int) -> None:
    """delta = (grad / k², rounded to the dtype) · g'(z) on each window, 0 where none covers: NumPy
    computes the same products, bit for bit (the 2x2 path and the general one)."""
    rng = np.random.default_rng(7)
    d = rng.standard_normal((2, 3, rows, cols)).astype(dtype)
    grad = rng.standard_normal((2, 3, rows // size, cols // size)).astype(dtype)
    delta = np.full_like(d, np.nan)
    pool.avg_backward_delta(grad, size, d, delta)
    shares = (grad.astype(np.float64) * (1.0 / (size * size))).astype(dtype)
    expected = np.zeros_like(d)  # +0.0 where no window covers
    covered = (slice(None), slice(None), slice(0, rows // size * size), slice(0, cols // size * size))
    expected[covered] = np.repeat(np.repeat(shares, size, axis=2), size, axis=3) * d[covered]
    np.testing.assert_array_equal(delta.view(f"i{d.itemsize}"), expected.view(f"i{d.itemsize}"))


@pytest.mark.parametrize("padding", [0, 1, 2])
def test_pad_matches_numpy_pad_and_unpad_inverts_it(padding: int) -> None:
    x = np.random.default_rng(4).standard_normal((2, 3, 4, 5)).astype(np.float32)
    padded = conv.pad(x, padding)
    spec = ((0, 0), (0, 0), (padding, padding), (padding, padding))
    np.testing.assert_array_equal(padded, np.pad(x, spec))
    assert padded.dtype == x.dtype and padded.flags.c_contiguous
    cropped = np.empty_like(x)
    conv.unpad_planes(padded, padding, cropped)  # the crop input_grad's direct loops use
    np.testing.assert_array_equal(cropped, x)


@pytest.mark.parametrize("kernel", [3, 5, 7])
def test_wide_forward_sums_like_the_direct_loops(kernel: int) -> None:
    # five taps per pass (kernel 5, 7) or one (3, and 7's last two): the same sums in the same order
    rng = np.random.default_rng(5)
    xp = rng.standard_normal((2, 2, 12, 11)).astype(np.float32)  # (batch, c_in, Hp, Wp)
    w = rng.standard_normal((3, 2, kernel, kernel)).astype(np.float32)
    shape = (2, 3, 12 - kernel + 1, 11 - kernel + 1)
    wide, direct = np.empty(shape, np.float32), np.empty(shape, np.float32)
    conv.wide_forward(xp, w, wide)
    conv.direct_forward(xp, w, 1, direct)
    np.testing.assert_array_equal(wide, direct)


@pytest.mark.parametrize("kernel", [3, 5, 7])
def test_wide_weight_grad_matches_the_direct_loops(kernel: int) -> None:
    rng = np.random.default_rng(6)
    xp = rng.standard_normal((2, 2, 12, 11))  # (batch, c_in, Hp, Wp), float64
    delta = rng.standard_normal((2, 3, 12 - kernel + 1, 11 - kernel + 1))  # (batch, f, Ho, Wo)
    wide, direct = np.empty((3, 2, kernel, kernel)), np.empty((3, 2, kernel, kernel))
    conv.wide_weight_grad(xp, delta, wide)
    conv.direct_weight_grad(xp, delta, 1, direct)
    np.testing.assert_allclose(wide, direct, rtol=1e-12, atol=1e-12)
    again = np.empty_like(wide)
    conv.wide_weight_grad(xp, delta, again)
    np.testing.assert_array_equal(again, wide)  # a fixed sum order: the same bits every run


def reference_max_pool(x: np.ndarray, size: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Max and flat arg-max (r·W + col, the first maximum in row-major order) of each window."""
    rows, cols = (x.shape[2] - size) // stride + 1, (x.shape[3] - size) // stride + 1
    out = np.empty((*x.shape[:2], rows, cols))
    arg = np.empty(out.shape, dtype=np.int64)
    for i in range(rows):
        for j in range(cols):
            window = x[:, :, i * stride:i * stride + size, j * stride:j * stride + size]
            flat = window.reshape(*x.shape[:2], -1)
            first = flat.argmax(axis=2)  # numpy's argmax keeps the first of equal maxima
            out[:, :, i, j] = flat.max(axis=2)
            arg[:, :, i, j] = (i * stride + first // size) * x.shape[3] + j * stride + first % size
    return out, arg


@pytest.mark.parametrize(("size", "stride", "shape"), [(2, 2, (2, 3, 6, 4)), (3, 2, (2, 2, 7, 9)),
                                                       (3, 1, (1, 2, 5, 6))])
def test_max_pool_against_numpy_with_ties_and_overlaps(size: int, stride: int,
                                                       shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(size * 10 + stride)
    x = rng.integers(-2, 3, shape).astype(np.float64)  # few values: many tied maxima
    expected, expected_arg = reference_max_pool(x, size, stride)
    out, arg = np.empty(expected.shape), np.empty(expected.shape, dtype=np.int64)
    pool.max_forward(x, size, stride, out, arg)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(arg, expected_arg)
    upstream = rng.standard_normal(out.shape)
    dx = np.empty_like(x)
    pool.max_backward(upstream, arg, dx)
    routed = np.zeros_like(x)  # overlapping windows can share a winner: their gradients add up
    for n, c, i, j in np.ndindex(*out.shape):
        r, col = divmod(int(expected_arg[n, c, i, j]), x.shape[3])
        routed[n, c, r, col] += upstream[n, c, i, j]
    np.testing.assert_allclose(dx, routed, rtol=1e-15, atol=1e-15)
