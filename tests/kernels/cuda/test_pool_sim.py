"""kernels/cuda/pool.py in Numba's CUDA simulator: max and average pooling, forward and backward,
match kernels/cpu/pool.py (float32, relative error < 1e-5; the same arg-max on ties) for
non-overlapping, overlapping and stride-1 windows, one launch each and no copy."""

from __future__ import annotations

import pytest
from sim_helpers import run_check

TAGS = ["2s2", "3s2", "2s1"]
MAX = [f"max_{kind}_{data}_{tag}" for kind in ("forward", "backward") for data in ("rand", "ties")
       for tag in TAGS]
AVG = [f"avg_{kind}_{tag}" for kind in ("forward", "backward") for tag in TAGS]


@pytest.fixture(scope="module")
def lines() -> dict[str, float]:
    return run_check("pool")


def test_pool_kernels_match_cpu_kernels(lines: dict[str, float]) -> None:
    for name in MAX + AVG:
        assert lines[name] < 1e-5, name
    for name in MAX:
        if "backward" in name:
            assert lines[name.replace("backward", "backward_scan")] < 1e-5, name


def test_max_pool_picks_the_cpu_arg_max(lines: dict[str, float]) -> None:
    for data in ("rand", "ties"):
        for tag in TAGS:
            assert lines[f"max_arg_{data}_{tag}"] == 0


def test_pool_kernels_are_one_launch_and_no_copy(lines: dict[str, float]) -> None:
    for name in MAX + AVG:
        assert lines[f"{name}_launches"] == 1, name
        assert lines[f"{name}_transfers"] == 0, name
