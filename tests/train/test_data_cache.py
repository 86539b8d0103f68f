"""The .npy cache of decoded IDX sets: hits map the same arrays, damage and changes decode again,
and decoding holds no float64 or duplicate copy of the images."""

from __future__ import annotations

import json
import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from chainrule.train.data import dataset as dataset_module
from chainrule.train.data import load_dataset, npy_cache, write_idx
from chainrule.train.data.dataset import training_norm
from chainrule.train.data.discovery import files_in
from chainrule.train.data.idx_set import load_idx_set


def write_set(folder: Path, *, n_train: int = 40, n_test: int = 10, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    write_idx(folder / "train-images-idx3-ubyte.gz",
              rng.integers(0, 256, (n_train, 7, 5), dtype=np.uint8))
    write_idx(folder / "train-labels-idx1-ubyte.gz", (np.arange(n_train) % 4).astype(np.uint8))
    write_idx(folder / "t10k-images-idx3-ubyte.gz",
              rng.integers(0, 256, (n_test, 7, 5), dtype=np.uint8))
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", (np.arange(n_test) % 4).astype(np.uint8))
    return folder


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """A private cache folder that caches every set, and a count of the decodes."""
    monkeypatch.setenv("CHAINRULE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(npy_cache, "MIN_CACHED_PIXELS", 0)
    calls = {"decoded": 0}

    def counting(files, *, name):  # type: ignore[no-untyped-def]
        calls["decoded"] += 1
        return load_idx_set(files, name=name)

    monkeypatch.setattr(npy_cache, "load_idx_set", counting)
    return calls


def entries(tmp_path: Path) -> list[Path]:
    return sorted(p for p in (tmp_path / "cache" / "data").iterdir() if not p.name.startswith("."))


def assert_same(a, b) -> None:  # type: ignore[no-untyped-def]
    for name in ("x_train", "y_train", "x_test", "y_test"):
        got, want = getattr(a, name), getattr(b, name)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    assert a.input_norm == b.input_norm and a.n_classes == b.n_classes


def test_a_second_load_maps_the_cached_arrays(tmp_path, cache):
    folder = write_set(tmp_path / "set")
    first = load_dataset(str(folder))
    second = load_dataset(str(folder))
    assert cache["decoded"] == 1
    assert_same(second, load_idx_set(files_in(folder), name="set"))
    assert_same(second, first)
    assert type(second.x_train) is np.ndarray and second.x_train.flags.writeable
    assert second.name == "set" and len(entries(tmp_path)) == 1
    second.x_train[0, 0, 0, 0] = 123.0  # copy-on-write: the cache file keeps its value
    assert_same(load_dataset(str(folder)), first)


def test_a_changed_file_is_decoded_again_and_replaces_its_entry(tmp_path, cache):
    folder = write_set(tmp_path / "set")
    load_dataset(str(folder))
    old = entries(tmp_path)
    write_set(folder, seed=1)  # same names and sizes, other pixels
    changed = load_dataset(str(folder))
    assert cache["decoded"] == 2
    assert_same(changed, load_idx_set(files_in(folder), name="set"))
    assert len(entries(tmp_path)) == 1 and entries(tmp_path) != old


def test_the_key_follows_the_modification_time_and_the_content(tmp_path):
    folder = write_set(tmp_path / "set")
    files = files_in(folder)
    key = npy_cache.source_key(files)
    assert npy_cache.source_key(files) == key
    info = files.test_labels.stat()
    os.utime(files.test_labels, ns=(info.st_atime_ns, info.st_mtime_ns + 10**9))
    assert npy_cache.source_key(files) != key


@pytest.mark.parametrize("damage", [
    lambda entry: (entry / "x_train.npy").write_bytes((entry / "x_train.npy").read_bytes()[:-8]),
    lambda entry: (entry / "meta.json").write_text("{not json"),
    lambda entry: (entry / "y_test.npy").unlink(),
    lambda entry: np.save(entry / "x_test.npy", np.zeros((3, 2), np.float32)),  # foreign array
    lambda entry: (entry / "x_train.npy").write_bytes(b"\x93NUMPY garbage"),
    lambda entry: (entry / "meta.json").write_text(json.dumps({"format": 1, "key": "other"})),
])
def test_a_damaged_or_foreign_entry_is_ignored_and_rewritten(tmp_path, cache, damage):
    folder = write_set(tmp_path / "set")
    want = load_dataset(str(folder))
    damage(entries(tmp_path)[0])
    assert_same(load_dataset(str(folder)), want)
    assert cache["decoded"] == 2
    assert_same(load_dataset(str(folder)), want)  # rewritten: a hit again
    assert cache["decoded"] == 2


def test_a_flipped_byte_inside_the_data_is_found_by_the_sampled_digest(tmp_path, cache):
    folder = write_set(tmp_path / "set")
    want = load_dataset(str(folder))
    path = entries(tmp_path)[0] / "x_train.npy"
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # a small file is digested whole
    path.write_bytes(bytes(data))
    assert_same(load_dataset(str(folder)), want)
    assert cache["decoded"] == 2


def test_small_sets_are_not_cached(tmp_path, cache, monkeypatch):
    monkeypatch.setattr(npy_cache, "MIN_CACHED_PIXELS", 10**6)
    folder = write_set(tmp_path / "set")
    load_dataset(str(folder))
    load_dataset(str(folder))
    assert cache["decoded"] == 2 and entries(tmp_path) == []


def test_an_unusable_cache_folder_only_costs_the_speed_up(tmp_path, cache, monkeypatch):
    (tmp_path / "blocked").write_text("a file where the cache folder should be")
    monkeypatch.setenv("CHAINRULE_CACHE", str(tmp_path / "blocked"))
    folder = write_set(tmp_path / "set")
    assert_same(load_dataset(str(folder)), load_idx_set(files_in(folder), name="set"))


def test_the_cap_on_input_files_holds_for_a_cached_set(tmp_path, cache, monkeypatch):
    folder = write_set(tmp_path / "set")
    load_dataset(str(folder))
    monkeypatch.setenv("CHAINRULE_MAX_INPUT_BYTES", "1000")  # the train images unpack to 1416
    with pytest.raises(Exception, match="CHAINRULE_MAX_INPUT_BYTES"):
        load_dataset(str(folder))


def test_the_chunked_norm_equals_numpys_float64_mean_and_std(monkeypatch):
    monkeypatch.setattr(dataset_module, "NORM_CHUNK", 1000)  # many chunks, one partial
    x = np.random.default_rng(3).normal(2.0, 3.0, (70, 1, 13, 11)).astype(np.float32)
    mean, std = training_norm(x)
    values = x.astype(np.float64)
    assert mean == pytest.approx(values.mean(), rel=1e-13)
    assert std == pytest.approx(values.std(), rel=1e-13)


def test_decoding_allocates_no_float64_or_second_copy_of_the_images(tmp_path, monkeypatch):
    monkeypatch.setattr(dataset_module, "NORM_CHUNK", 4096)  # the norm's float64 chunks: 32 kB
    folder = write_set(tmp_path / "big", n_train=3000, n_test=10)  # 3000 × 35 pixels
    files = files_in(folder)
    # gzip's read(limit + 1) reserves the whole limit (untouched pages, but tracemalloc counts it)
    monkeypatch.setenv("CHAINRULE_MAX_INPUT_BYTES", "150000")
    tracemalloc.start()
    try:
        data = load_idx_set(files, name="big")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    images = data.x_train.nbytes  # float32: 420 kB
    # the old decode held pixels/255 twice in float32 and twice in float64 (six times the
    # images); now one float32 buffer, the uint8 pixels (1/4 of it) and 32 kB of float64
    assert peak < 2 * images, (peak, images)


def test_a_crashed_writers_old_temporary_folder_is_removed(tmp_path, cache):
    root = tmp_path / "cache" / "data"
    root.mkdir(parents=True)
    old, recent = root / ".tmp-old", root / ".tmp-recent"
    for temp in (old, recent):
        temp.mkdir()
        (temp / "x_train.npy").write_bytes(b"partial")
    os.utime(old, (1, 1))
    load_dataset(str(write_set(tmp_path / "set")))
    assert not old.exists() and recent.exists()
