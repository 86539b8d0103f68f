"""Thread settings for the CPU backend: Numba's OpenMP layer and single-threaded BLAS.

Measured on 2 cores (LeNet-5 and an MLP, batch 64): OpenMP workers that spin after each parallel
region and OpenBLAS threads that spin after each product take the cores from each other, so BLAS
runs on one thread. Parallelism comes from Numba alone: the kernels split the batch (or the
output rows) into fixed chunks under ``prange`` and each chunk calls the single-threaded BLAS.
With one BLAS thread the OpenMP layer is the fastest: an empty ``prange`` launch costs 1.4 µs
under ``omp`` against 86 µs under ``workqueue``, and a training step has some 20 launches (MLP
step 0.64 → 0.30 ms, LeNet-5 9.0 → 7.1 ms with the same kernels). How long an idle OpenMP worker
spins before it sleeps decides the rest (LeNet-5 step, batch 64, quiet machine): sleeping at once
(``OMP_WAIT_POLICY=PASSIVE``) 4.1-4.2 ms, as waking a halted virtual CPU is slow; spinning
10 000 iterations 3.6 ms; 100 000 (``GOMP_SPINCOUNT``, set here unless given) 3.1 ms; libgomp's
default 300 000 3.2 ms; spinning always (``ACTIVE``) 3.0-3.1 ms. A worker that spins without
bound is harmful on a busy machine: while another process held a core, an empty launch took 8 ms.
``workqueue`` remains the fallback when no OpenMP runtime is found.

``NUMBA_THREADING_LAYER`` and ``CHAINRULE_BLAS_THREADS`` override these choices. The BLAS thread
count is set through OpenBLAS's own ``*_set_num_threads`` in every OpenBLAS the process has loaded
(the approach of threadpoolctl): NumPy's, which the kernels call (kernels/blas.py), and SciPy's
where ``np.dot`` inside ``njit`` calls it (blas.py's fallback; SciPy is loaded here first for that
reason, and only then); when none is found nothing changes.
"""

from __future__ import annotations

import ctypes
import os

import numba

from chainrule.kernels.blas import HAVE_CBLAS, loaded_openblas

SPIN_COUNT = "100000"  # libgomp's wait before a worker sleeps: 300000 by default, "infinite" if active

_SETTERS = ("openblas_set_num_threads", "openblas_set_num_threads64_",
            "scipy_openblas_set_num_threads", "scipy_openblas_set_num_threads64_")


def configure() -> None:
    """Choose the threading layer (before the first parallel kernel) and the BLAS thread count."""
    if not os.environ.get("NUMBA_THREADING_LAYER"):
        # "default" takes the first layer of this list that loads (omp, tbb, then workqueue)
        numba.config.THREADING_LAYER_PRIORITY = ["omp", "tbb", "workqueue"]  # type: ignore[attr-defined]
        numba.config.THREADING_LAYER = "default"  # type: ignore[attr-defined]
        # idle OpenMP workers spin ~100k iterations, then sleep (GNU libgomp; see the docstring)
        os.environ.setdefault("GOMP_SPINCOUNT", SPIN_COUNT)
    if not HAVE_CBLAS:  # np.dot inside njit (blas_fallback.py) calls SciPy's BLAS: load it now
        # so that its threads are set too (importing SciPy costs 0.3 s of start-up, so only then)
        try:
            import scipy.linalg.cython_blas  # noqa: F401
        except ImportError:
            pass
    wanted = os.environ.get("CHAINRULE_BLAS_THREADS", "1")
    if wanted.isdigit() and int(wanted) > 0:
        set_blas_threads(int(wanted))


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
