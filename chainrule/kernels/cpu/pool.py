"""Pooling kernels (direct loops, parallel over samples): the structural template.

Max pooling routes the gradient to the arg-max of each window (∂ max / ∂ x_i = 1 for the winner,
0 elsewhere); average pooling spreads it as 1/k² over the window. Both follow from differentiating
the pool's index form in derive/layers/pool.py (CS231n notes, "Pooling layer"; Goodfellow et al.,
*Deep Learning*, §9.3). Ties go to the first maximum in row-major order. ``avg_backward_delta``
fuses the average pool's backward pass with BP2 of the conv layer below it (the pool's gradient
is never written out as a map of its own; the same roundings); BP3 then sums delta.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, error_model="numpy", inline="always")
def _greater(value, place, best, where):
    # (value, place) if value > best else (best, where): the running maximum of a window
    bigger = value > best
    return (value if bigger else best), (place if bigger else where)


@njit(cache=True, error_model="numpy", parallel=True)
def _max_2x2(x, out, arg):
    # max_forward for 2x2 windows with stride 2, the window's four elements in row-major order
    channels, width = x.shape[1], x.shape[3]
    for task in prange(x.shape[0] * channels):  # one (sample, channel) plane per task
        n, c = task // channels, task % channels
        plane = x[n, c]
        for i in range(out.shape[2]):
            top = 2 * i
            for j in range(out.shape[3]):
                left = 2 * j
                below = top * width + width + left  # the flat index of (top + 1, left)
                best, where = plane[top, left], top * width + left
                best, where = _greater(plane[top, left + 1], top * width + left + 1, best, where)
                best, where = _greater(plane[top + 1, left], below, best, where)
                best, where = _greater(plane[top + 1, left + 1], below + 1, best, where)
                out[n, c, i, j] = best
                arg[n, c, i, j] = where


@njit(cache=True, error_model="numpy", parallel=True)
def max_forward(x, size, stride, out, arg):
    # x: (batch, c, H, W); out, arg: (batch, c, Ho, Wo); arg holds the flat index r*W + col.
    # A window element replaces the running maximum only if it is greater (ties keep the first
    # in row-major order), kept in scalars that LLVM turns into selects, where a branch on random
    # data mispredicted about half the time (cnn2's first pool 2.6 -> 0.7 ms on one thread, with
    # the 2x2 windows' offsets known in _max_2x2)
    channels, width = x.shape[1], x.shape[3]
    if size == 2 and stride == 2:  # the common pool
        _max_2x2(x, out, arg)
        return
    for task in prange(x.shape[0] * channels):  # one (sample, channel) plane per task
        n, c = task // channels, task % channels
        plane = x[n, c]
        for i in range(out.shape[2]):
            top = i * stride
            for j in range(out.shape[3]):
                left = j * stride
                best, where = plane[top, left], top * width + left
                for m in range(size):
                    for q in range(size):
                        best, where = _greater(plane[top + m, left + q],
                                               (top + m) * width + left + q, best, where)
                out[n, c, i, j] = best
                arg[n, c, i, j] = where


@njit(cache=True, error_model="numpy", parallel=True)
def max_backward(grad_out, arg, dx):
    # Route: dx[winner] += grad_out (dmax/dx = 1 at the arg-max, 0 elsewhere), windows in
    # row-major order. dx: (batch, c, H, W); arg indexes the flat (H*W) plane
    channels = dx.shape[1]
    for task in prange(dx.shape[0] * channels):  # one (sample, channel) plane per task
        n, c = task // channels, task % channels
        plane = dx[n, c].reshape(-1)  # (H*W,), a view
        plane[:] = 0.0
        grads, where = grad_out[n, c], arg[n, c]
        for i in range(grads.shape[0]):
            for j in range(grads.shape[1]):
                plane[where[i, j]] += grads[i, j]


@njit(cache=True, error_model="numpy", parallel=True)
def _avg_2x2(x, out):
    # avg_forward for 2x2 windows with stride 2: each window's sum in a float64 scalar, from 0.0
    # and in row-major window order, as the general loop adds them (the same bits; LeNet-5's
    # first pool 0.15-0.28 -> 0.06-0.07 ms at two threads, bench/kernel_micro.py)
    channels = x.shape[1]
    for task in prange(x.shape[0] * channels):  # one (sample, channel) plane per task
        n, c = task // channels, task % channels
        plane = x[n, c]
        for i in range(out.shape[2]):
            top, bottom, dst = plane[2 * i], plane[2 * i + 1], out[n, c, i]  # (W,), (W,), (Wo,)
            for j in range(out.shape[3]):
                acc = 0.0
                acc += top[2 * j]
                acc += top[2 * j + 1]
                acc += bottom[2 * j]
                acc += bottom[2 * j + 1]
                dst[j] = acc * 0.25


@njit(cache=True, error_model="numpy", parallel=True)
def avg_forward(x, size, stride, out):
    # out[n,c,i,j] = (1/k^2) sum over the k x k window, summed in row-major window order in
    # float64. A row of windows at a time, window element by window element, so that the loop
    # over the row's windows vectorises, with the same sums (LeNet-5's first pool 0.50 -> 0.28 ms
    # on one thread); 2x2 windows with stride 2 in _avg_2x2.
    # x: (batch, c, H, W); out: (batch, c, Ho, Wo)
    if size == 2 and stride == 2:  # the common pool
        _avg_2x2(x, out)
        return
    scale = 1.0 / (size * size)
    channels, cols_out = x.shape[1], out.shape[3]
    for task in prange(x.shape[0] * channels):  # one (sample, channel) plane per task
        n, c = task // channels, task % channels
        plane = x[n, c]
        acc = np.empty(cols_out, dtype=np.float64)  # the sums of one row of windows
        for i in range(out.shape[2]):
            acc[:] = 0.0
            for m in range(size):
                row = plane[i * stride + m]
                for q in range(size):
                    for j in range(cols_out):
                        acc[j] += row[j * stride + q]
            for j in range(cols_out):
                out[n, c, i, j] = acc[j] * scale


@njit(cache=True, error_model="numpy", parallel=True)
def avg_backward(grad_out, size, stride, dx):
    # Spread: dx[window] += grad_out / k^2 (d mean / d x_i = 1/k^2). dx: (batch, c, H, W)
    scale = 1.0 / (size * size)
    for n in prange(grad_out.shape[0]):
        dx[n] = 0.0
        for c in range(grad_out.shape[1]):
            for i in range(grad_out.shape[2]):
                for j in range(grad_out.shape[3]):
                    share = grad_out[n, c, i, j] * scale
                    for m in range(size):
                        for q in range(size):
                            dx[n, c, i * stride + m, j * stride + q] += share


@njit(cache=True, error_model="numpy", parallel=True)
def _avg_backward_delta_2x2(grad_out, d, delta):
    # avg_backward_delta for 2x2 windows: the same products, written along rows of the plane
    # (LeNet-5's C1: 0.20 ms in the per-layer table before; bench/kernel_micro.py)
    channels, rows_out, cols_out = d.shape[1], grad_out.shape[2], grad_out.shape[3]
    for n in prange(d.shape[0]):  # one sample per task
        shares = np.empty(cols_out, dtype=delta.dtype)  # grad / 4, rounded to the array dtype
        for c in range(channels):
            for i in range(rows_out):
                grad = grad_out[n, c, i]  # (Wo,)
                for j in range(cols_out):
                    shares[j] = grad[j] * 0.25
                for r in range(2 * i, 2 * i + 2):
                    dr, out = d[n, c, r], delta[n, c, r]  # (W,) each
                    for j in range(cols_out):
                        out[2 * j] = shares[j] * dr[2 * j]
                        out[2 * j + 1] = shares[j] * dr[2 * j + 1]
                    for col in range(2 * cols_out, out.shape[0]):
                        out[col] = 0.0  # a column no window covers
            for r in range(2 * rows_out, d.shape[2]):
                delta[n, c, r] = 0.0  # a row no window covers


@njit(cache=True, error_model="numpy", parallel=True)
def avg_backward_delta(grad_out, size, d, delta):
    # Average pooling with stride = size, its backward pass fused with the layer below's BP2:
    # delta = (grad_out / k^2 spread over each window) * g'(z), 0 where no window covers; BP3
    # follows in update.py's bias_step, which sums delta as delta_bias_step would.
    # grad_out: (batch, c, Ho, Wo); d, delta: (batch, c, H, W)
    if size == 2:  # the common pool
        _avg_backward_delta_2x2(grad_out, d, delta)
        return
    scale = 1.0 / (size * size)
    for task in prange(d.shape[0] * d.shape[1]):  # one (sample, channel) plane per task
        n, c = task // d.shape[1], task % d.shape[1]
        rounded = np.empty(1, dtype=delta.dtype)  # the spread value in the array dtype, as avg_backward stores it
        delta[n, c] = 0.0  # positions no window covers
        for i in range(grad_out.shape[2]):
            for m in range(size):
                r = i * size + m
                for j in range(grad_out.shape[3]):
                    rounded[0] = grad_out[n, c, i, j] * scale
                    share = rounded[0]
                    for q in range(size):
                        delta[n, c, r, j * size + q] = share * d[n, c, r, j * size + q]
