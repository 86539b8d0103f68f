"""CBLAS-shaped ``?gemm`` C callbacks that call ``np.dot``: what blas.py registers where NumPy's
OpenBLAS is not there (NumPy built on another BLAS), so kernels call one symbol either way.

Row-major only (blas.py passes ROW_MAJOR): op(A) is A (m, k) stored with leading dimension lda, or
Aᵀ of a stored (k, m); the same for B; C (m, n) with ldc. Semantics of BLAS level 3
(C ← α·op(A)·op(B) + β·C; Dongarra et al., ACM TOMS 16(1), 1990).
"""

from __future__ import annotations

import numpy as np
from numba import carray, cfunc, njit, types
from numba.core.typing.templates import Signature

NO_TRANS = 111  # CBLAS enum


@njit(cache=True, error_model="numpy")
def _operand(pointer, op, rows, cols, ld):
    # op(X) of shape (rows, cols) from a row-major store with leading dimension ld
    if op == NO_TRANS:
        return np.ascontiguousarray(carray(pointer, (rows, ld))[:, :cols])
    return np.ascontiguousarray(carray(pointer, (cols, ld))[:, :rows].T)


@njit(cache=True, error_model="numpy")
def _gemm(op_a, op_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    # c (m, n) = alpha op(a) op(b) + beta c
    out = carray(c, (m, ldc))[:, :n]
    product = np.dot(_operand(a, op_a, m, k, lda), _operand(b, op_b, k, n, ldb))
    if beta == 0.0:
        out[:] = alpha * product
    else:
        out[:] = alpha * product + beta * out


def _signature(real: types.Float) -> Signature:
    pointer, i32, i64 = types.CPointer(real), types.int32, types.int64
    return types.void(i32, i32, i32, i64, i64, i64, real, pointer, i64, pointer, i64, real,
                      pointer, i64)


@cfunc(_signature(types.float32), cache=True)
def sgemm(order, op_a, op_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):  # type: ignore[no-untyped-def]
    if m > 0 and n > 0:
        _gemm(op_a, op_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)


@cfunc(_signature(types.float64), cache=True)
def dgemm(order, op_a, op_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):  # type: ignore[no-untyped-def]
    if m > 0 and n > 0:
        _gemm(op_a, op_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)


ENTRIES = {"chainrule_sgemm": sgemm, "chainrule_dgemm": dgemm}
