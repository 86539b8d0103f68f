"""The CUDA backend class (``--device cuda``): numba.cuda kernels, data and weights on the device.

numba.cuda is imported by this package only (the registry imports this module for ``cuda``),
so a CPU run never loads it. Every kernel takes
device arrays and launches on the backend's one stream (:mod:`.counters`, which counts launches and
host↔device copies): the tiled GEMM (:mod:`.gemm`) for dense layers, direct conv and pool kernels,
the generated bias + activation, BP1 and softmax-CE kernels printed from the same derivations as
the CPU's (:mod:`.generated`), and the fused reductions + optimiser step (:mod:`.step`). The
lowered layers (:mod:`.layers`, registered per layer kind by :mod:`.lowering`) keep the
parameters on the device; the chunk trainer (:mod:`.trainer`) runs many steps per call with the
training data, the epoch's order and the hyperparameters in device memory, replaying one captured
CUDA graph per step where the driver allows (:mod:`.capture`). Without a GPU, set
``NUMBA_ENABLE_CUDASIM=1`` to run the same kernels in Numba's simulator (the tests do, on tiny
shapes).
"""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

from chainrule.errors import ChainruleError
from chainrule.kernels.cuda import lowering as _lowering  # noqa: F401 - registers the layers
from chainrule.kernels.cuda.generated import activation_source, output_source, softmax_ce_source
from chainrule.kernels.cuda.step import step_source

if TYPE_CHECKING:
    from chainrule.kernels.chunks import ChunkRequest, ChunkTrainer


def require_cuda() -> None:
    """A ChainruleError (one line, exit 2) unless numba.cuda reaches a GPU or the simulator."""
    try:
        from numba import cuda
        usable = bool(cuda.is_available())
    except Exception as exc:  # noqa: BLE001 - numba without its CUDA target, a broken driver
        raise ChainruleError(f"--device cuda needs numba's CUDA support: {exc}") from None
    if not usable:
        raise ChainruleError("--device cuda: no CUDA GPU is available (install the 'cuda' extra "
                             "on a machine with a GPU, or set NUMBA_ENABLE_CUDASIM=1 to simulate)")


class _Lazy:
    """A kernel module as a class attribute, imported on first access (``kernels show`` reads
    the class without creating the backend)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, instance: object, owner: type) -> ModuleType:
        return importlib.import_module(self.name)


class CudaBackend:
    """Kernels for ``--device cuda``."""

    name = "cuda"
    dense: ModuleType = _Lazy("chainrule.kernels.cuda.gemm")  # type: ignore[assignment]
    conv: ModuleType = _Lazy("chainrule.kernels.cuda.conv")  # type: ignore[assignment]
    pool: ModuleType = _Lazy("chainrule.kernels.cuda.pool")  # type: ignore[assignment]

    activation_source = staticmethod(activation_source)
    output_source = staticmethod(output_source)
    softmax_ce_source = staticmethod(softmax_ce_source)
    update_source = staticmethod(step_source)  # the fused reductions + step, printed

    def __init__(self) -> None:
        require_cuda()

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
    @cache
    def dropout() -> ModuleType:
        from chainrule.kernels.cuda.generated import dropout_module
        return dropout_module()

    prints_chunks = False  # its chunk trainer (trainer.py) is one module for every network

    @staticmethod
    def chunk_sources(request: ChunkRequest) -> list[tuple[str, str, str]]:
        return []

    @staticmethod
    def chunk_trainer(request: ChunkRequest) -> ChunkTrainer | None:
        """The device trainer (:mod:`.trainer`); None for dropout without the run's generator
        (the masks' uniforms come from it, drawn once per chunk)."""
        if request.dropout > 0.0 and request.rng is None:
            return None
        from chainrule.kernels.cuda.trainer import CudaChunkTrainer
        return CudaChunkTrainer(request)

    @staticmethod
    def counter_snapshot() -> tuple[int, int, object]:
        """(launches, transfers, the latest chunk trainer's counts) now, for :meth:`step_counts`."""
        from chainrule.kernels.cuda.counters import COUNTERS
        from chainrule.kernels.cuda.trainer import latest_counts
        return COUNTERS.launches, COUNTERS.transfers, latest_counts()

    @staticmethod
    def step_counts(snapshot: tuple[int, int, object], steps: int) -> dict[str, Any]:
        """Kernel launches and host↔device copies per training step since ``snapshot``: inside
        the steps of the chunk trainer when one ran (the copies at the chunks' edges apart),
        else averaged over the ``steps`` steps run one per call (the evaluation included)."""
        from chainrule.kernels.cuda.counters import COUNTERS
        from chainrule.kernels.cuda.trainer import latest_counts
        counts = latest_counts()
        if counts is not None and counts is not snapshot[2] and counts.steps:
            return {"step_path": "chunk trainer", **counts.as_dict()}
        per = max(1, steps)
        return {"step_path": "one step per call",  # each copies its batch and the weights
                "launches_per_step": (COUNTERS.launches - snapshot[0]) / per,
                "transfers_per_step": (COUNTERS.transfers - snapshot[1]) / per, "steps": steps}

