"""kernels/cuda/gemm.py in Numba's CUDA simulator: out = a bᵀ, a b and aᵀ b match NumPy (float32,
relative error < 1e-5) on shapes that are not multiples of the tiles, with 4×4, 2×2 and 1×1
micro-tiles, one launch each and no copy; float64 too (1e-12)."""

from __future__ import annotations

import pytest
from sim_helpers import run_check

from chainrule.kernels.cuda.gemm import micro_tile

SHAPES = ["70x5x19_m4", "3x40x17_m2", "2x3x1_m4", "20x17x19_mauto"]
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


def test_small_outputs_get_smaller_tiles() -> None:
    assert micro_tile(64, 300) == 1  # a dense layer at batch 64: 4 x 19 blocks of 16^2
    assert micro_tile(512, 512) == 2  # 16 x 16 blocks of 32^2
    assert micro_tile(1024, 1024) == 4  # 16 x 16 blocks of 64^2
