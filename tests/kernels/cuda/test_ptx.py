"""The CUDA kernels compile for the real CUDA target (PTX for compute capability 9.0 through
NVVM, no GPU needed), which the simulator never does, and none uses local memory (the GEMM's
micro-tile stays in registers). Skips where NVVM is not installed."""

from __future__ import annotations

import pytest
from sim_helpers import run_check

KERNELS = ["gemm_nt_4", "gemm_tn_1", "conv_input_grad", "conv_weight_grad", "conv_weight_step",
           "pool_max_backward",
           "step_bias", "step_apply", "bias_act_sigmoid", "zero"]


def test_kernels_compile_to_ptx_without_local_memory() -> None:
    lines = run_check("ptx", simulate=False)
    if any(name.startswith("skip") for name in lines):
        pytest.skip("NVVM (CUDA toolkit) is not installed")
    for name in KERNELS:
        assert lines[name] == 0, name
