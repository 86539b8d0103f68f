"""The block-wide sum that every CUDA reduction ends with: a fixed tree over shared memory.

Each thread of a block holds a partial sum; the tree halves the active threads each round, so
the total is summed in the same order on every run (no atomics, nothing depends on thread
timing): what makes the device's BP3/BP4 sums and batch losses bit-reproducible, as the CPU's
fixed-order loops are (kernels/update.py). Harris, "Optimizing Parallel Reduction in CUDA"
(NVIDIA, 2007), kernel 3 (sequential addressing).
"""

from __future__ import annotations

import numpy as np
from numba import cuda

REDUCE = 1024  # most threads per reducing block: a power of two (the tree halves it)


@cuda.jit(device=True)
def block_total(value):
    # The sum of value over the block's threads (a power of two, at most REDUCE) by a fixed tree;
    # every thread of the block calls it and gets the total
    partial = cuda.shared.array(REDUCE, dtype=np.float64)
    tid = cuda.threadIdx.x
    partial[tid] = value
    cuda.syncthreads()
    width = cuda.blockDim.x // 2
    while width > 0:
        if tid < width:
            partial[tid] += partial[tid + width]
        cuda.syncthreads()
        width //= 2
    return partial[0]
