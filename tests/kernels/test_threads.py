"""CPU thread settings: OpenMP first unless overridden, and every OpenBLAS found and set."""

from __future__ import annotations

import os
import subprocess
import sys

import numba
import numpy as np
import pytest

from chainrule.kernels.cpu import threads


def test_configure_prefers_omp_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(numba.config, "THREADING_LAYER", "workqueue")
    monkeypatch.setattr(numba.config, "THREADING_LAYER_PRIORITY", ["tbb", "omp", "workqueue"])
    monkeypatch.setenv("NUMBA_THREADING_LAYER", "omp")
    monkeypatch.setenv("CHAINRULE_BLAS_THREADS", "0")
    threads.configure()
    assert numba.config.THREADING_LAYER == "workqueue"  # the environment decides: untouched
    monkeypatch.delenv("NUMBA_THREADING_LAYER")
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    threads.configure()
    assert numba.config.THREADING_LAYER == "default"
    assert os.environ["GOMP_SPINCOUNT"] == threads.SPIN_COUNT  # bounded spinning
    assert numba.config.THREADING_LAYER_PRIORITY == ["omp", "tbb", "workqueue"]


_LOADS_SCIPY = ("import sys; from chainrule.kernels.cpu import threads; threads.configure(); "
                "print('scipy.linalg' in sys.modules)")


@pytest.mark.parametrize(("matmul", "loads_scipy"), [("np.dot", "True"), ("", "False")])
def test_configure_loads_scipy_blas_only_for_the_np_dot_fallback(matmul: str,
                                                                loads_scipy: str) -> None:
    pytest.importorskip("scipy")
    from chainrule.kernels import blas

    if not matmul and not blas.HAVE_CBLAS:
        pytest.skip("this NumPy brings no OpenBLAS CBLAS entry: the fallback is in use")
    env = {**os.environ, "CHAINRULE_MATMUL": matmul}
    run = subprocess.run([sys.executable, "-c", _LOADS_SCIPY], env=env, capture_output=True,
                         text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split()[-1] == loads_scipy


def test_numpy_openblas_is_found_and_set() -> None:
    assert np.__version__  # numpy (and its OpenBLAS) is loaded
    libraries = threads.loaded_openblas()
    if not libraries:
        pytest.skip("this numpy does not use OpenBLAS")
    assert threads.set_blas_threads(1) >= 1
