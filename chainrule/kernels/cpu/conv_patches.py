"""Convolution as one BLAS product per block of samples over patch-major im2col: a row per output
position, channels innermost.

The three products of conv.py's docstring, with the windows laid out one output position per row,
P[n·Ho·Wo + i·Wo + j, (m·k + q)·C + c] = xp[n, c, i·s+m, j·s+q], and the weight W2 (f, k·k·C)
in the same column order (:func:`window_weight`):
  forward    Z     = P · W2ᵀ             (positions, f), then transposed into (batch, f, Ho, Wo)
  ∂L/∂x      dP    = Δ · W2              (positions, k·k·C), added back onto the windows
  BP4        ∂L/∂W = Σ_b Δ_bᵀ · P_b      (f, k·k·C), Δ = δ with the positions as rows
With the positions as rows the forward and input-gradient products are tall and thin (LeNet-5's
C3: 6400 × 150 by 150 × 16), which OpenBLAS ran at about twice the rate of the per-sample
products W · cols[n] (16 × 150 by 150 × 100). With channels innermost each kernel row of a window
is one contiguous run of k·C values, so laying out P is a run of copies (C3's P: 0.99 → 0.54 ms
against a copy per kernel tap). A task takes a block of ``BLOCK_SAMPLES`` whole samples: it lays
out their rows of P, multiplies, and writes their outputs while the block is in cache. BP4 adds
the blocks' products in block order, and the blocks depend on the batch size alone, never on the
thread count: the bits are the same on one thread or two, from run to run.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

BLOCK_SAMPLES = 8  # samples per task (and per partial sum of BP4)


@njit(cache=True, inline="always")
def copy_run(src, at, dst, to, count):
    # dst[to:to+count] = src[at:at+count], eight values at a time: a run of k*C values (C3: 30)
    # is too short for the loop vectoriser, which wants 32 iterations, but eight straight-line
    # copies are one vector move
    e = 0
    while e + 8 <= count:
        for u in range(8):
            dst[to + e + u] = src[at + e + u]
        e += 8
    while e < count:
        dst[to + e] = src[at + e]
        e += 1


@njit(cache=True, inline="always")
def add_run(src, at, dst, to, count):
    # dst[to:to+count] += src[at:at+count], eight values at a time (as copy_run)
    e = 0
    while e + 8 <= count:
        for u in range(8):
            dst[to + e + u] += src[at + e + u]
        e += 8
    while e < count:
        dst[to + e] += src[at + e]
        e += 1


@njit(cache=True)
def patches(x, k, stride, rows_out, cols_out, xh, p):
    # p[i*Wo + j, (m*k + q)*C + c] = x[c, i*s+m, j*s+q] for one sample, through xh, the sample
    # with channels innermost, so that each kernel row of a window is one contiguous run of k*C
    # values. x: (C, Hp, Wp) padded input; xh: (Hp, Wp, C) scratch; p: (Ho*Wo, k*k*C)
    channels, width = x.shape[0], x.shape[2]
    for c in range(channels):
        for r in range(x.shape[1]):
            for col in range(width):
                xh[r, col, c] = x[c, r, col]
    flat = xh.reshape(-1)
    run = k * channels
    for i in range(rows_out):
        for j in range(cols_out):
            row = i * cols_out + j
            for m in range(k):
                src = ((i * stride + m) * width + j * stride) * channels
                copy_run(flat, src, p[row], m * run, run)


@njit(cache=True)
def scatter_patches(dp, k, stride, rows_out, cols_out, dxh, dx):
    # the adjoint of patches: dx[c, i*s+m, j*s+q] += dp[i*Wo + j, (m*k + q)*C + c], positions in
    # row-major order, summed in dxh (Hp, Wp, C) and then transposed into dx (C, Hp, Wp)
    channels, width = dx.shape[0], dx.shape[2]
    dxh[:] = 0.0
    flat = dxh.reshape(-1)
    run = k * channels
    for i in range(rows_out):
        for j in range(cols_out):
            row = i * cols_out + j
            for m in range(k):
                dst = ((i * stride + m) * width + j * stride) * channels
                add_run(dp[row], m * run, flat, dst, run)
    for c in range(channels):
        for r in range(dx.shape[1]):
            for col in range(width):
                dx[c, r, col] = dxh[r, col, c]


@njit(cache=True)
def to_positions(maps, rows):
    # rows[i*Wo + j, f] = maps[f, i, j]. maps: (f, Ho, Wo); rows: (Ho*Wo, f)
    cols_out = maps.shape[2]
    for i in range(maps.shape[1]):
        for j in range(cols_out):
            for f in range(maps.shape[0]):
                rows[i * cols_out + j, f] = maps[f, i, j]


@njit(cache=True)
def to_rows(rows, maps):
    # the inverse of to_positions: maps[f, i, j] = rows[i*Wo + j, f]
    cols_out = maps.shape[2]
    for f in range(maps.shape[0]):
        for i in range(maps.shape[1]):
            for j in range(cols_out):
                maps[f, i, j] = rows[i * cols_out + j, f]


@njit(cache=True, parallel=True)
def fill_patches(xp, k, stride, p):
    # P for every sample (BP4 without the forward pass's P). xp: (batch, c_in, Hp, Wp)
    rows_out = (xp.shape[2] - k) // stride + 1
    cols_out = (xp.shape[3] - k) // stride + 1
    positions = rows_out * cols_out
    for n in prange(xp.shape[0]):
        xh = np.empty((xp.shape[2], xp.shape[3], xp.shape[1]), dtype=xp.dtype)
        patches(xp[n], k, stride, rows_out, cols_out, xh, p[n * positions:(n + 1) * positions])


@njit(cache=True, parallel=True)
def forward(xp, w2, k, stride, p, out):
    # Z = P W2^T per block of samples. xp: (batch, c_in, Hp, Wp); w2: (f, k*k*c_in);
    # p: (batch*Ho*Wo, k*k*c_in), filled here and kept for BP4; out: (batch, f, Ho, Wo)
    batch = xp.shape[0]
    rows_out, cols_out = out.shape[2], out.shape[3]
    positions = rows_out * cols_out
    w2t = w2.T  # (k*k*c_in, f), F-contiguous: BLAS reads it transposed
    blocks = (batch + BLOCK_SAMPLES - 1) // BLOCK_SAMPLES
    for block in prange(blocks):
        first, last = block * BLOCK_SAMPLES, min(batch, (block + 1) * BLOCK_SAMPLES)
        lo, hi = first * positions, last * positions
        xh = np.empty((xp.shape[2], xp.shape[3], xp.shape[1]), dtype=xp.dtype)
        for n in range(first, last):
            patches(xp[n], k, stride, rows_out, cols_out, xh, p[n * positions:(n + 1) * positions])
        z = np.dot(p[lo:hi], w2t)  # (block positions, f)
        for n in range(first, last):
            to_rows(z[(n - first) * positions:(n - first + 1) * positions], out[n])


@njit(cache=True, parallel=True)
def input_grad(delta, w2, k, stride, dxp):
    # dL/dx: dP = Delta W2 per block of samples, added back onto the windows.
    # delta: (batch, f, Ho, Wo); w2: (f, k*k*c_in); dxp: (batch, c_in, Hp, Wp), written here
    batch, filters = delta.shape[0], delta.shape[1]
    rows_out, cols_out = delta.shape[2], delta.shape[3]
    positions = rows_out * cols_out
    blocks = (batch + BLOCK_SAMPLES - 1) // BLOCK_SAMPLES
    for block in prange(blocks):
        first, last = block * BLOCK_SAMPLES, min(batch, (block + 1) * BLOCK_SAMPLES)
        rows = np.empty(((last - first) * positions, filters), dtype=delta.dtype)  # Delta block
        for n in range(first, last):
            to_positions(delta[n], rows[(n - first) * positions:(n - first + 1) * positions])
        dp = np.dot(rows, w2)  # (block positions, k*k*c_in)
        dxh = np.empty((dxp.shape[2], dxp.shape[3], dxp.shape[1]), dtype=dxp.dtype)  # (Hp, Wp, C)
        for n in range(first, last):
            scatter_patches(dp[(n - first) * positions:(n - first + 1) * positions], k, stride,
                            rows_out, cols_out, dxh, dxp[n])


@njit(cache=True, parallel=True)
def weight_grad(p, delta, dw2):
    # BP4: dL/dW = sum over blocks b of Delta_b^T P_b, the blocks' products added in block order.
    # p: (batch*Ho*Wo, k*k*c_in) from forward; delta: (batch, f, Ho, Wo); dw2: (f, k*k*c_in)
    batch, filters = delta.shape[0], delta.shape[1]
    positions = delta.shape[2] * delta.shape[3]
    blocks = (batch + BLOCK_SAMPLES - 1) // BLOCK_SAMPLES
    partial = np.empty((blocks, filters, p.shape[1]), dtype=dw2.dtype)
    for block in prange(blocks):
        first, last = block * BLOCK_SAMPLES, min(batch, (block + 1) * BLOCK_SAMPLES)
        maps = np.empty((filters, (last - first) * positions), dtype=delta.dtype)  # Delta_b^T
        for n in range(first, last):
            at = (n - first) * positions
            for f in range(filters):
                maps[f, at:at + positions] = delta[n, f].reshape(-1)
        np.dot(maps, p[first * positions:last * positions], partial[block])  # (f, k*k*c_in)
    dw2[:] = partial[0]
    for block in range(1, blocks):  # the blocks' sums in block order
        dw2 += partial[block]


def new_patches(xp: np.ndarray, k: int, stride: int) -> np.ndarray:
    """An empty P for padded input ``xp``: (batch·Ho·Wo, k·k·c_in)."""
    rows = (xp.shape[2] - k) // stride + 1
    cols = (xp.shape[3] - k) // stride + 1
    return np.empty((xp.shape[0] * rows * cols, xp.shape[1] * k * k), dtype=xp.dtype)


def window_weight(w: np.ndarray) -> np.ndarray:
    """(f, c_in, k, k) → (f, k·k·c_in), the column order of P: (m·k + q)·C + c."""
    return np.ascontiguousarray(w.transpose(0, 2, 3, 1)).reshape(w.shape[0], -1)


def from_window_order(dw2: np.ndarray, dw: np.ndarray) -> None:
    """dw (f, c_in, k, k) ← dw2 (f, k·k·c_in) in the column order of P."""
    filters, c_in, k = dw.shape[0], dw.shape[1], dw.shape[2]
    dw[...] = dw2.reshape(filters, k, k, c_in).transpose(0, 3, 1, 2)
