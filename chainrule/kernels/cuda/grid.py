"""Thread-per-element indexing shared by the CUDA conv and pool kernels: a flat thread index
back to (n, c, i, j) of a 4-d array, and the blocks that cover a count of elements."""

from __future__ import annotations

from numba import cuda

THREADS = 256  # threads per block of the elementwise (thread-per-element) kernels


def blocks(count: int) -> int:
    """Blocks of THREADS threads that cover ``count`` elements (at least one)."""
    return max(1, (count + THREADS - 1) // THREADS)


@cuda.jit(device=True)
def unravel(idx, shape):
    # (n, c, i, j) of flat index idx into an array of 4-d shape
    j = idx % shape[3]
    rest = idx // shape[3]
    i = rest % shape[2]
    rest //= shape[2]
    return rest // shape[1], rest % shape[1], i, j
