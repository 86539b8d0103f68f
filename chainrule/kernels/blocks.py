"""How a product or a reduction is split between threads: row blocks, one per thread.

Backend-neutral sizing shared by the dense templates (:mod:`chainrule.kernels.cpu.dense`) and the
fused reductions with the optimiser step (:mod:`chainrule.kernels.fused_step`), so neither imports
the other for it. No block shares a sum with another, so a result does not depend on the split.
"""

from __future__ import annotations

import numba

SPLIT_MIN_FLOPS = 1_000_000  # products below this run as one BLAS call
# values from which BP2/BP3 (update.py) are split between threads: below, one block runs without
# a parallel region, whose start costs more (the MLP's 64 x 128 BP2 + BP3: 3 us in one block,
# 15 us in two; 2-core AMD EPYC, bench/kernel_micro.py)
REDUCE_SPLIT_MIN = 32_768
# a dense layer of at least this many outputs runs in a compiled epoch (kernels/cpu/epoch.py) with
# its weights held transposed, (n_in, n_out): its forward product and BP4 then read every operand
# along rows, which OpenBLAS packs faster than a transposed view (batch 64, two threads, forward +
# BP4 with SGD, 2-core AMD EPYC, bench/kernel_micro.py: 784 -> 128 164 -> 154 us, 3136 -> 128
# 646 -> 581 us, 784 -> 32 36 -> 34 us; the MLP's compiled step 208 -> 193 us)
TRANSPOSE_MIN_OUT = 64


def row_blocks(m: int, k: int, n: int) -> int:
    """How many row blocks a product of (m, k) by (k, n) is split into."""
    if 2 * m * k * n < SPLIT_MIN_FLOPS:
        return 1
    return thread_blocks(m)


def reduction_blocks(values: int, channels: int) -> int:
    """How many blocks of channels a bias reduction over ``values`` values is split into."""
    return 1 if values < REDUCE_SPLIT_MIN else thread_blocks(channels)


def thread_blocks(rows: int) -> int:
    """One block of rows per thread, at most one per row. The thread count is numba's configured
    one (``NUMBA_NUM_THREADS``): chainrule never changes it, and reading it costs 0.1 µs against
    2 µs for ``numba.get_num_threads()``, which a step would call a few times."""
    return max(1, min(numba.config.NUMBA_NUM_THREADS, rows))  # type: ignore[attr-defined]


def epoch_transposes(n_out: int, dtype: str) -> bool:
    """Whether a compiled epoch holds a dense layer's weights transposed: float32 layers of
    TRANSPOSE_MIN_OUT outputs or more. BLAS may round such a product differently from the step
    loop's (its kernels for the two layouts differ for some shapes), so float64 runs, which
    check, keep every layer as it is and equal the step loop bit for bit."""
    return dtype == "float32" and n_out >= TRANSPOSE_MIN_OUT
