"""CPU thread settings: OpenMP first unless overridden, and every OpenBLAS found and set."""

from __future__ import annotations

import os

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


def test_configure_loads_the_blas_that_njit_calls() -> None:
    pytest.importorskip("scipy")
    threads.configure()
    libraries = threads.loaded_openblas()
    if not libraries:
        pytest.skip("this numpy and scipy do not use OpenBLAS")
    assert any("scipy.libs" in path or "scipy/" in path for path in libraries)


def test_numpy_openblas_is_found_and_set() -> None:
    assert np.__version__  # numpy (and its OpenBLAS) is loaded
    libraries = threads.loaded_openblas()
    if not libraries:
        pytest.skip("this numpy does not use OpenBLAS")
    assert threads.set_blas_threads(1) >= 1
