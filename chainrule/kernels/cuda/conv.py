"""Convolution (cross-correlation) kernels on the device: direct loops, one thread per output.

The layer z[n,f,i,j] = Σ_c Σ_m Σ_q w[f,c,m,q] · x[n, c, i·s+m, j·s+q] is differentiated in index
form in derive/layers/conv.py (as for kernels/cpu/conv.py; CS231n notes, "Convolutional layer"):
  ∂L/∂w[f,c,m,q] = Σ_n Σ_i Σ_j δ[n,f,i,j] · x[n, c, i·s+m, j·s+q]   (BP4)
  ∂L/∂x[n,c,y,x] = Σ_f Σ_m Σ_q w[f,c,m,q] · δ[n, f, (y−m)/s, (x−q)/s]   (where the index is whole)
The forward pass and ∂L/∂x run one thread per output element; ∂L/∂x GATHERS the terms of its
element in the CPU scatter's order (f, m, q), so no two threads write one element and no atomics
or zero fill are needed. BP4 runs one block per weight: each thread sums a fixed strided share of
the (n, i, j) terms and the block adds the shares by a fixed tree in shared memory, so the sum does
not depend on thread timing. Padding is an explicit zero border of the batch (``pad``/``unpad``);
the CPU pads each sample as its im2col copy is laid out, and the batch only for direct loops.
Layout (batch, channels, rows, cols); every array is on the device, every call is one launch.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from numba import cuda

from chainrule.kernels.cuda.counters import launch
from chainrule.kernels.cuda.grid import THREADS, blocks, unravel
from chainrule.kernels.cuda.reduce import REDUCE, block_total

TERMS = 32  # BP4 terms per thread from which a block doubles its threads (32 .. REDUCE)


@cuda.jit
def pad_kernel(x, p, out):
    # out (batch, c, H+2p, W+2p) = x with a zero border of width p; one thread per out element
    idx = cuda.grid(1)
    if idx < out.size:
        n, c, r, col = unravel(idx, out.shape)
        inside = p <= r < x.shape[2] + p and p <= col < x.shape[3] + p
        out[n, c, r, col] = x[n, c, r - p, col - p] if inside else 0


@cuda.jit
def unpad_kernel(dxp, p, out):
    # out (batch, c, H, W) = dxp without its border of width p; one thread per out element
    idx = cuda.grid(1)
    if idx < out.size:
        n, c, r, col = unravel(idx, out.shape)
        out[n, c, r, col] = dxp[n, c, r + p, col + p]


@cuda.jit
def forward_kernel(xp, w, stride, out):
    # z[n,f,i,j] = sum_c sum_m sum_q w[f,c,m,q] xp[n,c,i*s+m,j*s+q], no bias; thread per output
    # xp: (batch, c_in, Hp, Wp); w: (f, c_in, k, k); out: (batch, f, Ho, Wo)
    idx = cuda.grid(1)
    if idx < out.size:
        n, f, i, j = unravel(idx, out.shape)
        k = w.shape[2]
        acc = 0.0
        for c in range(w.shape[1]):
            for m in range(k):
                for q in range(k):
                    acc += w[f, c, m, q] * xp[n, c, i * stride + m, j * stride + q]
        out[n, f, i, j] = acc


@cuda.jit
def input_grad_kernel(delta, w, stride, dxp):
    # dxp[n,c,y,x] = sum_f sum_m sum_q w[f,c,m,q] delta[n,f,(y-m)/s,(x-q)/s] over whole indices
    # delta: (batch, f, Ho, Wo); dxp: (batch, c_in, Hp, Wp), every element written
    idx = cuda.grid(1)
    if idx < dxp.size:
        n, c, y, x = unravel(idx, dxp.shape)
        k = w.shape[2]
        acc = 0.0
        for f in range(w.shape[0]):
            for m in range(k):
                i = (y - m) // stride
                if y - m < 0 or (y - m) % stride != 0 or i >= delta.shape[2]:
                    continue
                for q in range(k):
                    j = (x - q) // stride
                    if x - q >= 0 and (x - q) % stride == 0 and j < delta.shape[3]:
                        acc += w[f, c, m, q] * delta[n, f, i, j]
        dxp[n, c, y, x] = acc


@cuda.jit(device=True)
def weight_sum(xp, delta, stride, f, c, m, q):
    # BP4 for one weight, by the whole block: the sum over (n, i, j) of delta[n,f,i,j] *
    # xp[n,c,i*s+m,j*s+q]. Of the block's T threads (a power of two), thread t takes terms t,
    # t + T, ... then the T partial sums are added by a fixed tree; every thread gets the total
    rows, cols = delta.shape[2], delta.shape[3]
    threads = cuda.blockDim.x
    acc = 0.0
    for e in range(cuda.threadIdx.x, delta.shape[0] * rows * cols, threads):
        n, rest = e // (rows * cols), e % (rows * cols)
        i, j = rest // cols, rest % cols
        acc += delta[n, f, i, j] * xp[n, c, i * stride + m, j * stride + q]
    return block_total(acc)


@cuda.jit
def weight_grad_kernel(xp, delta, stride, out):
    # BP4, one block per weight (f, c, m, q) of out (F, C, K, K)
    f, c, m, q = unravel(cuda.blockIdx.x, out.shape)
    total = weight_sum(xp, delta, stride, f, c, m, q)
    if cuda.threadIdx.x == 0:
        out[f, c, m, q] = total


@cache
def weight_step_kernel(rule: Any) -> Any:
    """BP4 fused with the optimiser: as weight_grad_kernel, then thread 0 applies ``rule`` (the
    device function of kernels/cuda/step.py) to the weight it reduced, counting non-finite ones."""

    @cuda.jit
    def kernel(xp, delta, stride, out, grad, p, kind, first, second, h, bad):
        f, c, m, q = unravel(cuda.blockIdx.x, out.shape)
        total = weight_sum(xp, delta, stride, f, c, m, q)
        if cuda.threadIdx.x == 0:
            out[f, c, m, q] = total  # grad[blockIdx.x]: read back by this thread only
            if rule(p, grad, cuda.blockIdx.x, kind, first, second, h):
                cuda.atomic.add(bad, 0, 1)

    return kernel


def pad(x: Any, p: int, out: Any) -> None:
    """out (batch, c, H+2p, W+2p) = x (batch, c, H, W) inside a zero border. One launch."""
    launch(pad_kernel, blocks(out.size), THREADS, x, p, out)


def unpad(dxp: Any, p: int, out: Any) -> None:
    """out (batch, c, H, W) = the inside of dxp (batch, c, H+2p, W+2p). One launch."""
    launch(unpad_kernel, blocks(out.size), THREADS, dxp, p, out)


def forward(xp: Any, w: Any, stride: int, out: Any) -> None:
    """z = conv(xp, w) without bias: xp (N, C, Hp, Wp) padded, w (F, C, K, K), out (N, F, Ho, Wo)."""
    launch(forward_kernel, blocks(out.size), THREADS, xp, w, stride, out)


def input_grad(delta: Any, w: Any, stride: int, dxp: Any) -> None:
    """∂L/∂x into dxp (N, C, Hp, Wp) (every element written) from δ (N, F, Ho, Wo)."""
    launch(input_grad_kernel, blocks(dxp.size), THREADS, delta, w, stride, dxp)


def weight_grad(xp: Any, delta: Any, stride: int, out: Any) -> None:
    """BP4 into out (F, C, K, K), summed over the batch and positions in a fixed order (the
    block size, and so the order, depends on the shapes only)."""
    launch(weight_grad_kernel, max(1, out.size), reduce_threads(delta.size // delta.shape[1]), xp,
           delta, stride, out)


def weight_grad_rule(xp: Any, delta: Any, stride: int, out: Any, rule: Any, p: Any, kind: int,
                     first: Any, second: Any, h: Any, bad: Any) -> None:
    """BP4 into the scratch ``out`` (F, C, K, K), then ``rule`` on each weight of p as soon as its
    sum is known; one launch. kernels/cuda/step.py calls this."""
    launch(weight_step_kernel(rule), max(1, out.size), reduce_threads(delta.size // delta.shape[1]),
           xp, delta, stride, out, out.reshape(out.size), p.reshape(p.size), int(kind),
           first.reshape(first.size), second.reshape(second.size), h, bad)


def reduce_threads(terms: int) -> int:
    """Threads per block for a sum of ``terms``: about TERMS each, a power of two in 32..REDUCE."""
    threads = 32
    while threads < REDUCE and threads * TERMS < terms:
        threads *= 2
    return threads
