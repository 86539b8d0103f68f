"""Convolution (cross-correlation) kernels: im2col + one BLAS product per block of samples, and
direct loops for thin convolutions; the structural template.

The layer z[f,i,j] = Σ_c Σ_m Σ_n w[f,c,m,n] · x[c, i·s+m, j·s+n] + b[f] is differentiated in index
form in derive/layers/conv.py; KroneckerDelta simplification gives two correlations:
∂L/∂w[f,c,m,n] = Σ_i Σ_j δ[f,i,j] · x[c, i·s+m, j·s+n]  (the input correlated with δ), and
∂L/∂x = full convolution of δ with the flipped kernel (scattered here as x[c, i·s+m, j·s+n] += w·δ).
Each is a matrix product once the input windows are laid out as rows (im2col; Chellapilla et al.,
*High performance convolutional neural networks for document processing*, 2006; CS231n notes):
one output position per row, channels innermost, P[n·Ho·Wo + i·Wo + j, (m·k + q)·C + c] =
xp[n, c, i·s+m, j·s+q], with the weight W2 (f, k·k·C) in the same column order (window_weight):
  forward    Z     = P · W2ᵀ             (positions, f), then transposed into (batch, f, Ho, Wo)
  ∂L/∂x      dP    = Δ · W2              (positions, k·k·C), added back onto the windows
  BP4        ∂L/∂W = Σ_b Δ_bᵀ · P_b      (f, k·k·C), Δ = δ with the positions as rows
The kernels take the unpadded input: each sample is padded as it is laid out (the zero border of
its channels-innermost copy), and ∂L/∂x keeps only the inside of its sums, so the batch is never
padded or cropped as a whole (the two-conv net's second conv, one thread: a 0.2 ms pad and a
0.3 ms crop per step gone; only the direct loops still pad first).
A task takes a block of ``BLOCK_SAMPLES`` whole samples inside a ``prange`` (threads.py sets BLAS
to one thread, so the calls do not oversubscribe): it lays out their rows of P, makes one BLAS
call, and writes their outputs while the block is in cache. The forward pass keeps P for BP4,
which adds the blocks' products in block order; the blocks depend on the batch size alone, never
on the thread count, so the bits are the same from run to run and on one thread or two.
With the positions as rows the products are tall and thin (LeNet-5's C3: 6400 × 150 by 150 × 16),
which OpenBLAS ran at about twice the rate of the per-sample products W · cols[n] (16 × 150 by
150 × 100) used before; with channels innermost each kernel row of a window is one contiguous run
of k·C values, so laying out P is a run of copies (C3's P 0.99 → 0.54 ms). Measured on the shared
2-core EPYC (batch 64, float32, one thread, thread CPU time, best of 20; issue 13) against those
per-sample products: C3 forward 2.0 → 1.05 ms, ∂L/∂x 2.1 → 1.2 ms, ∂L/∂W 1.0 → 1.1 ms; cnn2's
second conv (32 → 64, 3×3 on 14×14) forward 11.5 → 8.2, ∂L/∂x 10.9 → 8.4-9.0, ∂L/∂W 8.2-9.0 →
8.1-8.4 ms. Each copy is a loop between two 1-D views, which LLVM vectorises behind one overlap
check. Copied eight values at a time at an offset (LLVM left those moves scalar: the arrays might
overlap), P and dP took 2-3 times as long for LeNet-5's C3 and cnn2's second conv (one thread,
bench/kernel_micro.py, in bench/RESULTS.md); so did the other copies here (from_wide_rows,
onto_wide_rows, delta_block) when their loops indexed 4-D arrays or assigned slices.

This departs from DESIGN.md's remark that 6-16-channel convolutions are poor fits for im2col +
BLAS. Measured earlier, with per-sample products, on the 2-core Zen 4 (batch 64, float32, best of
5 medians; 1 thread | 2 threads), LeNet-5's C3 (6→16, 5×5 on 14×14): forward direct loops
2.00 | 1.09 ms against im2col + BLAS 0.99 | 0.60 ms; ∂L/∂W 3.22 | 1.67 against 0.64 | 0.65;
∂L/∂x 2.52 | 1.04 against 1.01 | 0.57. With one input channel (C1, 25 columns of P) the products
are too thin: forward direct 0.74 | 0.42 against 1.00 | 0.60, ∂L/∂W 0.92 | 0.52 against
0.74 | 0.79, so convolutions with fewer than ``IM2COL_MIN_ROWS`` columns of P keep direct loops.
With stride 1 those loops run along rows of the padded width (``wide_*``): each tap is then one
long contiguous pass instead of Ho passes of Wo (28) values, most of which fell in the scalar
remainder of the vector loop; C1 forward 0.44 → 0.34 ms, ∂L/∂W 0.53 → 0.30 ms (2 threads).
A convolution whose window covers its whole unpadded input (LeNet-5's C5: 16@5×5 → 120@1×1) is a
dense layer on the flattened input, and the layers run it through the dense (BLAS) template.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from chainrule.kernels.blas import matmul

IM2COL_MIN_ROWS = 50  # c_in·k·k from which im2col + BLAS beats the direct loops
BLOCK_SAMPLES = 8  # samples per task (and per partial sum of BP4)


# --- im2col with a row per output position (P), one BLAS product per block of samples ---
@njit(cache=True, error_model="numpy")
def zero_border(xh, padding):
    # zero the border of width `padding` of xh (Hp, Wp, C), which the samples never write
    rows, cols = xh.shape[0], xh.shape[1]
    for r in range(rows):
        for col in range(cols):
            if r < padding or r >= rows - padding or col < padding or col >= cols - padding:
                xh[r, col, :] = 0.0


@njit(cache=True, error_model="numpy")
def patches(x, k, stride, padding, rows_out, cols_out, xh, p):
    # p[i*Wo + j, (m*k + q)*C + c] = xpad[c, i*s+m, j*s+q] for one sample, through xh, the padded
    # sample with channels innermost, so that each kernel row of a window is one contiguous run
    # of k*C values; the zero padding is xh's border (zero_border), so the input is never padded
    # as a whole. x: (C, H, W) unpadded; xh: (Hp, Wp, C) scratch, border zero; p: (Ho*Wo, k*k*C)
    for c in range(x.shape[0]):
        for r in range(x.shape[1]):
            src, dst = x[c, r], xh[r + padding, padding:padding + x.shape[2], c]  # (W,) each
            for col in range(src.shape[0]):
                dst[col] = src[col]
    flat = xh.reshape(-1)
    run = k * xh.shape[2]
    for i in range(rows_out):
        for j in range(cols_out):
            row = i * cols_out + j
            for m in range(k):
                at = ((i * stride + m) * xh.shape[1] + j * stride) * xh.shape[2]
                dst, src = p[row, m * run:(m + 1) * run], flat[at:at + run]  # (k*C,) each
                for e in range(run):
                    dst[e] = src[e]


@njit(cache=True, error_model="numpy")
def scatter_patches(dp, k, stride, padding, rows_out, cols_out, dxh, dx):
    # the adjoint of patches: dxpad[c, i*s+m, j*s+q] += dp[i*Wo + j, (m*k + q)*C + c], positions
    # in row-major order, summed in dxh (Hp, Wp, C); its inside is transposed into the unpadded
    # dx (C, H, W) (the border's sums belong to the padding and are dropped)
    dxh[:] = 0.0
    flat = dxh.reshape(-1)
    run = k * dxh.shape[2]
    for i in range(rows_out):
        for j in range(cols_out):
            row = i * cols_out + j
            for m in range(k):
                at = ((i * stride + m) * dxh.shape[1] + j * stride) * dxh.shape[2]
                dst, src = flat[at:at + run], dp[row, m * run:(m + 1) * run]  # (k*C,) each
                for e in range(run):
                    dst[e] += src[e]
    for c in range(dx.shape[0]):
        for r in range(dx.shape[1]):
            dst, src = dx[c, r], dxh[r + padding, padding:padding + dx.shape[2], c]  # (W,) each
            for col in range(dst.shape[0]):
                dst[col] = src[col]


@njit(cache=True, error_model="numpy")
def to_positions(maps, rows):
    # rows[i*Wo + j, f] = maps[f, i, j]. maps: (f, Ho, Wo); rows: (Ho*Wo, f)
    cols_out = maps.shape[2]
    for i in range(maps.shape[1]):
        for j in range(cols_out):
            for f in range(maps.shape[0]):
                rows[i * cols_out + j, f] = maps[f, i, j]


@njit(cache=True, error_model="numpy")
def to_rows(rows, maps):
    # the inverse of to_positions: maps[f, i, j] = rows[i*Wo + j, f], read in rows' order (faster
    # than in maps' order for the two-conv net: bench/kernel_micro.py)
    cols_out = maps.shape[2]
    for i in range(maps.shape[1]):
        for j in range(cols_out):
            for f in range(maps.shape[0]):
                maps[f, i, j] = rows[i * cols_out + j, f]


@njit(cache=True, error_model="numpy", parallel=True)
def fill_patches(x, k, stride, padding, p):
    # P for every sample (BP4 without the forward pass's P). x: (batch, c_in, H, W) unpadded
    rows_pad, cols_pad = x.shape[2] + 2 * padding, x.shape[3] + 2 * padding
    rows_out = (rows_pad - k) // stride + 1
    cols_out = (cols_pad - k) // stride + 1
    positions = rows_out * cols_out
    for n in prange(x.shape[0]):
        xh = np.empty((rows_pad, cols_pad, x.shape[1]), dtype=x.dtype)
        zero_border(xh, padding)
        patches(x[n], k, stride, padding, rows_out, cols_out, xh,
                p[n * positions:(n + 1) * positions])


@njit(cache=True, error_model="numpy", parallel=True)
def patch_forward(x, w2, k, stride, padding, p, out):
    # Z = P W2^T per block of samples. x: (batch, c_in, H, W) unpadded; w2: (f, k*k*c_in);
    # p: (batch*Ho*Wo, k*k*c_in), filled here and kept for BP4; out: (batch, f, Ho, Wo)
    batch = x.shape[0]
    rows_out, cols_out = out.shape[2], out.shape[3]
    positions = rows_out * cols_out
    blocks = (batch + BLOCK_SAMPLES - 1) // BLOCK_SAMPLES
    for block in prange(blocks):
        first, last = block * BLOCK_SAMPLES, min(batch, (block + 1) * BLOCK_SAMPLES)
        lo, hi = first * positions, last * positions
        xh = np.empty((x.shape[2] + 2 * padding, x.shape[3] + 2 * padding, x.shape[1]),
                      dtype=x.dtype)  # (Hp, Wp, c_in), one sample padded
        zero_border(xh, padding)
        for n in range(first, last):
            patches(x[n], k, stride, padding, rows_out, cols_out, xh,
                    p[n * positions:(n + 1) * positions])
        z = np.empty((hi - lo, w2.shape[0]), dtype=out.dtype)  # (block positions, f)
        matmul(p[lo:hi], w2.T, z, 1.0, 0.0)  # w2^T read transposed in place
        for n in range(first, last):
            to_rows(z[(n - first) * positions:(n - first + 1) * positions], out[n])


@njit(cache=True, error_model="numpy", parallel=True)
def patch_input_grad(delta, w2, k, stride, padding, dx):
    # dL/dx: dP = Delta W2 per block of samples, added back onto the windows.
    # delta: (batch, f, Ho, Wo); w2: (f, k*k*c_in); dx: (batch, c_in, H, W) unpadded, written here
    batch, filters = delta.shape[0], delta.shape[1]
    rows_out, cols_out = delta.shape[2], delta.shape[3]
    positions = rows_out * cols_out
    blocks = (batch + BLOCK_SAMPLES - 1) // BLOCK_SAMPLES
    for block in prange(blocks):
        first, last = block * BLOCK_SAMPLES, min(batch, (block + 1) * BLOCK_SAMPLES)
        rows = np.empty(((last - first) * positions, filters), dtype=delta.dtype)  # Delta block
        for n in range(first, last):
            to_positions(delta[n], rows[(n - first) * positions:(n - first + 1) * positions])
        dp = np.empty((rows.shape[0], w2.shape[1]), dtype=dx.dtype)  # (block positions, k*k*c_in)
        matmul(rows, w2, dp, 1.0, 0.0)
        dxh = np.empty((dx.shape[2] + 2 * padding, dx.shape[3] + 2 * padding, dx.shape[1]),
                       dtype=dx.dtype)  # (Hp, Wp, C)
        for n in range(first, last):
            scatter_patches(dp[(n - first) * positions:(n - first + 1) * positions], k, stride,
                            padding, rows_out, cols_out, dxh, dx[n])


@njit(cache=True, error_model="numpy")
def delta_block(planes, first, last, maps):
    # maps[f, (n - first)*positions + s] = planes[n, f, s] for samples first..last-1: Delta_b^T,
    # copied by a loop between 1-D views, which LLVM vectorises (a slice assignment per plane
    # took 3-3.5 times as long: kernel_micro.py). planes: (batch, f, positions); maps: (f,
    # (last - first)*positions)
    positions = planes.shape[2]
    for n in range(first, last):
        at = (n - first) * positions
        for f in range(planes.shape[1]):
            src, dst = planes[n, f], maps[f, at:at + positions]  # (positions,) each
            for s in range(positions):
                dst[s] = src[s]


@njit(cache=True, error_model="numpy", parallel=True)
def patch_weight_grad(p, delta, dw2):
    # BP4: dL/dW = sum over blocks b of Delta_b^T P_b, the blocks' products added in block order.
    # p: (batch*Ho*Wo, k*k*c_in) from forward; delta: (batch, f, Ho, Wo); dw2: (f, k*k*c_in)
    batch, filters = delta.shape[0], delta.shape[1]
    positions = delta.shape[2] * delta.shape[3]
    blocks = (batch + BLOCK_SAMPLES - 1) // BLOCK_SAMPLES
    partial = np.empty((blocks, filters, p.shape[1]), dtype=dw2.dtype)
    planes = delta.reshape(batch, filters, positions)  # (batch, f, Ho*Wo)
    for block in prange(blocks):
        first, last = block * BLOCK_SAMPLES, min(batch, (block + 1) * BLOCK_SAMPLES)
        maps = np.empty((filters, (last - first) * positions), dtype=delta.dtype)  # Delta_b^T
        delta_block(planes, first, last, maps)
        matmul(maps, p[first * positions:last * positions], partial[block], 1.0, 0.0)  # (f, k*k*c_in)
    dw2[:] = partial[0]
    for block in range(1, blocks):  # the blocks' sums in block order
        dw2 += partial[block]


# --- direct loops ---
@njit(cache=True, error_model="numpy", parallel=True)
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


@njit(cache=True, error_model="numpy", parallel=True)
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


@njit(cache=True, error_model="numpy", parallel=True)
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




@njit(cache=True, error_model="numpy", parallel=True)
def wide_forward(xp, w, out):
    # Stride 1. z over rows of the padded width: acc[i*Wp + j] = z[i, j] for j < Wo (the rest is
    # discarded), so each tap is one contiguous, vectorised pass over (Ho-1)*Wp + Wo values; five
    # taps of a kernel row share one pass (acc loaded and stored once, not five times; the same
    # sums in the same order): LeNet-5's C1 209 -> 154 us
    # xp: (batch, c_in, Hp, Wp); w: (f, c_in, k, k); out: (batch, f, Ho, Wo), no bias
    filters = w.shape[0]
    width = xp.shape[3]
    rows, cols = out.shape[2], out.shape[3]
    span = (rows - 1) * width + cols
    for n in prange(xp.shape[0]):  # one sample per task, its filters in turn
        acc = np.empty(span, dtype=out.dtype)  # one buffer per sample, not per (sample, filter)
        for f in range(filters):
            acc[:] = 0.0
            _wide_filter(xp, w, n, f, width, span, acc)
            from_wide_rows(acc, width, out[n, f])


@njit(cache=True, error_model="numpy", inline="always")
def from_wide_rows(wide, width, plane):
    # plane[i, j] = wide[i*width + j]: a map laid on rows of the padded width, back to (Ho, Wo).
    # Copied between 1-D views of a row, which LLVM vectorises; indexed as out[n, f, i, j] inside
    # wide_forward the copy took 3.5 times as long (kernel_micro.py). wide: (span,); plane: (Ho, Wo)
    for i in range(plane.shape[0]):
        dst, src = plane[i], wide[i * width:i * width + plane.shape[1]]  # (Wo,) each
        for j in range(dst.shape[0]):
            dst[j] = src[j]


@njit(cache=True, error_model="numpy", inline="always")
def onto_wide_rows(plane, width, wide):
    # wide[i*width + j] = plane[i, j], the inverse of from_wide_rows (the gaps keep their zeros).
    # plane: (Ho, Wo); wide: (span,)
    for i in range(plane.shape[0]):
        dst, src = wide[i * width:i * width + plane.shape[1]], plane[i]  # (Wo,) each
        for j in range(src.shape[0]):
            dst[j] = src[j]


@njit(cache=True, error_model="numpy", inline="always")
def _wide_filter(xp, w, n, f, width, span, acc):
    # acc += the correlation of sample n with filter f over rows of the padded width (wide_forward)
    c_in, k = w.shape[1], w.shape[2]
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


@njit(cache=True, error_model="numpy", parallel=True, fastmath={"reassoc", "contract"})
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
            onto_wide_rows(delta[n, f], width, wide)
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


def new_patches(x: np.ndarray, k: int, stride: int, padding: int) -> np.ndarray:
    """An empty P for the unpadded input ``x``: (batch·Ho·Wo, k·k·c_in)."""
    rows = (x.shape[2] + 2 * padding - k) // stride + 1
    cols = (x.shape[3] + 2 * padding - k) // stride + 1
    return np.empty((x.shape[0] * rows * cols, x.shape[1] * k * k), dtype=x.dtype)


@njit(cache=True, error_model="numpy")
def to_window_order(w, w2):
    # w2[f, (m*k + q)*C + c] = w[f, c, m, q]: the weights in the column order of P.
    # w: (f, c_in, k, k); w2: (f, k*k*c_in)
    k, channels = w.shape[2], w.shape[1]
    for f in range(w.shape[0]):
        for c in range(channels):
            for m in range(k):
                for q in range(k):
                    w2[f, (m * k + q) * channels + c] = w[f, c, m, q]


@njit(cache=True, error_model="numpy")
def from_window_order(dw2, dw):
    # dw[f, c, m, q] = dw2[f, (m*k + q)*C + c]: a gradient in P's column order back in the
    # weights' order. dw2: (f, k*k*c_in); dw: (f, c_in, k, k)
    k, channels = dw.shape[2], dw.shape[1]
    for f in range(dw.shape[0]):
        for c in range(channels):
            for m in range(k):
                for q in range(k):
                    dw[f, c, m, q] = dw2[f, (m * k + q) * channels + c]


def window_weight(w: np.ndarray) -> np.ndarray:
    """(f, c_in, k, k) → (f, k·k·c_in), the column order of P: (m·k + q)·C + c."""
    w2 = np.empty((w.shape[0], w.size // w.shape[0]), dtype=w.dtype)
    to_window_order(np.ascontiguousarray(w), w2)
    return w2


def uses_im2col(c_in: int, kernel: int) -> bool:
    """Whether a conv with this many input channels runs as im2col + BLAS (True) or as direct
    loops: with one input channel (LeNet-5's C1, 25 columns of P) the products are too thin for
    BLAS and the direct loops win (measurements in the module docstring; with P, C1 measured
    forward 0.9 direct against 2.2 ms, ∂L/∂W 1.0 against 1.3 ms on one thread)."""
    return c_in * kernel * kernel >= IM2COL_MIN_ROWS


def forward(x: np.ndarray, w: np.ndarray, stride: int, padding: int,
            out: np.ndarray) -> np.ndarray | None:
    """z = conv(x zero-padded by ``padding``, w) without bias. x (batch, c_in, H, W); out
    (batch, f, Ho, Wo). Returns what BP4 (:func:`weight_grad`) reads again: the patch-major P it
    built, or for direct loops the padded input. im2col pads each sample as it lays out P; the
    direct loops pad first."""
    x = np.ascontiguousarray(x)
    if not uses_im2col(w.shape[1], w.shape[2]):
        xp = pad(x, padding)  # (batch, c_in, H+2p, W+2p)
        if stride == 1:
            wide_forward(xp, np.ascontiguousarray(w), out)
        else:
            direct_forward(xp, w, stride, out)
        return xp
    p = new_patches(x, w.shape[2], stride, padding)
    patch_forward(x, window_weight(w), w.shape[2], stride, padding, p, out)
    return p


def weight_grad(x: np.ndarray, delta: np.ndarray, stride: int, padding: int, dw: np.ndarray,
                kept: np.ndarray | None = None) -> None:
    """BP4 into dw (f, c_in, k, k) from the unpadded input and δ (batch, f, Ho, Wo); ``kept`` is
    what :func:`forward` returned (P, or the padded input), or None to build it again."""
    delta = np.ascontiguousarray(delta)
    if not uses_im2col(dw.shape[1], dw.shape[2]):
        xp = pad(np.ascontiguousarray(x), padding) if kept is None else kept
        if stride == 1:
            wide_weight_grad(xp, delta, dw)
        else:
            direct_weight_grad(xp, delta, stride, dw)
        return
    cols = kept
    if cols is None:
        x = np.ascontiguousarray(x)
        cols = new_patches(x, dw.shape[2], stride, padding)
        fill_patches(x, dw.shape[2], stride, padding, cols)
    dw2 = np.empty((dw.shape[0], cols.shape[1]), dtype=dw.dtype)  # (f, k·k·c_in)
    patch_weight_grad(cols, delta, dw2)
    from_window_order(dw2, dw)


def input_grad(delta: np.ndarray, w: np.ndarray, stride: int, padding: int,
               dx: np.ndarray) -> None:
    """∂L/∂x into the unpadded dx (batch, c_in, H, W) from δ (batch, f, Ho, Wo); the terms that
    fall on the zero padding are dropped."""
    delta = np.ascontiguousarray(delta)
    if not uses_im2col(w.shape[1], w.shape[2]):
        dxp = np.empty((*dx.shape[:2], dx.shape[2] + 2 * padding, dx.shape[3] + 2 * padding),
                       dtype=dx.dtype)
        direct_input_grad(delta, w, stride, dxp)
        unpad_planes(dxp, padding, dx)  # the inside, straight into dx
        return
    patch_input_grad(delta, window_weight(w), w.shape[2], stride, padding, dx)


def is_dense(in_shape: tuple[int, ...], kernel: int, padding: int) -> bool:
    """True when the kernel covers the whole unpadded input: the conv is then a dense layer."""
    return padding == 0 and in_shape[1] == kernel and in_shape[2] == kernel


def pad(x: np.ndarray, padding: int) -> np.ndarray:
    """Zero padding on the two spatial axes. x (batch, c, H, W) -> (batch, c, H+2p, W+2p)."""
    if padding == 0:
        return np.ascontiguousarray(x)
    xp = np.empty((*x.shape[:2], x.shape[2] + 2 * padding, x.shape[3] + 2 * padding),
                  dtype=x.dtype)
    pad_planes(np.ascontiguousarray(x), padding, xp)
    return xp


@njit(cache=True, error_model="numpy", parallel=True)
def pad_planes(x, padding, xp):
    # xp = x with a zero border of `padding`, one (sample, channel) plane per task: np.zeros and
    # a slice copy ran in one thread and wrote the inside twice (the two-conv net's second conv,
    # two threads: pad 0.39 -> 0.11 ms, unpad 0.26 -> 0.15 ms a step; bench/step_bench.py
    # --layers --models cnn2, this tree and --baseline 4354883)
    # x: (batch, c, H, W); xp: (batch, c, H+2p, W+2p)
    channels, width = x.shape[1], xp.shape[3]
    for task in prange(x.shape[0] * channels):
        n, c = task // channels, task % channels
        for r in range(xp.shape[2]):  # each value written once: border rows, border columns
            if r < padding or r >= padding + x.shape[2]:
                for col in range(width):
                    xp[n, c, r, col] = 0.0
                continue
            for col in range(padding):
                xp[n, c, r, col] = 0.0
                xp[n, c, r, width - 1 - col] = 0.0
            for col in range(x.shape[3]):
                xp[n, c, r, col + padding] = x[n, c, r - padding, col]


@njit(cache=True, error_model="numpy", parallel=True)
def unpad_planes(xp, padding, x):
    # x = xp without its border, one (sample, channel) plane per task (as pad_planes)
    channels = x.shape[1]
    for task in prange(x.shape[0] * channels):
        n, c = task // channels, task % channels
        for r in range(x.shape[2]):
            for col in range(x.shape[3]):
                x[n, c, r, col] = xp[n, c, r + padding, col + padding]
