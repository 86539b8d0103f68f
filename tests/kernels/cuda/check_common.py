"""Helpers of the check scripts (run under NUMBA_ENABLE_CUDASIM=1): copies through the counters,
and the relative error that every comparison prints."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.kernels.cuda.counters import COUNTERS, to_device, to_host

RNG = np.random.default_rng(0)


def rel(got: Any, want: Any) -> float:
    """max |got - want| / max |want| (want computed another way: CPU kernel or NumPy)."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    return float(np.max(np.abs(got - want)) / max(float(np.max(np.abs(want))), 1e-30))


def normal(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def up(*arrays: np.ndarray) -> list[Any]:
    """Device copies of host arrays."""
    return [to_device(a) for a in arrays]


def down(dev: Any) -> np.ndarray:
    return to_host(dev)


def counted(name: str, call: Any, *args: Any) -> None:
    """Run one kernel wrapper and print its launches (>= 1) and transfers (0)."""
    COUNTERS.reset()
    call(*args)
    print(f"{name}_launches {COUNTERS.launches}")
    print(f"{name}_transfers {COUNTERS.transfers}")
