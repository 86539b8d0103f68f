"""kernels/cuda/gemm.py in Numba's CUDA simulator: out = a bᵀ, a b and aᵀ b match NumPy (float32,
relative error < 1e-5) on shapes that are not multiples of the 64×64×16 tiles, one launch each and
no copy; float64 too (1e-12)."""

from __future__ import annotations

import pytest
from sim_helpers import run_check

SHAPES = ["70x5x19", "3x66x33", "2x3x1"]
KERNELS = [f"{name}_{shape}" for name in ("nt", "nn", "tn") for shape in SHAPES]


@pytest.fixture(scope="module")
def lines() -> dict[str, float]:
    return run_check("gemm")


def test_gemm_matches_numpy(lines: dict[str, float]) -> None:
    for name in KERNELS:
        assert lines[name] < 1e-5, name
    assert lines["nt_float64"] < 1e-12


def test_gemm_is_one_launch_and_no_copy(lines: dict[str, float]) -> None:
    for name in KERNELS:
        assert lines[f"{name}_launches"] == 1, name
        assert lines[f"{name}_transfers"] == 0, name
