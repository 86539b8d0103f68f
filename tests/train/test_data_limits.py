"""Caps on inputs (issue 9, items 2 and 8): refused before the work, the limit and its environment
variable named; degenerate data (empty splits, zero spread, huge or non-finite values) refused."""

import gzip
import os
import struct

import numpy as np
import pytest

from chainrule.errors import ChainruleError
from chainrule.train.data import load_dataset, read_idx, write_idx
from chainrule.train.data.csv import load_csv
from chainrule.train.data.dataset import standardise, training_norm
from chainrule.train.data.limits import INPUT_BYTES, check_values, read_bounded


def idx_header(dims, type_byte=0x08):
    return bytes([0, 0, type_byte, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


def test_idx_dims_whose_int64_product_wraps_to_zero(tmp_path):
    path = tmp_path / "wrap-idx"
    path.write_bytes(idx_header([65536] * 4))  # 2**64 elements: int64 product 0
    with pytest.raises(ChainruleError, match=r"need 18446744073709551616 data bytes, found 0"):
        read_idx(path)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_a_device_is_refused_by_its_kind():
    with pytest.raises(ChainruleError, match="not a regular file"):
        read_idx("/dev/zero")


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(ChainruleError, match="is a folder, expected a file"):
        read_idx(tmp_path)


def test_file_size_cap_names_its_variable(tmp_path, monkeypatch):
    path = write_idx(tmp_path / "a-idx", np.zeros((4, 5, 5), np.uint8))
    monkeypatch.setenv(INPUT_BYTES.env, "50")
    with pytest.raises(ChainruleError, match=r": 116 bytes is over the limit of 50 .*"
                                             r"CHAINRULE_MAX_INPUT_BYTES=N"):
        read_idx(path)
    monkeypatch.setenv(INPUT_BYTES.env, "116")  # raised: read
    assert read_idx(path).shape == (4, 5, 5)


def test_gzip_bomb_is_cut_at_the_cap(tmp_path, monkeypatch):
    path = tmp_path / "bomb-idx.gz"
    path.write_bytes(gzip.compress(idx_header([1000, 1000]) + bytes(1_000_000)))
    monkeypatch.setenv(INPUT_BYTES.env, "100000")
    assert path.stat().st_size < 100_000  # the file is small, what it unpacks to is not
    with pytest.raises(ChainruleError, match="unpacked: 100,001 bytes is over the limit"):
        read_idx(path)


@pytest.mark.parametrize("value", ["0", "-3", "lots", "nan", "1e3"])
def test_a_bad_cap_value_is_one_error(tmp_path, monkeypatch, value):
    path = tmp_path / "x.csv"
    path.write_text("1,0\n")
    monkeypatch.setenv(INPUT_BYTES.env, value)
    with pytest.raises(ChainruleError, match="CHAINRULE_MAX_INPUT_BYTES must be a whole number ≥ 1"):
        read_bounded(path, "CSV file")


@pytest.mark.parametrize(("cell", "message"), [
    ("1e38", "magnitude 1e\\+38, over the limit of 1e\\+06"),
    ("-2000000", "magnitude 2e\\+06"),
    ("nan", "nan is not finite"),
    ("inf", "inf is not finite"),
])
def test_csv_values_out_of_bounds(tmp_path, cell, message):
    path = tmp_path / "big.csv"
    path.write_text(f"x,y\n1,0\n{cell},1\n")
    with pytest.raises(ChainruleError, match=message):
        load_csv(path)


@pytest.mark.parametrize("value", ["0", "-1", "x", "inf"])
def test_a_bad_bound_is_one_error(tmp_path, monkeypatch, value):
    path = tmp_path / "x.csv"
    path.write_text("1,0\n")
    monkeypatch.setenv("CHAINRULE_MAX_ABS_VALUE", value)
    with pytest.raises(ChainruleError, match="CHAINRULE_MAX_ABS_VALUE must be a number > 0"):
        load_csv(path)


def test_csv_bound_is_raisable(tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    path.write_text("x,y\n1,0\n2e6,1\n")
    monkeypatch.setenv("CHAINRULE_MAX_ABS_VALUE", "1e7")
    assert load_csv(path).x_train.max() == np.float32(2e6)


def test_check_values_names_the_index():
    with pytest.raises(ChainruleError, match=r"non-finite value \(nan\) at index \[1, 0\]"):
        check_values(np.array([[1.0], [np.nan]]), "x")


def _idx_folder(folder, n_train, n_test=2, side=3):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte",
                  rng.integers(0, 256, (n, side, side), dtype=np.uint8))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", (np.arange(n) % 2).astype(np.uint8))
    return folder


@pytest.mark.parametrize(("n_train", "n_test"), [(0, 2), (2, 0)])
def test_an_empty_idx_split_is_refused(tmp_path, n_train, n_test):
    _idx_folder(tmp_path, n_train, n_test)
    with pytest.raises(ChainruleError, match=r"holds no pixels \(shape \(0, 3, 3\)\)"):
        load_dataset(str(tmp_path))


def test_constant_images_standardise_to_finite_values(tmp_path):
    for prefix in ("train", "t10k"):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte", np.full((2, 3, 3), 7, np.uint8))
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte", np.array([0, 1], np.uint8))
    data = load_dataset(str(tmp_path))
    assert data.input_norm == (pytest.approx(7 / 255), 1.0)
    assert np.isfinite(data.x_train).all() and np.abs(data.x_train).max() < 1e-6


@pytest.mark.parametrize("std", [0.0, 1e-50, float("nan"), float("inf")])
def test_a_zero_or_non_finite_std_divides_by_one(std):
    x = np.array([[1.0, 3.0]], np.float32)
    np.testing.assert_array_equal(standardise(x, (1.0, std)), x - 1)


def test_training_norm_of_nothing_is_refused():
    with pytest.raises(ChainruleError, match="training split is empty"):
        training_norm(np.zeros((0, 2), np.float32))


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_data_that_is_a_device_or_fifo_is_refused_by_its_kind(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    for path in ("/dev/zero", str(tmp_path / "fifo")):
        with pytest.raises(ChainruleError, match="is not a regular file"):
            load_dataset(path)


def test_missing_data_file_says_so(tmp_path):
    with pytest.raises(ChainruleError, match="unknown data '.*none.csv': no such file or folder"):
        load_dataset(str(tmp_path / "none.csv"))


@pytest.mark.parametrize("raw", ["nan", "inf", "-1", "0", "lots"])
def test_the_value_bound_is_the_shared_bound_cap_and_refuses_a_bad_setting(monkeypatch, raw):
    from chainrule import limits
    from chainrule.train.data import limits as data_limits

    assert isinstance(data_limits.ABS_VALUE, limits.BoundCap)  # one cap type, in chainrule.limits
    monkeypatch.setenv("CHAINRULE_MAX_ABS_VALUE", raw)
    with pytest.raises(ChainruleError, match="CHAINRULE_MAX_ABS_VALUE must be a number > 0"):
        check_values(np.ones(2, dtype=np.float32), "x")


def test_a_raised_value_bound_is_used(monkeypatch):
    monkeypatch.setenv("CHAINRULE_MAX_ABS_VALUE", "1e7")
    check_values(np.full(2, 5e6, dtype=np.float32), "x")  # over the 1e6 default, under the raise
    monkeypatch.delenv("CHAINRULE_MAX_ABS_VALUE")
    with pytest.raises(ChainruleError, match="over the limit of 1e\\+06"):
        check_values(np.full(2, 5e6, dtype=np.float32), "x")
