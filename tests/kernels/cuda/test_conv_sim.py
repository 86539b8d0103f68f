"""kernels/cuda/conv.py in Numba's CUDA simulator: pad, forward, BP4 (weight gradient), ∂L/∂x and
unpad match kernels/cpu/conv.py (float32, relative error < 1e-5) for stride 1 and 2, padding 0
and 1 on a non-square plane, one launch each and no copy."""

from __future__ import annotations

import pytest
from sim_helpers import run_check

KERNELS = [f"{name}_{tag}" for name in ("pad", "forward", "weight_grad", "input_grad", "unpad")
           for tag in ("s1p1", "s2p0", "s2p1")]


@pytest.fixture(scope="module")
def lines() -> dict[str, float]:
    return run_check("conv")


def test_conv_kernels_match_cpu_kernels(lines: dict[str, float]) -> None:
    for name in [*KERNELS, "forward_k3", "input_grad_k3"]:
        assert lines[name] < 1e-5, name


def test_conv_kernels_are_one_launch_and_no_copy(lines: dict[str, float]) -> None:
    for name in KERNELS:
        assert lines[f"{name}_launches"] == 1, name
        assert lines[f"{name}_transfers"] == 0, name
