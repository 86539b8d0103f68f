"""Decoded IDX data sets cached as ``.npy`` files beside the kernel cache, mapped back on load.

Unpacking Fashion-MNIST's gzip files, scaling the pixels and standardising them takes seconds;
reading the result back is a memory map. The first load of an IDX folder whose images hold at
least ``MIN_CACHED_PIXELS`` values writes the four arrays it returns (standardised float32 images,
int64 labels) with :func:`numpy.save` into ``<kernel cache>/data/<name>-<key>/`` (``$CHAINRULE_CACHE``
or ``~/.cache/chainrule/kernels``; the folder must be private, as for the kernels), with a
``meta.json`` holding the shapes, the norm and a digest of each file. The folder is written under
a temporary name and renamed into place, so a reader sees all of it or nothing. Later loads map
the files copy-on-write (``np.load(mmap_mode="c")``): the arrays are ordinary, writable
ndarrays, and their pages are read from the page cache as the training touches them.

The key is a SHA-256 of the loader's own source files and, per IDX file, its resolved path, size,
modification time and a sample of its content (the first and last 64 KiB and 16 blocks between),
so a changed file or a changed loader makes a new entry (and the old entry of the same folder is
removed). An entry whose ``meta.json`` does not parse, whose arrays do not have the recorded
shape and dtype, or whose files no longer match their recorded digests (the same sampling) is
ignored, decoded again and rewritten. A cache that cannot be written only costs the speed-up.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import astuple, fields
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.errors import ChainruleError
from chainrule.train.data.dataset import Dataset
from chainrule.train.data.discovery import IdxFiles
from chainrule.train.data.idx_set import load_idx_set
from chainrule.train.data.limits import INPUT_BYTES

FORMAT = 1
MIN_CACHED_PIXELS = 1 << 22  # smaller sets decode in well under 0.1 s: not worth a cache entry
ARRAYS = ("x_train", "y_train", "x_test", "y_test")
DTYPES = {"x_train": "float32", "y_train": "int64", "x_test": "float32", "y_test": "int64"}
_LOADER_FILES = ("npy_cache.py", "idx.py", "idx_set.py", "dataset.py", "limits.py")
_EDGE = 64 * 1024  # bytes sampled at each end of a file
_BLOCKS, _BLOCK = 16, 4096  # and this many blocks of this size between
STALE_TEMP_SECONDS = 3600


def sampled_digest(path: Path) -> str:
    """SHA-256 of the file's size, its first and last 64 KiB and 16 evenly spaced 4 KiB blocks
    (the whole file when it is at most 192 KiB): a content check that reads about 200 KiB."""
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with path.open("rb") as handle:
        if size <= 2 * _EDGE + _BLOCKS * _BLOCK:
            digest.update(handle.read())
            return digest.hexdigest()
        for offset in [0, *(_EDGE + (size - 2 * _EDGE) * k // _BLOCKS for k in range(_BLOCKS))]:
            handle.seek(offset)
            digest.update(handle.read(_EDGE if offset == 0 else _BLOCK))
        handle.seek(size - _EDGE)
        digest.update(handle.read(_EDGE))
    return digest.hexdigest()


def source_key(files: IdxFiles) -> str:
    """The cache key of four IDX files: the loader's sources, then each file's path, size,
    modification time and sampled content."""
    digest = hashlib.sha256(f"chainrule idx cache {FORMAT}\n".encode())
    here = Path(__file__).parent
    for name in _LOADER_FILES:
        digest.update((here / name).read_bytes())
    for path in astuple(files):
        info = path.stat()
        digest.update(f"\n{path.resolve()}\n{info.st_size}\n{info.st_mtime_ns}\n".encode())
        digest.update(sampled_digest(path).encode())
    return digest.hexdigest()[:32]


def entry_dir(root: Path, name: str, key: str) -> Path:
    """``<root>/<name cut to [A-Za-z0-9_-]>-<key>``."""
    return root / f"{re.sub(r'[^A-Za-z0-9_-]', '_', name, flags=re.ASCII)[:40]}-{key}"


def read_entry(folder: Path, key: str, name: str) -> Dataset | None:
    """The data set cached in ``folder``, or ``None`` if it is missing, foreign or damaged."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT or meta.get("key") != key:
            return None
        arrays = {array: _mapped(folder, array, meta["arrays"][array]) for array in ARRAYS}
        norm = meta["input_norm"]
        return Dataset(name, arrays["x_train"], arrays["y_train"], arrays["x_test"],
                       arrays["y_test"], int(meta["n_classes"]),
                       input_norm=(float(norm[0]), float(norm[1])))
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None  # no entry, or one that this loader did not write: decode again


def _mapped(folder: Path, array: str, recorded: dict[str, Any]) -> np.ndarray:
    path = folder / f"{array}.npy"
    if recorded["digest"] != sampled_digest(path):
        raise ValueError(f"{path} does not match its recorded digest")
    mapped = np.load(path, mmap_mode="c", allow_pickle=False)
    if mapped.dtype != np.dtype(DTYPES[array]) or list(mapped.shape) != recorded["shape"]:
        raise ValueError(f"{path} holds {mapped.dtype} {mapped.shape}, not what meta.json says")
    return np.asarray(mapped)  # a plain ndarray over the copy-on-write map


def write_entry(root: Path, folder: Path, dataset: Dataset, key: str, sources: list[str]) -> None:
    """Write the entry under a temporary name, then rename it to ``folder`` (replacing a damaged
    one), and remove the other entries made from the same files (and what a crashed writer left)."""
    _remove_stale_temps(root)
    temp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        meta: dict[str, Any] = {"format": FORMAT, "key": key, "sources": sources,
                                "n_classes": dataset.n_classes,
                                "input_norm": list(dataset.input_norm or (0.0, 1.0)), "arrays": {}}
        for array in ARRAYS:
            path = temp / f"{array}.npy"
            np.save(path, np.ascontiguousarray(getattr(dataset, array), dtype=DTYPES[array]),
                    allow_pickle=False)
            meta["arrays"][array] = {"shape": list(getattr(dataset, array).shape),
                                     "digest": sampled_digest(path)}
        (temp / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.rename(temp, folder)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    _remove_others(root, folder, sources)


def _remove_stale_temps(root: Path) -> None:
    """Temporary folders over an hour old: a writer that was killed before its rename."""
    for temp in root.glob(".tmp-*"):
        with contextlib.suppress(OSError):
            if time.time() - temp.stat().st_mtime > STALE_TEMP_SECONDS:
                shutil.rmtree(temp)


def _remove_others(root: Path, kept: Path, sources: list[str]) -> None:
    for other in root.iterdir():
        if other == kept or other.name.startswith("."):
            continue
        with contextlib.suppress(OSError, ValueError):
            if json.loads((other / "meta.json").read_text(encoding="utf-8"))["sources"] == sources:
                shutil.rmtree(other)


def cached_idx_set(files: IdxFiles, *, name: str) -> Dataset:
    """The IDX set from the cache, else decoded by :func:`load_idx_set` and cached for next time."""
    try:
        from chainrule.kernels.cache import cache_subdir

        for path in astuple(files):  # the cap on input files holds for cached sets too
            INPUT_BYTES.check(path.stat().st_size, f"IDX file {str(path)!r}")
        root, key = cache_subdir("data"), source_key(files)
    except (OSError, ChainruleError):
        return load_idx_set(files, name=name)  # no usable cache (decoding says what is wrong)
    folder = entry_dir(root, name, key)
    found = read_entry(folder, key, name)
    if found is not None:
        INPUT_BYTES.check(found.x_train.size, f"IDX file {str(files.train_images)!r} unpacked")
        return found
    dataset = load_idx_set(files, name=name)
    if dataset.x_train.size + dataset.x_test.size >= MIN_CACHED_PIXELS:
        with contextlib.suppress(OSError, ChainruleError):
            write_entry(root, folder, dataset, key, [str(getattr(files, f.name).resolve())
                                                     for f in fields(files)])
    return dataset
