"""Run by test_ptx.py WITHOUT the simulator: compile CUDA kernels of kernels/cuda/ to PTX for an
H100/H200 (compute capability 9.0) through NVVM, which needs no GPU. The simulator runs kernels as
Python and never types them for the CUDA target; this catches what it misses (an unsupported call,
a shared array of a non-constant type) and reports local-memory use (a micro-tile that spilled).

Device functions are compiled for the "current device"; with no GPU, numba is told it is a 9.0 one.
Prints ``name locals`` per kernel, or ``skip REASON`` when NVVM is not installed.
"""

from __future__ import annotations

import sys

import numpy as np
from numba import cuda
from numba import types as nt
from numba.cuda.cudadrv.error import CudaSupportError, NvvmSupportError

from chainrule.kernels.cuda import conv, counters, gemm, generated, pool, step


class _Device:
    compute_capability = (9, 0)


def _no_gpu_needed() -> None:
    import numba.cuda.api
    import numba.cuda.compiler
    import numba.cuda.dispatcher
    for module in (numba.cuda.api, numba.cuda.compiler, numba.cuda.dispatcher):
        module.get_current_device = _Device  # type: ignore[attr-defined]


def ptx(kernel, *sig) -> str:
    return cuda.compile_ptx(kernel.py_func, sig, cc=(9, 0))[0]


F, I = nt.float32, nt.int64
A1, A2, A3, A4 = (nt.Array(F, d, "C") for d in (1, 2, 3, 4))
I1, I4, H = nt.Array(I, 1, "C"), nt.Array(I, 4, "C"), nt.Array(nt.float64, 1, "C")
_no_gpu_needed()
try:
    ptx(gemm.gemm_kernel(False, True, np.float32), A2, A2, A2)
except (NvvmSupportError, CudaSupportError, OSError) as exc:  # no NVVM here: nothing to check
    print(f"skip {type(exc).__name__}")
    sys.exit(0)
act, steps = generated.activation_module("sigmoid"), step.step_module()
KERNELS = {  # those with shared or local arrays, closures, atomics, device calls
    "gemm_nt_4": (gemm.gemm_kernel(False, True, np.float32, 4), A2, A2, A2),
    "gemm_tn_1": (gemm.gemm_kernel(True, False, np.float32, 1), A2, A2, A2),
    "conv_input_grad": (conv.input_grad_kernel, A4, A4, I, A4),
    "conv_weight_grad": (conv.weight_grad_kernel, A4, A4, I, A4),
    "conv_weight_step": (conv.weight_step_kernel(steps.rule), A4, A4, I, A4, A1, A1, I, A1, A1, H,
                         I1),
    "pool_max_backward": (pool.max_backward_kernel, A4, I4, I, I, A4),
    "step_bias": (steps.bias_step_kernel, A3, A1, A1, I, A1, A1, H, I1),
    "step_apply": (steps.apply_kernel, A1, A1, I, A1, A1, H, I1),
    "bias_act_sigmoid": (act.bias_act_kernel, A3, A1, A3, A3),
    "zero": (counters._fill_zero, A1),
}
for name, (kernel, *sig) in KERNELS.items():
    print(f"{name} {ptx(kernel, *sig).count('.local')}")
