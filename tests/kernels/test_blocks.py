"""kernels/blocks.py: how products and reductions are split between threads."""

from __future__ import annotations

import numba

from chainrule.kernels.blocks import (
    REDUCE_SPLIT_MIN,
    SPLIT_MIN_FLOPS,
    reduction_blocks,
    row_blocks,
)


def test_small_work_runs_as_one_block() -> None:
    assert reduction_blocks(64 * 128, 128) == 1  # the MLP's hidden BP2 + BP3
    assert reduction_blocks(REDUCE_SPLIT_MIN - 1, 10_000) == 1
    assert row_blocks(10, 64, 128) == 1  # the MLP's output BP4: 164k flops
    assert 2 * 10 * 64 * 128 < SPLIT_MIN_FLOPS


def test_large_work_takes_one_block_per_thread_at_most_one_per_channel() -> None:
    threads = numba.config.NUMBA_NUM_THREADS
    assert reduction_blocks(64 * 6 * 784, 6) == min(threads, 6)  # LeNet-5's C1
    assert reduction_blocks(REDUCE_SPLIT_MIN * 4, 1) == 1
    assert row_blocks(128, 64, 784) == min(threads, 128)
