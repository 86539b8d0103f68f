"""The CUDA backend (``--device cuda``): numba.cuda kernels printed by the same printer as the CPU.

numba.cuda is imported here only, so a CPU run never loads it. Without a GPU, set
``NUMBA_ENABLE_CUDASIM=1`` to run these kernels in Numba's simulator (the tests do, on tiny shapes,
against the CPU kernels). The generated per-element work (bias + activation + derivative, the output
layer's loss and BP1 δ, softmax-CE) runs as CUDA kernels; the contractions (dense BLAS, conv and
pool loops) still run on the CPU templates, so this backend is correct but not yet fast: a fused
all-GPU step (CUDA graphs or a persistent kernel, DESIGN.md "GPU") is a later issue.
"""

from __future__ import annotations

from functools import cache
from types import ModuleType

from chainrule.errors import ChainruleError
from chainrule.kernels.cpu import conv, dense, pool
from chainrule.kernels.cuda.generated import activation_source, output_source, softmax_ce_source


def _require_cuda() -> None:
    try:
        from numba import cuda
    except ImportError as exc:  # pragma: no cover - numba without its CUDA target
        raise ChainruleError(f"--device cuda needs numba's CUDA support: {exc}") from None
    if not cuda.is_available():
        raise ChainruleError("--device cuda: no CUDA GPU is available (install the 'cuda' extra "
                             "on a machine with a GPU, or set NUMBA_ENABLE_CUDASIM=1 to simulate)")


class CudaBackend:
    """Kernels for ``--device cuda``."""

    name = "cuda"
    dense: ModuleType = dense
    conv: ModuleType = conv
    pool: ModuleType = pool

    activation_source = staticmethod(activation_source)
    output_source = staticmethod(output_source)
    softmax_ce_source = staticmethod(softmax_ce_source)

    def __init__(self) -> None:
        _require_cuda()

    @staticmethod
    @cache
    def activation(name: str) -> ModuleType:
        from chainrule.kernels.cuda.generated import activation_module
        return activation_module(name)

    @staticmethod
    @cache
    def output(activation: str, loss: str) -> ModuleType:
        from chainrule.kernels.cuda.generated import output_module
        return output_module(activation, loss)

    @staticmethod
    @cache
    def softmax_ce() -> ModuleType:
        from chainrule.kernels.cuda.generated import softmax_ce_module
        return softmax_ce_module()

    @staticmethod
    def chunk_trainer(request: object) -> None:
        """No compiled step loop yet: the training loop steps one batch at a time."""
        return

    @staticmethod
    @cache
    def dropout() -> ModuleType:
        # the masked scaling runs on the host arrays, as the contractions do (a later issue)
        from chainrule.kernels.cpu.output import dropout_module
        return dropout_module()
