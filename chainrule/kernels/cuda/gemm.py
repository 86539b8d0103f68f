"""Shared-memory tiled, register-blocked GEMM for the dense layers on the device.

The starting point is the ``fast_matmul`` example of Numba's CUDA documentation ("Examples: Matrix
multiplication", numba.readthedocs.io/en/stable/cuda/examples.html): 16×16 tiles of A and B staged
in shared memory, one output element per thread, so each thread does two shared-memory loads per
multiply-add; issue 10 measured that example at 7 of cuBLAS's 52 TFLOP/s on an H100. Here, as in
the classic register-blocked SGEMM (Volkov & Demmel, *Benchmarking GPUs to tune dense linear
algebra*, SC 2008), a block of 16×16 threads computes a 64×64 tile of the output and each thread a
4×4 micro-tile held in registers: per step of k a thread loads 4 values of A and 4 of B from shared
memory and does 16 multiply-adds (4 times the example's arithmetic per load), and each element of A
and B read from global memory serves 64 outputs instead of 16. A thread's rows and columns are
strided by 16 (row ``ty + 16 i``, column ``tx + 16 j``), so a warp reads consecutive shared-memory
words (no bank conflicts) and writes consecutive output columns. Tiles are loaded along the
contiguous axis of each operand (coalesced), transposed or not, and the edges are padded with zeros.
An output too small to give :data:`BUSY` blocks of 64×64 (a dense layer at batch 64) runs with
2×2 or 1×1 micro-tiles (32² or 16² tiles) instead, so that it still spreads over the SMs.

Each output element is one thread's sum over k in ascending order: results do not depend on timing.
The three layouts of backprop (Nielsen, *NNDL*, ch. 2) are three kernels of one template:
``matmul_nt`` z = x Wᵀ (forward), ``matmul_nn`` ∂L/∂x = δ W, ``matmul_tn`` BP4 ∂L/∂W = δᵀ x.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from numba import cuda

from chainrule.kernels.cuda.counters import launch

DEPTH = 16  # the k extent of the tiles staged in shared memory
SIDE = 16  # threads per block along each axis (256 threads)
MICRO = 4  # rows and columns of one thread's micro-tile: 4 x 4, a 64 x 64 tile per block
BUSY = 128  # blocks that keep a GPU busy (an H100 has 132 SMs): fewer, and the tiles shrink


@cache
def gemm_kernel(trans_a: bool, trans_b: bool, dtype: Any, micro: int = MICRO,
                rule: Any = None) -> Any:
    """out (m, n) = op(a) op(b), op(a) = aᵀ when ``trans_a`` (a (k, m)) else a (m, k), and op(b)
    = bᵀ when ``trans_b`` (b (n, k)) else b (k, n); ``dtype`` the element type (a numpy type);
    each thread computes ``micro`` × ``micro`` outputs of a (16·micro)² tile. With ``rule`` (the
    optimiser's device function of kernels/cuda/step.py) the kernel takes (a, b, out, grad, p, kind,
    first, second, h, bad) and applies the rule to each output element as soon as it is written
    (grad, p, first, second: flat views; the count of non-finite results is added to bad)."""
    product = _product(trans_a, trans_b, dtype, micro)
    if rule is None:
        @cuda.jit
        def kernel(a, b, out):
            m, n = out.shape
            acc = cuda.local.array((micro, micro), dtype=dtype)  # out[row0+ty+16i, col0+tx+16j]
            row0, col0 = product(a, b, m, n, acc)
            for i in range(micro):
                r = row0 + cuda.threadIdx.y + SIDE * i
                for j in range(micro):
                    c = col0 + cuda.threadIdx.x + SIDE * j
                    if r < m and c < n:
                        out[r, c] = acc[i, j]

        return kernel

    @cuda.jit
    def stepped(a, b, out, grad, p, kind, first, second, h, bad):
        m, n = out.shape
        acc = cuda.local.array((micro, micro), dtype=dtype)
        row0, col0 = product(a, b, m, n, acc)
        count = 0
        for i in range(micro):
            r = row0 + cuda.threadIdx.y + SIDE * i
            for j in range(micro):
                c = col0 + cuda.threadIdx.x + SIDE * j
                if r < m and c < n:
                    out[r, c] = acc[i, j]  # grad[r * n + c]: read back by this thread only
                    count += rule(p, grad, r * n + c, kind, first, second, h)
        if count:
            cuda.atomic.add(bad, 0, count)

    return stepped


def _product(trans_a: bool, trans_b: bool, dtype: Any, micro: int) -> Any:
    """The device function that fills a thread's micro-tile acc (micro, micro) with its outputs
    of op(a) op(b) and returns the block's first row and column (see :func:`gemm_kernel`)."""
    tile = SIDE * micro  # rows and columns of the block's output tile
    loads = tile * DEPTH // (SIDE * SIDE)  # elements a thread stages per operand per step

    @cuda.jit(device=True, inline=True)
    def product(a, b, m, n, acc):
        k = a.shape[0] if trans_a else a.shape[1]
        ty, tx = cuda.threadIdx.y, cuda.threadIdx.x
        tid = ty * SIDE + tx
        row0, col0 = cuda.blockIdx.y * tile, cuda.blockIdx.x * tile
        tile_a = cuda.shared.array((DEPTH, tile), dtype=dtype)  # tile_a[kk, r] = op(a)[row0+r, kk]
        tile_b = cuda.shared.array((DEPTH, tile), dtype=dtype)  # tile_b[kk, c] = op(b)[kk, col0+c]
        frag_a = cuda.local.array(micro, dtype=dtype)
        frag_b = cuda.local.array(micro, dtype=dtype)
        for i in range(micro):
            for j in range(micro):
                acc[i, j] = 0
        for k0 in range(0, k, DEPTH):
            for load in range(loads):
                e = load * SIDE * SIDE + tid
                if trans_a:  # a (k, m): consecutive threads read along m
                    kk, r = e // tile, e % tile
                    inside = k0 + kk < k and row0 + r < m
                    tile_a[kk, r] = a[k0 + kk, row0 + r] if inside else 0
                else:  # a (m, k): consecutive threads read along k
                    r, kk = e // DEPTH, e % DEPTH
                    inside = k0 + kk < k and row0 + r < m
                    tile_a[kk, r] = a[row0 + r, k0 + kk] if inside else 0
                if trans_b:  # b (n, k): along k
                    c, kk = e // DEPTH, e % DEPTH
                    inside = k0 + kk < k and col0 + c < n
                    tile_b[kk, c] = b[col0 + c, k0 + kk] if inside else 0
                else:  # b (k, n): along n
                    kk, c = e // tile, e % tile
                    inside = k0 + kk < k and col0 + c < n
                    tile_b[kk, c] = b[k0 + kk, col0 + c] if inside else 0
            cuda.syncthreads()
            for kk in range(DEPTH):
                for i in range(micro):
                    frag_a[i] = tile_a[kk, ty + SIDE * i]
                    frag_b[i] = tile_b[kk, tx + SIDE * i]
                for i in range(micro):
                    for j in range(micro):
                        acc[i, j] += frag_a[i] * frag_b[j]
            cuda.syncthreads()
        return row0, col0

    return product


def _grid(m: int, n: int, micro: int) -> tuple[int, int]:
    tile = SIDE * micro
    return (n + tile - 1) // tile, (m + tile - 1) // tile


def micro_tile(m: int, n: int) -> int:
    """The micro-tile side for an (m, n) output: 4 (64² tiles) when that gives BUSY blocks, else
    2 or 1 (32², 16² tiles), so that small products (a batch of 64) still spread over the SMs."""
    for micro in (MICRO, 2):
        blocks = _grid(m, n, micro)
        if blocks[0] * blocks[1] >= BUSY:
            return micro
    return 1


def _run(trans_a: bool, trans_b: bool, a: Any, b: Any, out: Any, micro: int | None) -> None:
    m, n = out.shape
    micro = micro_tile(m, n) if micro is None else micro
    kernel = gemm_kernel(trans_a, trans_b, np.dtype(out.dtype).type, micro)
    launch(kernel, _grid(m, n, micro), (SIDE, SIDE), a, b, out)


def matmul_nt(a: Any, b: Any, out: Any, micro: int | None = None) -> None:
    """out = a @ b.T; a (m, k), b (n, k), out (m, n): the dense forward z = x Wᵀ. ``micro``:
    the micro-tile side (1, 2 or 4), chosen from the shape when None."""
    _run(False, True, a, b, out, micro)


def matmul_nn(a: Any, b: Any, out: Any, micro: int | None = None) -> None:
    """out = a @ b; a (m, k), b (k, n): ∂L/∂x = δ W."""
    _run(False, False, a, b, out, micro)


def matmul_tn(a: Any, b: Any, out: Any, micro: int | None = None) -> None:
    """out = a.T @ b; a (k, m), b (k, n): BP4 ∂L/∂W = δᵀ x."""
    _run(True, False, a, b, out, micro)


def matmul_tn_rule(a: Any, b: Any, out: Any, rule: Any, p: Any, kind: int, first: Any,
                   second: Any, h: Any, bad: Any, micro: int | None = None) -> None:
    """out = a.T @ b (BP4 into the scratch ``out``), then ``rule`` on each element of p (same
    size as out) while it is in registers; one launch. kernels/cuda/step.py calls this."""
    m, n = out.shape
    micro = micro_tile(m, n) if micro is None else micro
    kernel = gemm_kernel(True, False, np.dtype(out.dtype).type, micro, rule)
    launch(kernel, _grid(m, n, micro), (SIDE, SIDE), a, b, out, out.reshape(out.size),
           p.reshape(p.size), int(kind), first.reshape(first.size), second.reshape(second.size), h,
           bad)
