"""The CPU backend: Numba ``njit`` kernels, BLAS for dense products, direct loops for conv/pool.

Generated modules (printed from :mod:`chainrule.derive`) are built on first use and memoised per
process; the structural templates are ordinary modules compiled with ``cache=True``. Creating the
backend sets the thread layout measured fastest on 2 cores (:mod:`~chainrule.kernels.cpu.threads`)
and malloc's thresholds so that a step's buffers are reused (:mod:`~chainrule.kernels.cpu.heap`).
"""

from __future__ import annotations

from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING

from chainrule.kernels.cpu import conv, dense, heap, pool, threads
from chainrule.kernels.cpu.activation import activation_module, activation_source
from chainrule.kernels.cpu.output import (
    dropout_module,
    output_module,
    output_source,
    softmax_ce_module,
    softmax_ce_source,
)
from chainrule.kernels.update import update_source

if TYPE_CHECKING:
    from chainrule.kernels.chunks import ChunkRequest, ChunkTrainer


class CpuBackend:
    """Kernels for ``--device cpu``."""

    name = "cpu"
    dense: ModuleType = dense
    conv: ModuleType = conv
    pool: ModuleType = pool

    activation_source = staticmethod(activation_source)
    output_source = staticmethod(output_source)
    softmax_ce_source = staticmethod(softmax_ce_source)
    update_source = staticmethod(update_source)  # the fused reductions + step

    def __init__(self) -> None:
        threads.configure()  # OpenMP threads and one BLAS thread per call (see threads.py)
        heap.keep_heap()  # a step's large buffers reused, not mapped afresh (see heap.py)

    @staticmethod
    @cache
    def activation(name: str) -> ModuleType:
        return activation_module(name)

    @staticmethod
    @cache
    def output(activation: str, loss: str) -> ModuleType:
        return output_module(activation, loss)

    @staticmethod
    @cache
    def softmax_ce() -> ModuleType:
        return softmax_ce_module()

    @staticmethod
    def chunk_trainer(request: ChunkRequest) -> ChunkTrainer | None:
        """The generated epoch function of a dense network (epoch.py) or of a conv net
        (conv_epoch.py); None for any other (the training loop then steps one batch at a time)."""
        from chainrule.kernels.cpu import conv_epoch, epoch  # loaded when training starts

        return epoch.chunk_trainer(request) or conv_epoch.conv_chunk_trainer(request, epoch)

    prints_chunks = True

    @staticmethod
    def chunk_sources(request: ChunkRequest) -> list[tuple[str, str, str]]:
        """The generated modules of that epoch function, as (name, role, source), for
        `kernels show`; [] for a network the loop steps one batch at a time."""
        from chainrule.kernels.cpu import conv_epoch, epoch

        return epoch.chunk_sources(request) or conv_epoch.conv_chunk_sources(request, epoch)

    @staticmethod
    @cache
    def dropout() -> ModuleType:
        return dropout_module()
