"""Pooling kernels on the device: one thread per output element forward, one per input element back.

The same rules as kernels/cpu/pool.py (from the pool's index form in derive/layers/pool.py; CS231n
notes, "Pooling layer"): max pooling routes the gradient to the arg-max of each window (ties to the
first maximum in row-major order; ``arg`` holds the flat index r·W + c into the input plane), average
pooling spreads it as 1/k² over the window. The backward kernels GATHER rather than scatter: the
thread of input element (r, c) visits the windows that cover it, in row-major window order, and
writes dx once. Overlapping windows (stride < size) need no atomics and no zero fill, and every sum
runs in the CPU kernel's order. Layout (batch, channels, rows, cols); all arrays on the device.
"""

from __future__ import annotations

from typing import Any

from numba import cuda

from chainrule.kernels.cuda.counters import launch
from chainrule.kernels.cuda.grid import THREADS, blocks, unravel


@cuda.jit(device=True)
def windows(r, size, stride, count):
    # The window indices w (0 <= w < count) whose span w*stride .. w*stride+size-1 holds r: lo..hi-1
    lo = 0 if r < size else (r - size) // stride + 1
    hi = r // stride + 1
    # not the builtin min: test_ptx.py cannot compile it for the CUDA target without a GPU
    return lo, hi - (hi - count if hi > count else 0)


@cuda.jit
def max_forward_kernel(x, size, stride, out, arg):
    # One thread per out[n, c, i, j] = max of the window; arg = r * W + col of the first maximum
    idx = cuda.grid(1)
    if idx < out.size:
        n, c, i, j = unravel(idx, out.shape)
        best_r, best_c = i * stride, j * stride
        best = x[n, c, best_r, best_c]
        for m in range(size):
            for q in range(size):
                value = x[n, c, i * stride + m, j * stride + q]
                if value > best:
                    best, best_r, best_c = value, i * stride + m, j * stride + q
        out[n, c, i, j] = best
        arg[n, c, i, j] = best_r * x.shape[3] + best_c


@cuda.jit
def max_backward_kernel(grad, arg, size, stride, dx):
    # One thread per dx[n, c, r, col]: the sum of grad over the windows whose arg-max it is, in
    # row-major window order. size 0: window geometry unknown, every window is visited
    idx = cuda.grid(1)
    if idx < dx.size:
        n, c, r, col = unravel(idx, dx.shape)
        flat = r * dx.shape[3] + col
        i_lo, i_hi, j_lo, j_hi = 0, grad.shape[2], 0, grad.shape[3]
        if size > 0:
            i_lo, i_hi = windows(r, size, stride, grad.shape[2])
            j_lo, j_hi = windows(col, size, stride, grad.shape[3])
        acc = 0.0
        for i in range(i_lo, i_hi):
            for j in range(j_lo, j_hi):
                if arg[n, c, i, j] == flat:
                    acc += grad[n, c, i, j]
        dx[n, c, r, col] = acc


@cuda.jit
def avg_forward_kernel(x, size, stride, out):
    # One thread per out[n, c, i, j] = (1/k^2) sum over the k x k window
    idx = cuda.grid(1)
    if idx < out.size:
        n, c, i, j = unravel(idx, out.shape)
        acc = 0.0
        for m in range(size):
            for q in range(size):
                acc += x[n, c, i * stride + m, j * stride + q]
        out[n, c, i, j] = acc * (1.0 / (size * size))


@cuda.jit
def avg_backward_kernel(grad, size, stride, dx):
    # One thread per dx[n, c, r, col] = sum over the windows that cover it of grad / k^2
    idx = cuda.grid(1)
    if idx < dx.size:
        n, c, r, col = unravel(idx, dx.shape)
        scale = 1.0 / (size * size)
        i_lo, i_hi = windows(r, size, stride, grad.shape[2])
        j_lo, j_hi = windows(col, size, stride, grad.shape[3])
        acc = 0.0
        for i in range(i_lo, i_hi):
            for j in range(j_lo, j_hi):
                acc += grad[n, c, i, j] * scale
        dx[n, c, r, col] = acc


def max_forward(x: Any, size: int, stride: int, out: Any, arg: Any) -> None:
    """out, arg (batch, c, Ho, Wo) from x (batch, c, H, W); arg int64. One launch."""
    launch(max_forward_kernel, blocks(out.size), THREADS, x, size, stride, out, arg)


def max_backward(grad: Any, arg: Any, dx: Any, size: int = 0, stride: int = 0) -> None:
    """dx (batch, c, H, W) from grad and arg (batch, c, Ho, Wo); every element is written (no zero
    fill needed). One launch. Pass the pool's ``size`` and ``stride`` so that each thread visits
    only the windows that cover its element; without them it visits all Ho·Wo windows."""
    launch(max_backward_kernel, blocks(dx.size), THREADS, grad, arg, size, stride, dx)


def avg_forward(x: Any, size: int, stride: int, out: Any) -> None:
    launch(avg_forward_kernel, blocks(out.size), THREADS, x, size, stride, out)


def avg_backward(grad: Any, size: int, stride: int, dx: Any) -> None:
    launch(avg_backward_kernel, blocks(dx.size), THREADS, grad, size, stride, dx)
