"""The backend registry: a device name (``cpu``, ``cuda``) to the object that supplies its kernels.

As in pytensor's ``link/numba/dispatch``, each backend lives in its own subpackage and is imported
only when it is asked for, so numba.cuda is never imported for a CPU run. A backend exposes the
generated modules (``activation(name)``, ``output(activation, loss)``, ``softmax_ce()``,
``dropout()``) and the
structural templates (``dense``, ``conv``, ``pool``). The fused reductions with the optimiser
step (:mod:`chainrule.kernels.update`) work on host arrays and serve both backends.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Protocol

from chainrule.errors import ChainruleError

if TYPE_CHECKING:
    from chainrule.kernels.chunks import ChunkRequest, ChunkTrainer


class Backend(Protocol):
    name: str
    dense: ModuleType
    conv: ModuleType
    pool: ModuleType

    def activation(self, name: str) -> ModuleType: ...
    def output(self, activation: str, loss: str) -> ModuleType: ...
    def softmax_ce(self) -> ModuleType: ...
    def dropout(self) -> ModuleType: ...
    # the source of the generated modules, for `kernels show` (no device needed to print it)
    @staticmethod
    def activation_source(name: str) -> str: ...
    @staticmethod
    def output_source(activation: str, loss: str) -> str: ...
    @staticmethod
    def softmax_ce_source() -> str: ...
    @staticmethod
    def update_source() -> str: ...  # the fused reductions + optimiser step
    # many steps per call (kernels/chunks.py), or None: the loop steps one batch at a time
    def chunk_trainer(self, request: ChunkRequest) -> ChunkTrainer | None: ...
    # whether chunk_sources prints the chunk trainer's loop for a network (`kernels show`)
    prints_chunks: bool
    # the generated modules of that loop, as (name, role, source); [] for a network it does
    # not print
    @staticmethod
    def chunk_sources(request: ChunkRequest) -> list[tuple[str, str, str]]: ...


_FACTORIES: dict[str, str] = {"cpu": "chainrule.kernels.cpu:CpuBackend",
                              "cuda": "chainrule.kernels.cuda.backend:CudaBackend"}
_INSTANCES: dict[str, Backend] = {}


def register_backend(name: str, factory: str) -> None:
    """Register ``"package.module:Class"`` as the backend for device ``name``."""
    _FACTORIES[name] = factory


def devices() -> list[str]:
    return list(_FACTORIES)


def backend_class(device: str) -> type[Backend]:
    """The backend class for ``device``, imported but not created (so nothing checks for a GPU):
    what ``kernels show`` prints from."""
    if device not in _FACTORIES:
        raise ChainruleError(f"unknown device {device!r}: expected one of {', '.join(_FACTORIES)}")
    module_name, _, class_name = _FACTORIES[device].partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def get_backend(device: str = "cpu") -> Backend:
    """The backend for ``device``, created (and its package imported) on first use."""
    if device not in _INSTANCES:
        _INSTANCES[device] = backend_class(device)()
    return _INSTANCES[device]
