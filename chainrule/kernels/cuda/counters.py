"""The CUDA backend's one stream, and its counts of kernel launches and host↔device copies.

Every kernel of kernels/cuda/ launches through :func:`launch` and every copy between host and
device goes through :func:`to_device` / :func:`to_host`, so :data:`COUNTERS` says how many of each a
training step took (issue 10: ``train --device cuda --format json`` reports ``launches_per_step``
and ``transfers_per_step``; a step after the first must copy nothing). All work is queued on one
numba stream (:func:`stream`), created on first use, so that a step can be captured into a CUDA
graph (DESIGN.md, "GPU"). Under ``NUMBA_ENABLE_CUDASIM=1`` the same calls run in Numba's simulator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import cuda

THREADS = 256  # threads per block of the elementwise kernels (zero fill here)


@dataclass
class Counters:
    """How many kernels were launched and how many host↔device copies were made."""

    launches: int = 0
    transfers: int = 0

    def reset(self) -> None:
        self.launches = 0
        self.transfers = 0


COUNTERS = Counters()
_STREAM: list[Any] = []  # the backend's one stream, made on first use


def stream() -> Any:
    """The numba stream every kernel and copy of the CUDA backend is queued on."""
    if not _STREAM:
        _STREAM.append(cuda.stream())
    return _STREAM[0]


def launch(kernel: Any, blocks: int | tuple[int, ...], threads: int | tuple[int, ...],
           *args: Any) -> None:
    """Launch ``kernel[blocks, threads]`` on :func:`stream` and count it."""
    COUNTERS.launches += 1
    kernel[blocks, threads, stream()](*args)


def to_device(host: np.ndarray) -> Any:
    """Copy a host array to a new device array (one transfer)."""
    COUNTERS.transfers += 1
    return cuda.to_device(np.ascontiguousarray(host), stream=stream())


def copy_to_device(host: np.ndarray, dev: Any) -> None:
    """Copy a host array into an existing device array of its shape (one transfer)."""
    COUNTERS.transfers += 1
    dev.copy_to_device(np.ascontiguousarray(host), stream=stream())


def to_host(dev: Any, out: np.ndarray | None = None) -> np.ndarray:
    """Copy a device array to the host (one transfer), into ``out`` when given; waits for it."""
    COUNTERS.transfers += 1
    if out is None:
        result = dev.copy_to_host(stream=stream())
    else:
        result = dev.copy_to_host(out, stream=stream())
    stream().synchronize()
    return np.asarray(result)


def device_empty(shape: int | tuple[int, ...], dtype: Any) -> Any:
    """An uninitialised device array (no copy, no launch)."""
    return cuda.device_array(shape, dtype=np.dtype(dtype), stream=stream())


@cuda.jit
def _fill_zero(flat):
    # One thread per element of a flat device array
    i = cuda.grid(1)
    if i < flat.shape[0]:
        flat[i] = 0


def zero(dev: Any) -> None:
    """Set a device array to zero with one kernel (a launch, not a transfer)."""
    if dev.size:
        flat = dev.reshape(dev.size)
        launch(_fill_zero, (dev.size + THREADS - 1) // THREADS, THREADS, flat)


def device_zeros(shape: int | tuple[int, ...], dtype: Any) -> Any:
    """A device array of zeros: :func:`device_empty` and one zero-fill launch."""
    dev = device_empty(shape, dtype)
    zero(dev)
    return dev
