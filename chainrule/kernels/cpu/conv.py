"""Convolution (cross-correlation) kernels: im2col + one BLAS product per block of samples, the
structural template.

The layer z[f,i,j] = Σ_c Σ_m Σ_n w[f,c,m,n] · x[c, i·s+m, j·s+n] + b[f] is differentiated in index
form in derive/layers/conv.py; KroneckerDelta simplification gives two correlations:
∂L/∂w[f,c,m,n] = Σ_i Σ_j δ[f,i,j] · x[c, i·s+m, j·s+n]  (the input correlated with δ), and
∂L/∂x = full convolution of δ with the flipped kernel (scattered here as x[c, i·s+m, j·s+n] += w·δ).
Each is a matrix product once the input windows are laid out as rows or columns (im2col;
Chellapilla et al., *High performance convolutional neural networks for document processing*,
2006; CS231n notes). conv_patches.py lays them out one output position per row (P, channels
innermost) and runs each pass as one BLAS product per block of 8 samples, inside a ``prange``
(threads.py sets BLAS to one thread, so the calls do not oversubscribe); the forward pass keeps P
for BP4, whose blocks' products are added in block order, so results are bit-identical from run to
run and on one thread or two. Measured on the shared 2-core EPYC (batch 64, float32, one thread,
thread CPU time, best of 20; issue 13), against per-sample products W · cols[n] with cols (c·k·k,
Ho·Wo): LeNet-5's C3 forward 2.0 → 1.05 ms, ∂L/∂x 2.1 → 1.2 ms, ∂L/∂W 1.0 → 1.1 ms; cnn2's second
conv (32 → 64, 3×3 on 14×14) forward 11.5 → 8.2, ∂L/∂x 10.9 → 8.4-9.0, ∂L/∂W 8.2-9.0 → 8.1-8.4.

This departs from DESIGN.md's remark that 6-16-channel convolutions are poor fits for im2col +
BLAS. Measured earlier, with per-sample products, on the 2-core Zen 4 (batch 64, float32, best of
5 medians; 1 thread | 2 threads), LeNet-5's C3 (6→16, 5×5 on 14×14): forward direct loops 2.00 | 1.09 ms against im2col + BLAS
0.99 | 0.60 ms; ∂L/∂W 3.22 | 1.67 against 0.64 | 0.65 (cols kept from the forward pass);
∂L/∂x 2.52 | 1.04 against 1.01 | 0.57. With one input channel (C1, 25 rows of cols) the products
are too thin: forward direct 0.74 | 0.42 against 1.00 | 0.60, ∂L/∂W 0.92 | 0.52 against
0.74 | 0.79, so convolutions with fewer than ``IM2COL_MIN_ROWS`` rows of cols keep direct loops.
With stride 1 those loops run along rows of the padded width (``wide_*``): each tap is then one
long contiguous pass instead of Ho passes of Wo (28) values, most of which fell in the scalar
remainder of the vector loop; C1 forward 0.44 → 0.34 ms, ∂L/∂W 0.53 → 0.30 ms (2 threads).
A convolution whose window covers its whole unpadded input (LeNet-5's C5: 16@5×5 → 120@1×1) is a
dense layer on the flattened input, and the layers run it through the dense (BLAS) template.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from chainrule.kernels.cpu import conv_patches

IM2COL_MIN_ROWS = 50  # c_in·k·k from which im2col + BLAS beats the direct loops


@njit(cache=True, parallel=True)
def direct_forward(xp, w, stride, out):
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
def direct_weight_grad(xp, delta, stride, dw):
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
def direct_input_grad(delta, w, stride, dxp):
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




@njit(cache=True, parallel=True)
def wide_forward(xp, w, out):
    # Stride 1. z over rows of the padded width: acc[i*Wp + j] = z[i, j] for j < Wo (the rest is
    # discarded), so each tap is one contiguous, vectorised pass over (Ho-1)*Wp + Wo values; five
    # taps of a kernel row share one pass (acc loaded and stored once, not five times; the same
    # sums in the same order): LeNet-5's C1 209 -> 154 us
    # xp: (batch, c_in, Hp, Wp); w: (f, c_in, k, k); out: (batch, f, Ho, Wo), no bias
    filters, c_in, k = w.shape[0], w.shape[1], w.shape[2]
    width = xp.shape[3]
    rows, cols = out.shape[2], out.shape[3]
    span = (rows - 1) * width + cols
    for task in prange(xp.shape[0] * filters):
        n, f = task // filters, task % filters
        acc = np.zeros(span, dtype=out.dtype)
        for c in range(c_in):
            x = xp[n, c].reshape(-1)  # (Hp*Wp,)
            for m in range(k):
                q = 0
                while q + 5 <= k:  # five taps per pass over acc, added one after another as below
                    w0, w1, w2 = w[f, c, m, q], w[f, c, m, q + 1], w[f, c, m, q + 2]
                    w3, w4 = w[f, c, m, q + 3], w[f, c, m, q + 4]
                    o = m * width + q
                    x0, x1, x2 = x[o:o + span], x[o + 1:o + 1 + span], x[o + 2:o + 2 + span]
                    x3, x4 = x[o + 3:o + 3 + span], x[o + 4:o + 4 + span]
                    for t in range(span):
                        acc[t] = ((((acc[t] + w0 * x0[t]) + w1 * x1[t]) + w2 * x2[t])
                                  + w3 * x3[t]) + w4 * x4[t]
                    q += 5
                while q + 3 <= k:  # three taps per pass (3x3 kernels: cnn2's first conv)
                    w0, w1, w2 = w[f, c, m, q], w[f, c, m, q + 1], w[f, c, m, q + 2]
                    o = m * width + q
                    x0, x1, x2 = x[o:o + span], x[o + 1:o + 1 + span], x[o + 2:o + 2 + span]
                    for t in range(span):
                        acc[t] = ((acc[t] + w0 * x0[t]) + w1 * x1[t]) + w2 * x2[t]
                    q += 3
                while q < k:  # the remaining taps, one pass each
                    wv = w[f, c, m, q]
                    window = x[m * width + q:m * width + q + span]
                    for t in range(span):
                        acc[t] += wv * window[t]
                    q += 1
        for i in range(rows):
            for j in range(cols):
                out[n, f, i, j] = acc[i * width + j]


@njit(cache=True, parallel=True, fastmath={"reassoc", "contract"})
def wide_weight_grad(xp, delta, dw):
    # Stride 1. dL/dw[f,c,m,q] = sum_n <delta[n,f] laid on rows of width Wp, xp[n,c] shifted by
    # (m, q)>: contiguous dot products. reassoc lets LLVM vectorise each sum in a fixed
    # (compile-time) order, so results are the same from run to run. Five taps of a kernel row
    # share one pass over wide (loaded once, not five times): LeNet-5's C1 260 -> 230 us.
    filters, c_in, k = dw.shape[0], dw.shape[1], dw.shape[2]
    width = xp.shape[3]
    rows, cols = delta.shape[2], delta.shape[3]
    span = (rows - 1) * width + cols
    for pair in prange(filters * c_in):  # one (filter, channel) pair per task
        f, c = pair // c_in, pair % c_in
        acc = np.zeros((k, k), dtype=dw.dtype)
        zero = acc[0, 0]  # the partial sums in the array's dtype: float32 lanes, not float64
        wide = np.zeros(span, dtype=dw.dtype)  # delta[n, f] on rows of width Wp (zeros between)
        for n in range(xp.shape[0]):
            for i in range(rows):
                for j in range(cols):
                    wide[i * width + j] = delta[n, f, i, j]
            x = xp[n, c].reshape(-1)
            for m in range(k):
                q = 0
                while q + 5 <= k:  # five taps' dot products share one pass over wide
                    o = m * width + q
                    x0, x1, x2 = x[o:o + span], x[o + 1:o + 1 + span], x[o + 2:o + 2 + span]
                    x3, x4 = x[o + 3:o + 3 + span], x[o + 4:o + 4 + span]
                    t0 = t1 = t2 = t3 = t4 = zero
                    for t in range(span):
                        v = wide[t]
                        t0 += v * x0[t]
                        t1 += v * x1[t]
                        t2 += v * x2[t]
                        t3 += v * x3[t]
                        t4 += v * x4[t]
                    acc[m, q] += t0
                    acc[m, q + 1] += t1
                    acc[m, q + 2] += t2
                    acc[m, q + 3] += t3
                    acc[m, q + 4] += t4
                    q += 5
                while q + 3 <= k:  # three taps' dot products share one pass over wide
                    o = m * width + q
                    x0, x1, x2 = x[o:o + span], x[o + 1:o + 1 + span], x[o + 2:o + 2 + span]
                    t0 = t1 = t2 = zero
                    for t in range(span):
                        v = wide[t]
                        t0 += v * x0[t]
                        t1 += v * x1[t]
                        t2 += v * x2[t]
                    acc[m, q] += t0
                    acc[m, q + 1] += t1
                    acc[m, q + 2] += t2
                    q += 3
                while q < k:  # the remaining taps, one pass each
                    window = x[m * width + q:m * width + q + span]
                    total = zero
                    for t in range(span):
                        total += wide[t] * window[t]
                    acc[m, q] += total
                    q += 1
        for m in range(k):
            for q in range(k):
                dw[f, c, m, q] = acc[m, q]


def flat_weight(w: np.ndarray) -> np.ndarray:
    """(f, c_in, k, k) → (f, c_in·k·k), the row order of cols."""
    return np.ascontiguousarray(w).reshape(w.shape[0], -1)


def uses_im2col(c_in: int, kernel: int) -> bool:
    """Whether a conv with this many input channels runs as im2col + BLAS (True) or as direct
    loops: with one input channel (LeNet-5's C1, 25 rows of cols) the products are too thin for
    BLAS and the direct loops win (measurements in the module docstring)."""
    return c_in * kernel * kernel >= IM2COL_MIN_ROWS


def forward(xp: np.ndarray, w: np.ndarray, stride: int, out: np.ndarray) -> np.ndarray | None:
    """z = conv(xp, w) without bias. xp (batch, c_in, Hp, Wp); out (batch, f, Ho, Wo). Returns
    the patch-major P it built (None for direct loops), for BP4 (:func:`weight_grad`)."""
    if not uses_im2col(w.shape[1], w.shape[2]):
        if stride == 1:
            wide_forward(np.ascontiguousarray(xp), np.ascontiguousarray(w), out)
        else:
            direct_forward(xp, w, stride, out)
        return None
    p = conv_patches.new_patches(xp, w.shape[2], stride)
    conv_patches.forward(np.ascontiguousarray(xp), conv_patches.window_weight(w), w.shape[2],
                         stride, p, out)
    return p


def weight_grad(xp: np.ndarray, delta: np.ndarray, stride: int, dw: np.ndarray,
                cols: np.ndarray | None = None) -> None:
    """BP4 into dw (f, c_in, k, k) from the padded input and δ (batch, f, Ho, Wo); ``cols`` is
    the P that :func:`forward` returned, or None to build it again."""
    delta = np.ascontiguousarray(delta)
    if not uses_im2col(dw.shape[1], dw.shape[2]):
        if stride == 1:
            wide_weight_grad(np.ascontiguousarray(xp), delta, dw)
        else:
            direct_weight_grad(xp, delta, stride, dw)
        return
    if cols is None:
        cols = conv_patches.new_patches(xp, dw.shape[2], stride)
        conv_patches.fill_patches(np.ascontiguousarray(xp), dw.shape[2], stride, cols)
    dw2 = np.empty((dw.shape[0], cols.shape[1]), dtype=dw.dtype)  # (f, k·k·c_in)
    conv_patches.weight_grad(cols, delta, dw2)
    conv_patches.from_window_order(dw2, dw)


def input_grad(delta: np.ndarray, w: np.ndarray, stride: int, dxp: np.ndarray) -> None:
    """∂L/∂x into dxp (batch, c_in, Hp, Wp) from δ (batch, f, Ho, Wo)."""
    if not uses_im2col(w.shape[1], w.shape[2]):
        direct_input_grad(np.ascontiguousarray(delta), w, stride, dxp)
        return
    conv_patches.input_grad(np.ascontiguousarray(delta), conv_patches.window_weight(w), w.shape[2],
                            stride, dxp)


def is_dense(in_shape: tuple[int, ...], kernel: int, padding: int) -> bool:
    """True when the kernel covers the whole unpadded input: the conv is then a dense layer."""
    return padding == 0 and in_shape[1] == kernel and in_shape[2] == kernel


def pad(x: np.ndarray, padding: int) -> np.ndarray:
    """Zero padding on the two spatial axes. x (batch, c, H, W) -> (batch, c, H+2p, W+2p)."""
    if padding == 0:
        return np.ascontiguousarray(x)
    # zeros + a slice copy: the same array as np.pad, which took 34 us for LeNet-5's C1 input
    # against 11 us for this
    xp = np.zeros((*x.shape[:2], x.shape[2] + 2 * padding, x.shape[3] + 2 * padding),
                  dtype=x.dtype)
    xp[:, :, padding:-padding, padding:-padding] = x
    return xp


def unpad(x: np.ndarray, padding: int) -> np.ndarray:
    """The inverse of :func:`pad` for gradients: drop the border."""
    if padding == 0:
        return x
    return np.ascontiguousarray(x[:, :, padding:-padding, padding:-padding])
