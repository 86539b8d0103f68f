"""Dense contractions (one BLAS call, or row blocks in parallel) against NumPy, and repeatable."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.kernels import blocks
from chainrule.kernels.cpu import dense


@pytest.fixture(params=["one call", "row blocks"])
def split(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(blocks, "SPLIT_MIN_FLOPS", 10**12 if request.param == "one call" else 0)
    return request.param


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_products_match_numpy(split: str, dtype: type) -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((7, 5)).astype(dtype)  # (batch, n_in)
    weight = rng.standard_normal((4, 5)).astype(dtype)  # (n_out, n_in)
    delta = rng.standard_normal((7, 4)).astype(dtype)  # (batch, n_out)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    z = dense.forward(x, weight, np.empty((7, 4), dtype=dtype))
    np.testing.assert_allclose(z, x @ weight.T, rtol=tol)
    dw = dense.weight_grad(delta, x, np.empty((4, 5), dtype=dtype))
    np.testing.assert_allclose(dw, delta.T @ x, rtol=tol)
    np.testing.assert_allclose(dense.input_grad(delta, weight), delta @ weight, rtol=tol)


def test_row_blocks_give_the_same_bits_every_time(split: str) -> None:
    rng = np.random.default_rng(4)
    x = rng.standard_normal((64, 300)).astype(np.float32)
    delta = rng.standard_normal((64, 50)).astype(np.float32)
    first = dense.weight_grad(delta, x, np.empty((50, 300), dtype=np.float32))
    for _ in range(3):
        again = dense.weight_grad(delta, x, np.empty((50, 300), dtype=np.float32))
        assert np.array_equal(first, again)


@pytest.mark.parametrize("blocks", [1, 2, 3])
def test_split_products_match_numpy(blocks: int) -> None:
    """The split kernels themselves (under `make test` numba has one thread, so forward() would
    make one BLAS call): features split (batch < n_out) and samples split."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((5, 9)).astype(np.float32)  # (batch, n_in)
    weight = rng.standard_normal((8, 9)).astype(np.float32)  # (n_out, n_in)
    by_features, by_rows = np.empty((5, 8), np.float32), np.empty((5, 8), np.float32)
    dense._features_times(x, weight, by_features, blocks)
    dense._rows_times(x, weight, by_rows, blocks)
    np.testing.assert_allclose(by_features, x @ weight.T, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(by_rows, x @ weight.T, rtol=1e-5, atol=1e-6)
