"""Thread settings for the CPU backend: Numba's ``workqueue`` layer and single-threaded BLAS.

Measured on 2 cores (LeNet-5 and an MLP, batch 64): OpenMP workers that spin after each parallel
region and OpenBLAS threads that spin after each product take the cores from each other, and a
LeNet-5 step ran 5 to 15 times slower than with non-spinning ``workqueue`` threads and one BLAS
thread. The dense products here are small, so one BLAS thread costs little (DESIGN.md, "Kernels":
call BLAS outside ``prange``; the conv and pool loops carry the parallelism).

``NUMBA_THREADING_LAYER`` and ``CHAINRULE_BLAS_THREADS`` override these choices. The BLAS thread
count is set through OpenBLAS's own ``*_set_num_threads`` in every OpenBLAS the process has loaded
(the approach of threadpoolctl); when none is found nothing changes.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import numba

_SETTERS = ("openblas_set_num_threads", "openblas_set_num_threads64_",
            "scipy_openblas_set_num_threads", "scipy_openblas_set_num_threads64_")


def configure() -> None:
    """Choose the threading layer (before the first parallel kernel) and the BLAS thread count."""
    if not os.environ.get("NUMBA_THREADING_LAYER"):
        numba.config.THREADING_LAYER = "workqueue"  # type: ignore[attr-defined]
    wanted = os.environ.get("CHAINRULE_BLAS_THREADS", "1")
    if wanted.isdigit() and int(wanted) > 0:
        set_blas_threads(int(wanted))


def loaded_openblas() -> list[str]:
    """Paths of the OpenBLAS libraries mapped into this process (Linux; empty elsewhere)."""
    maps = Path("/proc/self/maps")
    if not maps.exists():
        return []
    paths = {line.split()[-1] for line in maps.read_text().splitlines()
             if "openblas" in line.lower() and line.split()[-1].startswith("/")}
    return sorted(paths)


def set_blas_threads(count: int) -> int:
    """Set the thread count of every loaded OpenBLAS; returns how many libraries were set."""
    done = 0
    for path in loaded_openblas():
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _SETTERS:
            setter = getattr(library, name, None)
            if setter is not None:
                setter(ctypes.c_int(count))
                done += 1
                break
    return done
