"""IDX files: round trips (gz and raw), and one clear error for each kind of damage."""

import gzip

import numpy as np
import pytest

from chainrule.errors import ChainruleError
from chainrule.train.data import load_dataset, read_idx, write_idx
from chainrule.train.data.idx import IdxError, encode_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_round_trip(tmp_path, dtype, suffix):
    array = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4) if dtype != np.uint8 else \
        np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / f"a{suffix}", array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(back, array)


def test_header_is_big_endian_idx3():
    data = encode_idx(np.zeros((2, 28, 28), np.uint8))
    assert data[:4] == b"\x00\x00\x08\x03"
    assert data[4:16] == (2).to_bytes(4, "big") + (28).to_bytes(4, "big") + (28).to_bytes(4, "big")


@pytest.mark.parametrize(("damage", "message"), [
    (lambda b: b"\x01\x02" + b[2:], "not an IDX file"),
    (lambda b: b[:2] + b"\x07" + b[3:], "not an IDX file"),
    (lambda b: b[:-1], "need 24 data bytes, found 23"),
    (lambda b: b + b"\x00", "need 24 data bytes, found 25"),
    (lambda b: b[:9], "truncated or corrupt"),
    (lambda b: b"", "not an IDX file"),
])
def test_damaged_raw_files(tmp_path, damage, message):
    path = tmp_path / "bad-idx"
    path.write_bytes(damage(encode_idx(np.zeros((2, 3, 4), np.uint8))))
    with pytest.raises(IdxError, match=message):
        read_idx(path)


def test_truncated_gzip(tmp_path):
    packed = gzip.compress(encode_idx(np.arange(1000, dtype=np.uint8).reshape(10, 100)))
    path = tmp_path / "cut.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(IdxError, match="corrupt or truncated gzip"):
        read_idx(path)


def write_set(folder, *, n_train=12, n_test=5, size=6, gz=True, labels_train=None):
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    write_idx(folder / f"train-images-idx3-ubyte{ext}",
              rng.integers(0, 256, (n_train, size, size), dtype=np.uint8))
    write_idx(folder / f"train-labels-idx1-ubyte{ext}", labels_train if labels_train is not None
              else (np.arange(n_train) % 3).astype(np.uint8))
    write_idx(folder / f"t10k-images-idx3-ubyte{ext}",
              rng.integers(0, 256, (n_test, size, size), dtype=np.uint8))
    write_idx(folder / f"t10k-labels-idx1-ubyte{ext}", (np.arange(n_test) % 3).astype(np.uint8))
    return folder


@pytest.mark.parametrize("gz", [True, False])
def test_folder_of_idx_files(tmp_path, gz):
    folder = write_set(tmp_path / "set", gz=gz)
    data = load_dataset(str(folder))
    assert data.x_train.shape == (12, 1, 6, 6) and data.x_test.shape == (5, 1, 6, 6)
    assert data.x_train.dtype == np.float32
    raw = read_idx(folder / ("train-images-idx3-ubyte" + (".gz" if gz else ""))) / 255.0
    mean, std = data.input_norm
    assert (mean, std) == pytest.approx((raw.mean(), raw.std()), rel=1e-6)
    np.testing.assert_allclose(data.x_train[:, 0], (raw - raw.mean()) / raw.std(), atol=1e-5)
    raw_test = read_idx(folder / ("t10k-images-idx3-ubyte" + (".gz" if gz else ""))) / 255.0
    np.testing.assert_allclose(data.x_test[:, 0], (raw_test - mean) / std, atol=1e-5)
    assert data.n_classes == 3
    np.testing.assert_array_equal(data.y_train, np.arange(12) % 3)


def test_label_count_must_match(tmp_path):
    folder = write_set(tmp_path / "set", labels_train=np.zeros(11, np.uint8))
    with pytest.raises(IdxError, match="has 11 labels for 12 images"):
        load_dataset(str(folder))


def test_folder_missing_a_file(tmp_path):
    folder = write_set(tmp_path / "set")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(ChainruleError, match="does not hold the 4 IDX files"):
        load_dataset(str(folder))
