"""Dense-layer contractions: BLAS matrix products (the structural template for a dense layer).

The index form z_j = Σ_k w_jk x_k + b_j (derive/layers/dense.py) differentiates to three contractions:
forward z = x Wᵀ, BP4 ∂L/∂W = δᵀ x, and BP2's ∂L/∂x = δ W (Nielsen, *NNDL*, ch. 2). Each is a BLAS
product (:func:`~chainrule.kernels.blas.matmul`, NumPy's OpenBLAS). A large product is split into
row blocks of its output, one single-threaded BLAS call per block inside ``prange`` (threads.py keeps BLAS on one thread, so nothing
oversubscribes); no block shares a sum with another, so the result does not depend on the split.
Measured on 2 cores (batch 64): the mlp:784-128-10 training step went from 0.31 to 0.23 ms.
The forward product is split along the longer side of its output: at batch 64, splitting the
128 features of mlp:784-128-10's hidden layer took 114 µs against 144 µs for splitting the
samples (LeNet-5's C5, 120 features: 62 against 80 µs), while at batch 1000 the samples won
(1.30 against 1.65 ms; 2-core Xeon). Through blas.py, which writes each feature block in place,
the hidden layer's split forward took 89 µs (2-core AMD EPYC, bench/kernel_micro.py; 110 µs by
``np.dot`` and a transposed buffer).
The bias is added by the fused activation kernel.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from chainrule.kernels.blas import matmul
from chainrule.kernels.blocks import row_blocks
from chainrule.kernels.fused_step import store_updates


@njit(cache=True, error_model="numpy", parallel=True)
def _rows_times(a, b_t, out, blocks):
    # out[r] = a[r] b_t^T for row blocks r of a. a: (m, k); b_t: (n, k); out: (m, n)
    m = a.shape[0]
    for block in prange(blocks):
        lo, hi = block * m // blocks, (block + 1) * m // blocks
        matmul(a[lo:hi], b_t.T, out[lo:hi], 1.0, 0.0)


@njit(cache=True, error_model="numpy", parallel=True)
def _features_times(x, w, out, blocks):
    # out[:, r] = x w[r]^T for row blocks r of w (output features), written in place (the
    # product's leading dimension is out's row stride). x: (batch, k); w: (n_out, k);
    # out: (batch, n_out)
    m = w.shape[0]
    for block in prange(blocks):
        lo, hi = block * m // blocks, (block + 1) * m // blocks
        matmul(x, w[lo:hi].T, out[:, lo:hi], 1.0, 0.0)


@njit(cache=True, error_model="numpy", parallel=True)
def _columns_times(a, b, out, blocks):
    # out[:, r] = a b[:, r] for column blocks r of b, written in place. a: (m, k); b: (k, n);
    # out: (m, n). The compiled epoch's forward pass with the weights transposed (epoch.py)
    n = b.shape[1]
    for block in prange(blocks):
        lo, hi = block * n // blocks, (block + 1) * n // blocks
        matmul(a, b[:, lo:hi], out[:, lo:hi], 1.0, 0.0)


@njit(cache=True, error_model="numpy", parallel=True)
def _rows_times_plain(a, b, out, blocks):
    # out[r] = a[r] b for row blocks r of a. a: (m, k); b: (k, n); out: (m, n)
    m = a.shape[0]
    for block in prange(blocks):
        lo, hi = block * m // blocks, (block + 1) * m // blocks
        matmul(a[lo:hi], b, out[lo:hi], 1.0, 0.0)


def forward(x: np.ndarray, weight: np.ndarray, out: np.ndarray) -> np.ndarray:
    """z = x Wᵀ. x (batch, n_in), weight (n_out, n_in), out (batch, n_out). The longer side of
    the output is split between the threads: the features at training batch sizes, the samples
    for large batches (evaluation)."""
    blocks = row_blocks(x.shape[0], x.shape[1], weight.shape[0])
    if blocks == 1:
        return np.dot(x, weight.T, out=out)
    x, weight = np.ascontiguousarray(x), np.ascontiguousarray(weight)
    if x.shape[0] < weight.shape[0]:
        _features_times(x, weight, out, min(blocks, weight.shape[0]))
    else:
        _rows_times(x, weight, out, blocks)
    return out


def weight_grad(delta: np.ndarray, x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """BP4 alone: ∂L/∂W = δᵀ x into ``out``. delta (batch, n_out), x (batch, n_in), out (n_out,
    n_in). Training reduces it inside the fused step (kernels/update.py ``rows_step``); this is
    the same kernel with the STORE rule."""
    store_updates({"weight": out}).dense_weight("weight", out, delta, x)
    return out


def input_grad(delta: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """∂L/∂x = δ W, which BP2 multiplies by g'(z) of the layer below. Returns (batch, n_in)."""
    blocks = row_blocks(delta.shape[0], delta.shape[1], weight.shape[1])
    if blocks == 1:
        return np.dot(delta, weight)
    out = np.empty((delta.shape[0], weight.shape[1]), dtype=np.result_type(delta, weight))
    _rows_times_plain(np.ascontiguousarray(delta), np.ascontiguousarray(weight), out, blocks)
    return out
