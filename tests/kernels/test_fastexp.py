"""The vectorisable exp of kernels/cpu/fastexp.py agrees with libm's to 2 ulp, at the ends of the
double range too, and keeps NaN."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from chainrule.kernels.cpu.activation import activation_source
from chainrule.kernels.cpu.fastexp import vexp


@njit(cache=True)
def _vexp_all(x, out):
    for i in range(x.shape[0]):
        out[i] = vexp(x[i])


def _vexp(values: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    _vexp_all(values, out)
    return out


def test_vexp_matches_libm_within_two_ulp() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-745.0, 709.7, 20001), rng.normal(0.0, 3.0, 5000),
                        [0.0, -0.0, 1.0, -1.0, 0.5 * math.log(2.0), 708.5, -708.5]])
    expected = np.array([math.exp(v) for v in x])
    normal = expected > 2.3e-308  # subnormal results carry fewer significant bits
    ulp = np.spacing(expected[normal])
    assert np.max(np.abs(_vexp(x)[normal] - expected[normal]) / ulp) <= 2.0


def test_vexp_ends_of_the_range_and_nan() -> None:
    x = np.array([709.8, 1000.0, np.inf, -745.2, -1000.0, -np.inf, np.nan])
    result = _vexp(x)
    assert list(result[:3]) == [math.inf] * 3
    assert list(result[3:6]) == [0.0] * 3
    assert math.isnan(result[6])


def test_cpu_activation_kernels_print_vexp() -> None:
    source = activation_source("sigmoid")
    assert "vexp(" in source and "math.exp" not in source
    source = activation_source("tanh")  # fasttanh.py's vtanh: the vexp identity for float64
    assert "return vtanh(z)" in source and "math.exp" not in source
