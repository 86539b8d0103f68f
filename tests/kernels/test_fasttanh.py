"""kernels/cpu/fasttanh.py: the CPU kernels' tanh, in float32 for float32 values (within 3.1 ulp of
float64 NumPy over the float32 range) and the printer's float64 identity otherwise."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from chainrule.kernels.cpu.fastexp import vexp
from chainrule.kernels.cpu.fasttanh import vtanh

RNG = np.random.default_rng(11)


@njit
def _apply(x, out):  # type: ignore[no-untyped-def]
    for i in range(x.size):
        out[i] = vtanh(x[i])


def _tanh(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    _apply(x, out)
    return out


def _ulps(got: np.ndarray, x: np.ndarray) -> np.ndarray:
    expected = np.tanh(x.astype(np.float64))
    ulp = np.spacing(np.abs(expected).astype(np.float32)).astype(np.float64)
    return np.abs(got.astype(np.float64) - expected) / np.maximum(ulp, 1e-45)


def test_float32_tanh_is_within_three_ulp_over_the_float32_range() -> None:
    bits = RNG.integers(0, 2**31, 400_000, dtype=np.int64).astype(np.uint32)
    x = bits.view(np.float32)
    x = x[np.isfinite(x)]
    x = np.concatenate([x, -x, np.linspace(-12, 12, 200_001, dtype=np.float32)])
    ulps = _ulps(_tanh(x), x)
    assert ulps.max() <= 3.1, float(x[ulps.argmax()])
    assert ulps.mean() < 0.1


def test_float32_tanh_keeps_specials_and_saturates() -> None:
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -44.0, 100.0, 9.0], np.float32)
    got = _tanh(x)
    assert math.isnan(got[0])
    assert list(got[1:3]) == [1.0, -1.0] and list(got[6:]) == [-1.0, 1.0, 1.0]
    assert got[3] == 0.0 and not np.signbit(got[3]) and np.signbit(got[4])
    assert got[5] == np.float32(1e-30)
    assert got.dtype == np.float32


@njit
def _identity(u):  # type: ignore[no-untyped-def]
    return 1.0 - 2.0 / (vexp(2.0 * u) + 1.0)


def test_float64_tanh_is_the_printed_identity_bit_for_bit() -> None:
    x = np.concatenate([RNG.standard_normal(1000) * 5, [0.0, -0.0, 1e-300, 40.0, -800.0]])
    got = _tanh(x)
    assert np.array_equal(got, np.array([_identity(v) for v in x]))
    np.testing.assert_allclose(got, np.tanh(x), atol=1e-15)
