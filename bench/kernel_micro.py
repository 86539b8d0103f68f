"""The kernel-level figures the docstrings and README quote, measured side by side in one run.

Run: ``.venv/bin/python bench/kernel_micro.py`` (about a minute; prints a Markdown table). Each row
times one kernel on the shapes of the quoted model, best of 7 rounds, and puts the old way (the
kernel as it was before issue 13's round 2) beside the new one:

- a dense layer's forward pass and BP4 with SGD on two threads (batch 64; 784 -> 128, 3136 -> 128
  and 784 -> 32), through the epoch's steps module: the weights as stored, (n_out, n_in), against
  held transposed (``dense_forward_t``, ``weight_step_t``; blocks.epoch_transposes);
- the MLP's hidden layer (mlp:784-128-10, batch 64), forward z = x Wᵀ and BP4 δᵀx in two blocks:
  ``np.dot`` inside Numba (SciPy's OpenBLAS, a transposed buffer) against blas.py's ``matmul``
  (kernels/blas.py, kernels/cpu/dense.py);
- SGD on 50,176 float32 weights with and without an L1 term (update.py's ``step``: the loops with
  ``penalised`` against those with ``smooth_penalised``);
- BP2 + BP3 over the MLP's 64 × 128 hidden deltas in one block (no parallel region) and in two
  (blocks.py ``REDUCE_SPLIT_MIN``);
- BP2 + BP3 over the two-conv net's first conv (64 × 32 × 784 values) on one thread: one running
  sum per channel against update.py's eight lanes (``plane_lanes``);
- BP4 + SGD on the MLP's hidden weights in two row blocks: the gradient written out and then
  the step loop, against update.py's ``rows_step``, which has BLAS take the step in the product;
- softmax + cross-entropy + BP1 over the MLP's 64 × 10 logits: e^x twice per value (the partition
  term, then s = e^(z−m)/Σ) against once (cpu/output.py keeps the terms: ``softmax_of_term``);
- gathering the MLP's batch (64 random rows of 784 of Fashion-MNIST's 60,000) in one thread and
  in two (epoch.py's ``gather_batch``);
- a dense layer's bias + activation pass at batch 64 (ReLU on 128 and 512 features, tanh on 128):
  in two threads against ``bias_act_rows`` (one thread for a piecewise-linear g below 32,768
  values: activation.py ``SERIAL_ROWS_MAX``);
- tanh over LeNet-5's C1 at batch 64 (301,056 float32 values): the float64 identity against
  fasttanh.py's float32 path;
- Adam on the two-conv net's dense128 weights (401,408 float32) on one thread: update.py's
  generated module compiled with Numba's default error model (Python's: a ZeroDivisionError
  branch per division) against the module as it is (NumPy's error model);
- the im2col copies around the products (cpu/conv.py) at batch 64, one thread, for LeNet-5's C3
  (6 channels, 5×5 on 14×14) and the two-conv net's second conv (32 → 64 channels, 3×3,
  padding 1, on 14×14): laying out P and adding dP back, their runs of k·C values copied eight
  at a time at an offset (conv.py's code at 44c7a1e, kept here) against loops between 1-D
  views (``patches``, ``scatter_patches``); the two-conv net's Z transposed into the maps in the
  maps' order against in Z's (``to_rows``), and each block's Δᵀ for BP4 copied by a slice
  assignment per plane against a loop between 1-D views (``delta_block``);
- the two-conv net's first conv (direct loops on rows of the padded width, cpu/conv.py): each
  map copied from those rows (forward) and onto them (BP4), indexing the 4-D array in the loop
  against between 1-D views of a row (``from_wide_rows``, ``onto_wide_rows``);
- LeNet-5's average pools (2x2, stride 2) at batch 64 with the run's threads: a row of windows
  at a time in a float64 array (pool.py's ``avg_forward`` at 8618e2f, kept here) against each
  window's sum in a scalar (``_avg_2x2``; the same bits); and their backward pass fused with
  BP2 (``avg_backward_delta`` at c1693da, kept here, against ``_avg_backward_delta_2x2``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import partial

import numpy as np
from numba import njit, prange

from chainrule.kernels.blas import matmul
from chainrule.kernels.cache import load_source
from chainrule.kernels.cpu import conv, dense, pool, threads
from chainrule.kernels.cpu.activation import activation_module
from chainrule.kernels.cpu.epoch import steps_source
from chainrule.kernels.cpu.fastexp import vexp
from chainrule.kernels.cpu.fasttanh import vtanh
from chainrule.kernels.cpu.output import softmax_ce_module
from chainrule.kernels.update import Rule, hyperparameters, update_module, update_source

RNG = np.random.default_rng(0)


def best_us(call: Callable[[], object], repeats: int) -> float:
    """Best of 7 rounds of ``repeats`` calls, in microseconds per call."""
    call()
    rounds = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(repeats):
            call()
        rounds.append((time.perf_counter() - start) / repeats * 1e6)
    return min(rounds)


@njit(parallel=True)
def forward_np_dot(x, w, out):  # type: ignore[no-untyped-def]
    # the forward as dense.py had it: w[block] x^T into a (features, batch) buffer, transposed out
    for block in prange(2):
        lo, hi = block * w.shape[0] // 2, (block + 1) * w.shape[0] // 2
        part = np.empty((hi - lo, x.shape[0]), dtype=out.dtype)
        np.dot(w[lo:hi], x.T, part)
        out[:, lo:hi] = part.T


@njit(parallel=True)
def forward_matmul(x, w, out):  # type: ignore[no-untyped-def]
    for block in prange(2):
        lo, hi = block * w.shape[0] // 2, (block + 1) * w.shape[0] // 2
        matmul(x, w[lo:hi].T, out[:, lo:hi], 1.0, 0.0)


@njit(parallel=True)
def bp4_np_dot(delta_t, x, grad):  # type: ignore[no-untyped-def]
    # BP4 as update.py had it: delta^T copied contiguous by the caller, np.dot per row block
    for block in prange(2):
        lo, hi = block * grad.shape[0] // 2, (block + 1) * grad.shape[0] // 2
        np.dot(delta_t[lo:hi], x, grad[lo:hi])


@njit(parallel=True)
def bp4_matmul(delta, x, grad):  # type: ignore[no-untyped-def]
    for block in prange(2):
        lo, hi = block * grad.shape[0] // 2, (block + 1) * grad.shape[0] // 2
        matmul(delta.T[lo:hi], x, grad[lo:hi], 1.0, 0.0)


STEP_ROWS = update_module().step_rows
SOFTMAX_CE = softmax_ce_module()
PARTITION_TERM, SOFTMAX_UNIT = SOFTMAX_CE.partition_term, SOFTMAX_CE.softmax_unit
LOG_PARTITION, CE_TERM, CE_DELTA = (SOFTMAX_CE.log_partition, SOFTMAX_CE.ce_term,
                                    SOFTMAX_CE.softmax_ce_delta)


@njit
def softmax_ce_two_exps(z, b, t, s, delta, scale):  # type: ignore[no-untyped-def]
    # softmax_ce_layer as cpu/output.py had it: the row's sum, then e^x again for each s_k
    loss = 0.0
    for n in range(z.shape[0]):
        top = -math.inf
        for k in range(z.shape[1]):
            top = max(top, z[n, k] + b[k])
        total = 0.0
        for k in range(z.shape[1]):
            total += PARTITION_TERM(z[n, k] + b[k] - top)
        log_total = LOG_PARTITION(total)
        for k in range(z.shape[1]):
            shifted = z[n, k] + b[k] - top
            sk = SOFTMAX_UNIT(shifted, total)
            s[n, k] = sk
            loss += CE_TERM(shifted, log_total, t[n, k])
            delta[n, k] = scale * CE_DELTA(sk, t[n, k])
    return loss * scale


@njit(parallel=True)
def bp4_then_sgd(delta, x, p, grad, h):  # type: ignore[no-untyped-def]
    # BP4 + SGD as update.py had it: the block's gradient written out, then the step loop on it
    for block in prange(2):
        lo, hi = block * grad.shape[0] // 2, (block + 1) * grad.shape[0] // 2
        matmul(delta.T[lo:hi], x, grad[lo:hi], 1.0, 0.0)
        STEP_ROWS(p, grad.reshape(-1), lo, hi, grad.shape[1], 1, p[:0], p[:0], h)


@njit
def bp2_bp3_one_sum(grad_a, d, delta, sums):  # type: ignore[no-untyped-def]
    # BP2 + BP3 of a conv as update.py had it: each channel's sum one running float64 total
    acc = np.zeros(grad_a.shape[1])
    for n in range(grad_a.shape[0]):
        for c in range(grad_a.shape[1]):
            total = acc[c]
            for s in range(grad_a.shape[2]):
                value = grad_a[n, c, s] * d[n, c, s]
                delta[n, c, s] = value
                total += value
            acc[c] = total
    sums[:] = acc


@njit(parallel=True)
def tanh_float64(z, a):  # type: ignore[no-untyped-def]
    for i in prange(z.size):
        a[i] = 1.0 - 2.0 / (vexp(2.0 * z[i]) + 1.0)


@njit(parallel=True)
def tanh_float32(z, a):  # type: ignore[no-untyped-def]
    for i in prange(z.size):
        a[i] = vtanh(z[i])


def dense_rows() -> list[tuple[str, float, float]]:
    x = RNG.standard_normal((64, 784)).astype(np.float32)
    w = RNG.standard_normal((128, 784)).astype(np.float32)
    delta = RNG.standard_normal((64, 128)).astype(np.float32)
    z, grad = np.empty((64, 128), np.float32), np.empty((128, 784), np.float32)
    return [("MLP hidden forward, two feature blocks", best_us(lambda: forward_np_dot(x, w, z), 300),
             best_us(lambda: forward_matmul(x, w, z), 300)),
            ("MLP hidden BP4, two row blocks",
             best_us(lambda: bp4_np_dot(np.ascontiguousarray(delta.T), x, grad), 300),
             best_us(lambda: bp4_matmul(delta, x, grad), 300))]


def transposed_row(n_in: int, n_out: int) -> tuple[str, float, float]:
    """Forward + BP4 with SGD of a dense layer on two threads, through the epoch's steps module:
    the weights as stored, (n_out, n_in), against held transposed (blocks.epoch_transposes)."""
    steps = load_source("epoch_steps", steps_source(dense))
    h, sgd, none = hyperparameters(lr=1e-6), int(Rule.SGD), np.zeros(0, np.float32)
    x = RNG.standard_normal((64, n_in)).astype(np.float32)  # (batch, n_in)
    w = (RNG.standard_normal((n_out, n_in)) * 0.01).astype(np.float32)
    wt, delta = np.ascontiguousarray(w.T), RNG.standard_normal((64, n_out)).astype(np.float32)
    z, scratch = np.empty((64, n_out), np.float32), np.empty_like(w)

    def stored() -> None:
        steps.dense_forward(x, w, z, 2)
        steps.weight_step(delta, x, w, scratch, sgd, none, none, h, 2)

    def held() -> None:
        steps.dense_forward_t(x, wt, z, 2)
        steps.weight_step_t(delta, x, wt, scratch.reshape(n_in, n_out), sgd, none, none, h, 2)
    name = f"dense {n_in} -> {n_out} forward + BP4 with SGD, batch 64, two threads"
    return f"{name} (W as stored / held transposed)", best_us(stored, 200), best_us(held, 200)


def transposed_rows() -> list[tuple[str, float, float]]:
    return [transposed_row(n_in, n_out) for n_in, n_out in ((784, 128), (3136, 128), (784, 32))]


def update_rows() -> list[tuple[str, float, float]]:
    module, none = update_module(), np.zeros(0, np.float32)
    p = RNG.standard_normal(50_176).astype(np.float32)
    g = (RNG.standard_normal(50_176) * 1e-3).astype(np.float32)
    with_l1, without = hyperparameters(lr=0.01, l1=1e-9), hyperparameters(lr=0.01)
    grad_a, d = (RNG.standard_normal((64, 128, 1)).astype(np.float32) for _ in range(2))
    delta, bias, scratch = np.empty_like(grad_a), np.zeros(128, np.float32), np.empty(128, np.float32)

    def bp2_bp3(blocks: int) -> Callable[[], object]:
        return lambda: module.delta_bias_step(grad_a, d, delta, bias, scratch, int(Rule.SGD),
                                              none, none, without, blocks)

    sgd = int(Rule.SGD)
    return [("SGD on 50,176 weights (with L1 / without)",
             best_us(lambda: module.step(p, g, sgd, none, none, with_l1), 500),
             best_us(lambda: module.step(p, g, sgd, none, none, without), 500)),
            ("MLP BP2 + BP3, 64 x 128 (two blocks / one)", best_us(bp2_bp3(2), 2000),
             best_us(bp2_bp3(1), 2000))]


def conv_bias_rows() -> list[tuple[str, float, float]]:
    module, none = update_module(), np.zeros(0, np.float32)
    grad_a, d = (RNG.standard_normal((64, 32, 784)).astype(np.float32) for _ in range(2))
    delta, bias, sums = np.empty_like(grad_a), np.zeros(32, np.float32), np.empty(32, np.float32)
    h = hyperparameters(lr=0.01)
    return [("two-conv net's first conv BP2 + BP3, 64 x 32 x 784, one thread (one sum / lanes)",
             best_us(lambda: bp2_bp3_one_sum(grad_a, d, delta, sums), 20),
             best_us(lambda: module.delta_bias_step(grad_a, d, delta, bias, sums, int(Rule.SGD),
                                                    none, none, h, 1), 20))]


def sgd_rows() -> list[tuple[str, float, float]]:
    x = RNG.standard_normal((64, 784)).astype(np.float32)
    w = (RNG.standard_normal((128, 784)) * 1e-2).astype(np.float32)
    delta = (RNG.standard_normal((64, 128)) * 1e-3).astype(np.float32)
    grad, none, h = np.empty((128, 784), np.float32), np.zeros(0, np.float32), hyperparameters(lr=0.01)
    flat = w.reshape(-1)
    fused = update_module().rows_step
    return [("MLP hidden BP4 + SGD, two row blocks (gradient, then step / step in the product)",
             best_us(lambda: bp4_then_sgd(delta, x, flat, grad, h), 300),
             best_us(lambda: fused(delta.T, x, flat, grad, int(Rule.SGD), none, none, h, 2), 300))]


def softmax_rows() -> list[tuple[str, float, float]]:
    z = RNG.standard_normal((64, 10)).astype(np.float32)
    b, t = np.zeros(10, np.float32), np.eye(10, dtype=np.float32)[RNG.integers(0, 10, 64)]
    s, delta = np.empty_like(z), np.empty_like(z)
    return [("MLP softmax-CE + BP1, 64 x 10 (e^x twice / once)",
             best_us(lambda: softmax_ce_two_exps(z, b, t, s, delta, 1 / 64), 2000),
             best_us(lambda: SOFTMAX_CE.softmax_ce_layer(z, b, t, s, delta, 1 / 64), 2000))]


def gather_rows() -> list[tuple[str, float, float]]:
    data = RNG.standard_normal((60_000, 784)).astype(np.float32)  # Fashion-MNIST's size
    targets = np.zeros((60_000, 10), np.float32)
    order = RNG.permutation(60_000)
    xb, tb = np.empty((64, 784), np.float32), np.empty((64, 10), np.float32)
    gather = load_source("epoch_steps", steps_source(dense)).gather_batch

    def batch(threads: int) -> Callable[[], object]:
        at = iter(range(0, 60_000 - 64, 64))  # a new batch each call (800 calls), as in an epoch

        def call() -> None:
            lo = next(at, 0)
            gather(data, targets, order, lo, lo + 64, xb, tb, threads)
        return call

    return [("MLP batch gather, 64 rows of 784 from 60,000 (one thread / two)",
             best_us(batch(1), 100), best_us(batch(2), 100))]


def act_rows() -> list[tuple[str, float, float]]:
    """A dense layer's bias + activation pass at batch 64: in two threads (``act_row_blocks``)
    against ``bias_act_rows``, which runs a ReLU pass of fewer than 32,768 values in one."""
    rows = []
    for name, width in (("relu", 128), ("relu", 512), ("tanh", 128)):
        module = activation_module(name)
        z = RNG.standard_normal((64, width)).astype(np.float32)
        b, a, d = np.zeros(width, np.float32), np.empty_like(z), np.empty_like(z)
        rows.append((f"{name} bias + activation, 64 x {width} (two threads / bias_act_rows)",
                     best_us(partial(module.act_row_blocks, z, b, a, d), 2000),
                     best_us(partial(module.bias_act_rows, z, b, a, d), 2000)))
    return rows


def tanh_rows() -> list[tuple[str, float, float]]:
    z = RNG.standard_normal(64 * 6 * 28 * 28).astype(np.float32)
    a = np.empty_like(z)
    return [("tanh over LeNet-5's C1, 301,056 float32 values (float64 identity / float32)",
             best_us(lambda: tanh_float64(z, a), 50), best_us(lambda: tanh_float32(z, a), 50))]


@njit(cache=True, error_model="numpy", parallel=True)
def avg_forward_in_rows(x, size, stride, out):  # type: ignore[no-untyped-def]
    # pool.py's avg_forward at 8618e2f, verbatim: a row of windows at a time, in a float64 array
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
def avg_backward_delta_in_planes(grad_out, size, d, delta):  # type: ignore[no-untyped-def]
    # pool.py's avg_backward_delta at c1693da, verbatim: the plane zeroed, then each window
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


def avg_pool_rows() -> list[tuple[str, float, float]]:
    rows = []
    for name, shape in (("LeNet-5's C1", (64, 6, 28, 28)), ("LeNet-5's C3", (64, 16, 10, 10))):
        x = RNG.standard_normal(shape).astype(np.float32)
        out = np.empty((*shape[:2], shape[2] // 2, shape[3] // 2), np.float32)
        rows.append(((f"{name} average pool 2x2, {'x'.join(map(str, shape))} "
                     "(a row of windows at a time / each window in a scalar)"),
                     best_us(partial(avg_forward_in_rows, x, 2, 2, out), 50),
                     best_us(partial(pool.avg_forward, x, 2, 2, out), 50)))
        d, delta = RNG.standard_normal(shape).astype(np.float32), np.empty(shape, np.float32)
        rows.append(((f"{name} average pool 2x2 backward + BP2, {'x'.join(map(str, shape))} "
                     "(the plane zeroed, then 4-D indexing / along rows of the plane)"),
                     best_us(partial(avg_backward_delta_in_planes, out, 2, d, delta), 50),
                     best_us(partial(pool.avg_backward_delta, out, 2, d, delta), 50)))
    return rows


def adam_rows() -> list[tuple[str, float, float]]:
    python_errors = load_source("update_python_errors",
                                update_source().replace(', error_model="numpy"', ""))
    p = RNG.standard_normal(401_408).astype(np.float32)
    g = (RNG.standard_normal(p.size) * 1e-3).astype(np.float32)
    m, v = np.zeros_like(p), np.zeros_like(p)
    h = hyperparameters(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, correction1=0.1,
                        correction2=0.001)
    adam = int(Rule.ADAM)
    return [("Adam on 401,408 float32 weights, one thread (Python's error model / NumPy's)",
             best_us(lambda: python_errors.apply(p, g, adam, m, v, h), 20),
             best_us(lambda: update_module().apply(p, g, adam, m, v, h), 20))]


@njit(cache=True, error_model="numpy", inline="always")
def copy_run(src, at, dst, to, count):  # type: ignore[no-untyped-def]
    # before (conv.py at 44c7a1e): dst[to:to+count] = src[at:at+count], eight values at a time
    e = 0
    while e + 8 <= count:
        for u in range(8):
            dst[to + e + u] = src[at + e + u]
        e += 8
    while e < count:
        dst[to + e] = src[at + e]
        e += 1


@njit(cache=True, error_model="numpy", inline="always")
def add_run(src, at, dst, to, count):  # type: ignore[no-untyped-def]
    # before (conv.py at 44c7a1e): dst[to:to+count] += src[at:at+count], eight values at a time
    e = 0
    while e + 8 <= count:
        for u in range(8):
            dst[to + e + u] += src[at + e + u]
        e += 8
    while e < count:
        dst[to + e] += src[at + e]
        e += 1


@njit(cache=True, error_model="numpy")
def patches_in_runs(x, k, stride, padding, rows_out, cols_out, xh, p):  # type: ignore[no-untyped-def]
    # before (conv.py's patches at 44c7a1e), one sample: xh by 3-D indexing, then copy_run
    channels, width = x.shape[0], xh.shape[1]
    for c in range(channels):
        for r in range(x.shape[1]):
            for col in range(x.shape[2]):
                xh[r + padding, col + padding, c] = x[c, r, col]
    flat = xh.reshape(-1)
    run = k * channels
    for i in range(rows_out):
        for j in range(cols_out):
            row = i * cols_out + j
            for m in range(k):
                src = ((i * stride + m) * width + j * stride) * channels
                copy_run(flat, src, p[row], m * run, run)


@njit(cache=True, error_model="numpy")
def patches_batch(old, x, k, stride, padding, rows_out, cols_out, xh, p):  # type: ignore[no-untyped-def]
    # P for the batch, sample by sample: patches_in_runs (old) or conv.patches
    positions = rows_out * cols_out
    for n in range(x.shape[0]):
        rows = p[n * positions:(n + 1) * positions]
        if old:
            patches_in_runs(x[n], k, stride, padding, rows_out, cols_out, xh, rows)
        else:
            conv.patches(x[n], k, stride, padding, rows_out, cols_out, xh, rows)


@njit(cache=True, error_model="numpy")
def scatter_in_runs(dp, k, stride, padding, rows_out, cols_out, dxh, dx):  # type: ignore[no-untyped-def]
    # before (conv.py's scatter_patches at 44c7a1e), one sample: add_run, then dx by 3-D indexing
    channels, width = dx.shape[0], dxh.shape[1]
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
            for col in range(dx.shape[2]):
                dx[c, r, col] = dxh[r + padding, col + padding, c]


@njit(cache=True, error_model="numpy")
def scatter_batch(old, dp, k, stride, padding, rows_out, cols_out, dxh, dx):  # type: ignore[no-untyped-def]
    # dP added back for the batch, sample by sample: scatter_in_runs (old) or conv.scatter_patches
    positions = rows_out * cols_out
    for n in range(dx.shape[0]):
        rows = dp[n * positions:(n + 1) * positions]
        if old:
            scatter_in_runs(rows, k, stride, padding, rows_out, cols_out, dxh, dx[n])
        else:
            conv.scatter_patches(rows, k, stride, padding, rows_out, cols_out, dxh, dx[n])


@njit(cache=True, error_model="numpy")
def to_maps_in_maps_order(z, out):  # type: ignore[no-untyped-def]
    # before: maps[f, i, j] = rows[i*Wo + j, f], written in the maps' order
    positions, cols_out = out.shape[2] * out.shape[3], out.shape[3]
    for n in range(out.shape[0]):
        for f in range(out.shape[1]):
            for i in range(out.shape[2]):
                for j in range(cols_out):
                    out[n, f, i, j] = z[n * positions + i * cols_out + j, f]


@njit(cache=True, error_model="numpy")
def to_maps_now(z, out):  # type: ignore[no-untyped-def]
    positions = out.shape[2] * out.shape[3]
    for n in range(out.shape[0]):
        conv.to_rows(z[n * positions:(n + 1) * positions], out[n])


@njit(cache=True, error_model="numpy")
def delta_blocks_sliced(planes, maps):  # type: ignore[no-untyped-def]
    # before: each block's Delta_b^T copied a plane at a time by a slice assignment
    positions = planes.shape[2]
    for first in range(0, planes.shape[0], conv.BLOCK_SAMPLES):
        for n in range(first, min(planes.shape[0], first + conv.BLOCK_SAMPLES)):
            at = (n - first) * positions
            for f in range(planes.shape[1]):
                maps[f, at:at + positions] = planes[n, f]


@njit(cache=True, error_model="numpy")
def delta_blocks_now(planes, maps):  # type: ignore[no-untyped-def]
    for first in range(0, planes.shape[0], conv.BLOCK_SAMPLES):
        conv.delta_block(planes, first, min(planes.shape[0], first + conv.BLOCK_SAMPLES), maps)


@njit(cache=True, error_model="numpy")
def wide_copies_indexed(out, wide, width):  # type: ignore[no-untyped-def]
    # before: a map to and from rows of the padded width, indexing the 4-D array in the loop
    for n in range(out.shape[0]):
        for f in range(out.shape[1]):
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    out[n, f, i, j] = wide[i * width + j]
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    wide[i * width + j] = out[n, f, i, j]


@njit(cache=True, error_model="numpy")
def wide_copies_now(out, wide, width):  # type: ignore[no-untyped-def]
    for n in range(out.shape[0]):
        for f in range(out.shape[1]):
            conv.from_wide_rows(wide, width, out[n, f])
            conv.onto_wide_rows(out[n, f], width, wide)


def wide_rows() -> list[tuple[str, float, float]]:
    maps = RNG.standard_normal((64, 32, 28, 28)).astype(np.float32)  # (batch, f, Ho, Wo)
    width = 30  # the padded width
    wide = np.zeros(27 * width + 28, np.float32)  # (span,)
    name = ("two-conv net's 1st conv, maps to and from rows of the padded width, 64 x 32 x 784, "
            "one thread (indexed / 1-D views)")
    return [(name,
             best_us(lambda: wide_copies_indexed(maps, wide, width), 20),
             best_us(lambda: wide_copies_now(maps, wide, width), 20))]


def copy_rows(name: str, channels: int, k: int, padding: int, side: int
              ) -> list[tuple[str, float, float]]:
    """P laid out and dP added back for a conv on ``side``×``side`` maps (stride 1)."""
    out_side = side + 2 * padding - k + 1
    x = RNG.standard_normal((64, channels, side, side)).astype(np.float32)
    xh = np.zeros((side + 2 * padding, side + 2 * padding, channels), np.float32)  # (Hp, Wp, C)
    p = np.empty((64 * out_side ** 2, k * k * channels), np.float32)  # (positions, k*k*C)
    dp = RNG.standard_normal(p.shape).astype(np.float32)
    dx = np.empty_like(x)
    sizes = (k, 1, padding, out_side, out_side)  # passed at run time, as the layers pass them
    return [(f"{name}, P laid out, one thread (runs by eights / 1-D views)",
             best_us(lambda: patches_batch(True, x, *sizes, xh, p), 20),
             best_us(lambda: patches_batch(False, x, *sizes, xh, p), 20)),
            (f"{name}, dP added back, one thread (runs by eights / 1-D views)",
             best_us(lambda: scatter_batch(True, dp, *sizes, xh, dx), 20),
             best_us(lambda: scatter_batch(False, dp, *sizes, xh, dx), 20))]


def im2col_rows() -> list[tuple[str, float, float]]:
    z = RNG.standard_normal((64 * 196, 64)).astype(np.float32)  # (batch positions, f)
    maps = np.empty((64, 64, 14, 14), np.float32)  # (batch, f, Ho, Wo)
    planes = maps.reshape(64, 64, -1)  # (batch, f, positions)
    block = np.empty((64, conv.BLOCK_SAMPLES * 196), np.float32)  # (f, block positions)
    transposed = "two-conv net's 2nd conv, Z into maps, 64 x 64 x 196, one thread (maps' / Z's order)"
    gathered = "two-conv net's 2nd conv, Delta_b^T for BP4, 8 blocks, one thread (slices / loop)"
    return (copy_rows("LeNet-5's C3, 64 x 100 x 150", 6, 5, 0, 14)
            + copy_rows("two-conv net's 2nd conv, 64 x 196 x 288", 32, 3, 1, 14)
            + [(transposed, best_us(lambda: to_maps_in_maps_order(z, maps), 20),
                best_us(lambda: to_maps_now(z, maps), 20)),
               (gathered, best_us(lambda: delta_blocks_sliced(planes, block), 20),
                best_us(lambda: delta_blocks_now(planes, block), 20))])


def main() -> None:
    import scipy.linalg.cython_blas  # noqa: F401  the BLAS np.dot calls: loaded, so that
    threads.configure()  # its threads are set to one too, as the old kernels had them
    rows = (dense_rows() + transposed_rows() + update_rows() + conv_bias_rows() + sgd_rows() + softmax_rows()
            + gather_rows() + act_rows() + tanh_rows() + adam_rows() + im2col_rows() + wide_rows()
            + avg_pool_rows())
    print("| kernel | before, µs | now, µs |\n|---|---:|---:|")
    for name, before, now in rows:
        print(f"| {name} | {before:.1f} | {now:.1f} |")


if __name__ == "__main__":
    main()
