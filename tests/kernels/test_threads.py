"""CPU thread settings: the workqueue layer unless overridden, and OpenBLAS found and set."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from chainrule.kernels.cpu import threads


def test_configure_picks_workqueue_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(numba.config, "THREADING_LAYER", "default")
    monkeypatch.setenv("NUMBA_THREADING_LAYER", "omp")
    monkeypatch.setenv("CHAINRULE_BLAS_THREADS", "0")
    threads.configure()
    assert numba.config.THREADING_LAYER == "default"
    monkeypatch.delenv("NUMBA_THREADING_LAYER")
    threads.configure()
    assert numba.config.THREADING_LAYER == "workqueue"


def test_numpy_openblas_is_found_and_set() -> None:
    assert np.__version__  # numpy (and its OpenBLAS) is loaded
    libraries = threads.loaded_openblas()
    if not libraries:
        pytest.skip("this numpy does not use OpenBLAS")
    assert threads.set_blas_threads(1) >= 1
