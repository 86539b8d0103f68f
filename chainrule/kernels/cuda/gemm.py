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

TILE = 64  # rows and columns of the output tile of one block
DEPTH = 16  # the k extent of the tiles staged in shared memory
SIDE = 16  # threads per block along each axis (256 threads)
MICRO = TILE // SIDE  # rows and columns of one thread's micro-tile (4 x 4)
LOADS = TILE * DEPTH // (SIDE * SIDE)  # elements each thread stages per operand per step (4)


@cache
def gemm_kernel(trans_a: bool, trans_b: bool, dtype: Any) -> Any:
    """out (m, n) = op(a) op(b), op(a) = aᵀ when ``trans_a`` (a (k, m)) else a (m, k), and op(b)
    = bᵀ when ``trans_b`` (b (n, k)) else b (k, n); ``dtype`` the element type (a numpy type)."""

    @cuda.jit
    def kernel(a, b, out):
        m, n = out.shape
        k = a.shape[0] if trans_a else a.shape[1]
        ty, tx = cuda.threadIdx.y, cuda.threadIdx.x
        tid = ty * SIDE + tx
        row0, col0 = cuda.blockIdx.y * TILE, cuda.blockIdx.x * TILE
        tile_a = cuda.shared.array((DEPTH, TILE), dtype=dtype)  # tile_a[kk, r] = op(a)[row0+r, kk]
        tile_b = cuda.shared.array((DEPTH, TILE), dtype=dtype)  # tile_b[kk, c] = op(b)[kk, col0+c]
        acc = cuda.local.array((MICRO, MICRO), dtype=dtype)  # out[row0+ty+16i, col0+tx+16j]
        frag_a = cuda.local.array(MICRO, dtype=dtype)
        frag_b = cuda.local.array(MICRO, dtype=dtype)
        for i in range(MICRO):
            for j in range(MICRO):
                acc[i, j] = 0
        for k0 in range(0, k, DEPTH):
            for load in range(LOADS):
                e = load * SIDE * SIDE + tid
                if trans_a:  # a (k, m): consecutive threads read along m
                    kk, r = e // TILE, e % TILE
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
                    kk, c = e // TILE, e % TILE
                    inside = k0 + kk < k and col0 + c < n
                    tile_b[kk, c] = b[k0 + kk, col0 + c] if inside else 0
            cuda.syncthreads()
            for kk in range(DEPTH):
                for i in range(MICRO):
                    frag_a[i] = tile_a[kk, ty + SIDE * i]
                    frag_b[i] = tile_b[kk, tx + SIDE * i]
                for i in range(MICRO):
                    for j in range(MICRO):
                        acc[i, j] += frag_a[i] * frag_b[j]
            cuda.syncthreads()
        for i in range(MICRO):
            r = row0 + ty + SIDE * i
            for j in range(MICRO):
                c = col0 + tx + SIDE * j
                if r < m and c < n:
                    out[r, c] = acc[i, j]

    return kernel


def _run(trans_a: bool, trans_b: bool, a: Any, b: Any, out: Any) -> None:
    m, n = out.shape
    blocks = ((n + TILE - 1) // TILE, (m + TILE - 1) // TILE)
    kernel = gemm_kernel(trans_a, trans_b, np.dtype(out.dtype).type)
    launch(kernel, blocks, (SIDE, SIDE), a, b, out)


def matmul_nt(a: Any, b: Any, out: Any) -> None:
    """out = a @ b.T; a (m, k), b (n, k), out (m, n): the dense forward z = x Wᵀ."""
    _run(False, True, a, b, out)


def matmul_nn(a: Any, b: Any, out: Any) -> None:
    """out = a @ b; a (m, k), b (k, n): ∂L/∂x = δ W."""
    _run(False, False, a, b, out)


def matmul_tn(a: Any, b: Any, out: Any) -> None:
    """out = a.T @ b; a (k, m), b (k, n): BP4 ∂L/∂W = δᵀ x."""
    _run(True, False, a, b, out)
