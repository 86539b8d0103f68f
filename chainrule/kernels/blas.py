"""Matrix products inside Numba kernels through NumPy's own OpenBLAS (CBLAS ``?gemm``).

``np.dot`` inside ``njit`` calls SciPy's BLAS (``scipy.linalg.cython_blas``). NumPy's wheels ship
a newer OpenBLAS (0.3.31 against SciPy's 0.3.30 here), and calling it directly also takes any
row stride and a transposed operand without a copy, and ``alpha``/``beta`` (BLAS level 3:
C ← α·op(A)·op(B) + β·C; Dongarra et al., ACM TOMS 16(1), 1990). Measured on a 2-core AMD EPYC,
one BLAS thread per Numba thread, batch 64 (``bench/kernel_micro.py``, in bench/RESULTS.md): the
hidden layer of mlp:784-128-10, z = x Wᵀ split in two feature blocks, 110 → 89 µs; BP4 δᵀx in two
row blocks 113 → 86 µs.

The entry is NumPy's ILP64 ``scipy_cblas_sgemm64_`` / ``scipy_cblas_dgemm64_`` (64-bit integers,
32-bit enums), found among the OpenBLAS libraries the process has mapped and handed to LLVM as a
named symbol (``llvmlite.binding.add_symbol``), so kernels that call it are cached by Numba like
any other: the symbol is resolved when the cache is loaded, after this module registered it.
Where NumPy has no such library (another BLAS vendor, as Accelerate on macOS), or
``CHAINRULE_MATMUL=np.dot`` is set, the same names are C callbacks that call ``np.dot``
(blas_fallback.py).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
from pathlib import Path

import llvmlite.binding as llvm
import numpy as np
from numba import njit, types


def loaded_openblas() -> list[str]:
    """Paths of the OpenBLAS libraries mapped into this process (Linux; empty elsewhere)."""
    maps = Path("/proc/self/maps")
    if not maps.exists():
        return []
    paths = {line.split()[-1] for line in maps.read_text().splitlines()
             if "openblas" in line.lower() and line.split()[-1].startswith("/")}
    return sorted(paths)


_ENTRIES = {"chainrule_sgemm": "scipy_cblas_sgemm64_", "chainrule_dgemm": "scipy_cblas_dgemm64_"}
ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112  # CBLAS enums


def _register() -> bool:
    """Register NumPy's ILP64 CBLAS ``?gemm`` under the names in :data:`_ENTRIES`; False when no
    loaded OpenBLAS exports both (or ``CHAINRULE_MATMUL=np.dot``): blas_fallback.py's are then
    registered instead, so code cached with either calls the one that is there."""
    if os.environ.get("CHAINRULE_MATMUL") == "np.dot":
        return _register_fallback()
    for path in loaded_openblas():
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        found = {name: ctypes.cast(getattr(library, entry), ctypes.c_void_p).value
                 for name, entry in _ENTRIES.items() if hasattr(library, entry)}
        if len(found) == len(_ENTRIES):
            for name, address in found.items():
                llvm.add_symbol(name, address)
            return True
    return _register_fallback()


def _register_fallback() -> bool:
    from chainrule.kernels import blas_fallback  # compiled (or loaded) only when needed

    for name, function in blas_fallback.ENTRIES.items():
        llvm.add_symbol(name, function.address)
    return False


HAVE_CBLAS = _register()
FLAVOUR = "numpy-openblas64-cblas" if HAVE_CBLAS else "np.dot"


def import_line() -> str:
    """The lines a generated module imports :func:`matmul` with. They name this file's digest:
    Numba caches a function with the code of what it calls, keyed on its own file."""
    digest = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    return (f"# kernels/blas.py sha256 {digest}: compiled into this module\n"
            "from chainrule.kernels.blas import matmul\n\n\n")

_ARGS = (types.int32, types.int32, types.int32, types.int64, types.int64, types.int64)
_POINTER, _LD = types.intp, types.int64
_sgemm = types.ExternalFunction("chainrule_sgemm", types.void(
    *_ARGS, types.float32, _POINTER, _LD, _POINTER, _LD, types.float32, _POINTER, _LD))
_dgemm = types.ExternalFunction("chainrule_dgemm", types.void(
    *_ARGS, types.float64, _POINTER, _LD, _POINTER, _LD, types.float64, _POINTER, _LD))


@njit(cache=True, error_model="numpy")
def _layout(a):
    # (transposed?, leading dimension) of a 2-D view whose rows or columns are unit-stride, or
    # (-1, 0) for any other view (it is copied)
    size = a.itemsize
    if a.strides[1] == size and a.strides[0] % size == 0 and a.strides[0] >= size * a.shape[1]:
        return 0, max(1, a.strides[0] // size)
    if a.strides[0] == size and a.strides[1] % size == 0 and a.strides[1] >= size * a.shape[0]:
        return 1, max(1, a.strides[1] // size)
    return -1, 0


@njit(cache=True, error_model="numpy")
def _gemm(a, b, out, alpha, beta):
    # out (m, n) = alpha a (m, k) b (k, n) + beta out; out's layout is 0 (_layout)
    ta, lda = _layout(a)
    if ta < 0:
        a = np.ascontiguousarray(a)
        ta, lda = 0, max(1, a.shape[1])
    tb, ldb = _layout(b)
    if tb < 0:
        b = np.ascontiguousarray(b)
        tb, ldb = 0, max(1, b.shape[1])
    m, k, n = a.shape[0], a.shape[1], b.shape[1]
    ldc = _layout(out)[1]
    op_a = TRANS if ta else NO_TRANS
    op_b = TRANS if tb else NO_TRANS
    if out.itemsize == 4:
        _sgemm(ROW_MAJOR, op_a, op_b, m, n, k, np.float32(alpha), a.ctypes.data, lda,
               b.ctypes.data, ldb, np.float32(beta), out.ctypes.data, ldc)
    else:
        _dgemm(ROW_MAJOR, op_a, op_b, m, n, k, np.float64(alpha), a.ctypes.data, lda,
               b.ctypes.data, ldb, np.float64(beta), out.ctypes.data, ldc)


@njit(cache=True, error_model="numpy")
def matmul(a, b, out, alpha, beta):
    # out = alpha a b + beta out. a: (m, k); b: (k, n); out: (m, n); one dtype (float32 or
    # float64); any view whose rows or columns are unit-stride is read in place
    if out.shape[0] == 0 or out.shape[1] == 0:
        return
    layout = _layout(out)[0]
    if layout == 0:
        _gemm(a, b, out, alpha, beta)
    elif layout == 1:  # a transposed view: out^T = b^T a^T
        _gemm(b.T, a.T, out.T, alpha, beta)
    else:
        part = np.empty(out.shape, dtype=out.dtype)
        if beta != 0.0:
            part[:] = out
        _gemm(a, b, part, alpha, beta)
        out[:] = part
