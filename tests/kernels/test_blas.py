"""kernels/blas.py: ``matmul`` inside Numba against NumPy's float64 product, over the views the
kernels pass (blocks, transposes, strided outputs), in both flavours."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from numba import njit

from chainrule.kernels import blas
from chainrule.kernels.blas import matmul

RNG = np.random.default_rng(7)
BASE = 16  # the side of the arrays the views are cut from


def view(base: np.ndarray, kind: int, rows: int, cols: int) -> np.ndarray:
    """A (rows, cols) view of ``base``: a block (kind 0), a transposed block (1), or every other
    column (2: matmul copies it)."""
    if kind == 0:
        return base[1:1 + rows, 2:2 + cols]
    if kind == 1:
        return base[:cols, :rows].T
    return base[:rows, ::2][:, :cols]


_view = njit(view)


@njit
def _product(a_base, b_base, out_base, kinds, m, k, n, alpha, beta):  # type: ignore[no-untyped-def]
    # matmul on views made in here: every view is of Numba's layout A, so one signature per dtype
    a, b = _view(a_base, kinds[0], m, k), _view(b_base, kinds[1], k, n)
    matmul(a, b, _view(out_base, kinds[2], m, n), alpha, beta)


def check_all_views(dtype: type, tol: float) -> int:
    """Every kind of each operand (the output's too) over random sizes; how many were not empty."""
    checked = 0
    for trial in range(216):
        m, k, n = (int(v) for v in RNG.integers(0, 7, 3))
        kinds = np.array([trial % 3, (trial // 3) % 3, (trial // 9) % 3])
        bases = [RNG.standard_normal((BASE, BASE)).astype(dtype) for _ in range(3)]
        a, b, out = (view(base, kind, *shape) for base, kind, shape
                     in zip(bases, kinds, [(m, k), (k, n), (m, n)]))
        alpha, beta = (1.0, 0.0) if trial % 2 else (-0.3, 1.0)
        expected = alpha * (a.astype(np.float64) @ b.astype(np.float64)) + beta * out
        _product(*bases, kinds, m, k, n, alpha, beta)
        np.testing.assert_allclose(out, expected, rtol=tol, atol=tol, err_msg=f"trial {trial}")
        checked += out.size > 0
    return checked


@pytest.mark.parametrize(("dtype", "tol"), [(np.float32, 2e-5), (np.float64, 1e-12)])
def test_matmul_equals_numpy_over_views(dtype: type, tol: float) -> None:
    assert check_all_views(dtype, tol) > 120


def test_a_feature_block_of_the_dense_forward_is_written_in_place() -> None:
    x = RNG.standard_normal((64, 784)).astype(np.float32)
    w = RNG.standard_normal((128, 784)).astype(np.float32)
    out = np.full((64, 128), np.nan, np.float32)
    matmul(x, w[:64].T, out[:, :64], 1.0, 0.0)  # the first feature block of z = x W^T
    np.testing.assert_allclose(out[:, :64], x @ w[:64].T, rtol=1e-4, atol=1e-3)
    assert np.isnan(out[:, 64:]).all()


def test_numpy_openblas_is_found_where_numpy_ships_it() -> None:
    if not any("scipy_openblas64_" in path for path in blas.loaded_openblas()):
        pytest.skip("this NumPy brings another BLAS")
    assert blas.HAVE_CBLAS and blas.FLAVOUR == "numpy-openblas64-cblas"


def test_the_np_dot_fallback_gives_the_same_products() -> None:
    code = ("import sys; sys.path.insert(0, 'tests/kernels'); import numpy as np; "
            "import test_blas as t; from chainrule.kernels import blas; "
            "assert not blas.HAVE_CBLAS, blas.FLAVOUR; print(t.check_all_views(np.float64, 1e-12))")
    env = {**os.environ, "CHAINRULE_MATMUL": "np.dot"}
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=300, check=False, cwd=root)
    assert run.returncode == 0, run.stderr[-2000:]
    assert int(run.stdout.split()[-1]) > 120


def test_generated_modules_name_the_digest_of_blas_py() -> None:
    line = blas.import_line()
    assert "sha256" in line and "from chainrule.kernels.blas import matmul" in line
