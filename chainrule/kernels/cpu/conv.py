"""Convolution (cross-correlation) kernels as tuned direct loops: the structural template.

The layer z[f,i,j] = Σ_c Σ_m Σ_n w[f,c,m,n] · x[c, i·s+m, j·s+n] + b[f] is differentiated in index
form in derive/layers/conv.py; KroneckerDelta simplification gives two correlations:
∂L/∂w[f,c,m,n] = Σ_i Σ_j δ[f,i,j] · x[c, i·s+m, j·s+n]  (the input correlated with δ), and
∂L/∂x = full convolution of δ with the flipped kernel (scattered here as x[c, i·s+m, j·s+n] += w·δ).
Layout (batch, channels, rows, cols); the innermost loop runs along a row so it vectorises.
The input pass is parallel over samples and the weight pass over (filter, channel) pairs, each sum
in a fixed order, so results are bit-identical from run to run (LeCun et al., 1998; CS231n notes).
A convolution whose window covers its whole unpadded input (LeNet-5's C5: 16@5×5 → 120@1×1) is a
dense layer on the flattened input, and the layers run it through the dense (BLAS) template.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def forward(xp, w, stride, out):
    # xp: (batch, c_in, Hp, Wp) padded input; w: (f, c_in, k, k); out: (batch, f, Ho, Wo), no bias
    # z[n,f,i,j] = sum_c sum_m sum_q w[f,c,m,q] * xp[n,c,i*s+m,j*s+q]
    batch, c_in = xp.shape[0], xp.shape[1]
    filters, k = w.shape[0], w.shape[2]
    rows, cols = out.shape[2], out.shape[3]
    for n in prange(batch):
        for f in range(filters):
            acc = np.zeros((rows, cols), dtype=out.dtype)  # (Ho, Wo)
            for c in range(c_in):
                for m in range(k):
                    for q in range(k):
                        wv = w[f, c, m, q]
                        if stride == 1:  # unit stride: the row loop is contiguous and vectorises
                            for i in range(rows):
                                for j in range(cols):
                                    acc[i, j] += wv * xp[n, c, i + m, j + q]
                        else:
                            for i in range(rows):
                                for j in range(cols):
                                    acc[i, j] += wv * xp[n, c, i * stride + m, j * stride + q]
            out[n, f] = acc


@njit(cache=True, parallel=True)
def weight_grad(xp, delta, stride, dw):
    # dL/dw[f,c,m,q] = sum_n sum_i sum_j delta[n,f,i,j] * xp[n,c,i*s+m,j*s+q]
    # xp: (batch, c_in, Hp, Wp); delta: (batch, f, Ho, Wo); dw: (f, c_in, k, k)
    batch, c_in = xp.shape[0], xp.shape[1]
    filters, k = dw.shape[0], dw.shape[2]
    rows, cols = delta.shape[2], delta.shape[3]
    for pair in prange(filters * c_in):  # one (filter, channel) pair per task: a fixed-order sum
        f, c = pair // c_in, pair % c_in
        acc = np.zeros((k, k, cols), dtype=dw.dtype)  # partial sums per output column j
        for n in range(batch):
            for i in range(rows):
                for m in range(k):
                    for q in range(k):
                        if stride == 1:
                            for j in range(cols):
                                acc[m, q, j] += delta[n, f, i, j] * xp[n, c, i + m, j + q]
                        else:
                            for j in range(cols):
                                acc[m, q, j] += (delta[n, f, i, j]
                                                 * xp[n, c, i * stride + m, j * stride + q])
        for m in range(k):
            for q in range(k):
                total = 0.0
                for j in range(cols):  # reduce the column partials in a fixed order
                    total += acc[m, q, j]
                dw[f, c, m, q] = total


@njit(cache=True, parallel=True)
def input_grad(delta, w, stride, dxp):
    # dL/dx = full convolution of delta with the flipped kernel, as a scatter:
    # dxp[n,c,i*s+m,j*s+q] += w[f,c,m,q] * delta[n,f,i,j].  dxp: (batch, c_in, Hp, Wp), zeroed here
    batch, filters = delta.shape[0], delta.shape[1]
    c_in, k = w.shape[1], w.shape[2]
    rows, cols = delta.shape[2], delta.shape[3]
    for n in prange(batch):  # samples are independent: no two threads write the same element
        dxp[n] = 0.0
        for c in range(c_in):
            for f in range(filters):
                for m in range(k):
                    for q in range(k):
                        wv = w[f, c, m, q]
                        if stride == 1:
                            for i in range(rows):
                                for j in range(cols):
                                    dxp[n, c, i + m, j + q] += wv * delta[n, f, i, j]
                        else:
                            for i in range(rows):
                                for j in range(cols):
                                    dxp[n, c, i * stride + m, j * stride + q] += \
                                        wv * delta[n, f, i, j]


def is_dense(in_shape: tuple[int, ...], kernel: int, padding: int) -> bool:
    """True when the kernel covers the whole unpadded input: the conv is then a dense layer."""
    return padding == 0 and in_shape[1] == kernel and in_shape[2] == kernel


def pad(x: np.ndarray, padding: int) -> np.ndarray:
    """Zero padding on the two spatial axes. x (batch, c, H, W) -> (batch, c, H+2p, W+2p)."""
    if padding == 0:
        return np.ascontiguousarray(x)
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


def unpad(x: np.ndarray, padding: int) -> np.ndarray:
    """The inverse of :func:`pad` for gradients: drop the border."""
    if padding == 0:
        return x
    return np.ascontiguousarray(x[:, :, padding:-padding, padding:-padding])
