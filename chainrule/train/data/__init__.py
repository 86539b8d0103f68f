"""Data sets for training: synthetic sets, IDX folders (MNIST, Fashion-MNIST) and CSV files.

:func:`load_dataset` resolves a ``--data`` value: a built-in name, a folder of IDX files, or a
CSV file. IDX sets are decoded once and then mapped from their ``.npy`` cache (:mod:`.npy_cache`).
"""

from __future__ import annotations

from pathlib import Path

from chainrule.errors import ChainruleError
from chainrule.train.data.csv import load_csv
from chainrule.train.data.dataset import Dataset, fit_inputs, fit_targets, one_hot
from chainrule.train.data.discovery import files_in, find_named
from chainrule.train.data.idx import read_idx, write_idx
from chainrule.train.data.npy_cache import cached_idx_set
from chainrule.train.data.synthetic import SYNTHETIC, synthetic

NAMED_IDX = ("fashion-mnist", "mnist")
DATA_NAMES = (*SYNTHETIC, *NAMED_IDX)

__all__ = ["DATA_NAMES", "Dataset", "fit_inputs", "fit_targets", "load_dataset", "one_hot",
           "read_idx", "write_idx"]


def load_dataset(data: str, *, seed: int = 0) -> Dataset:
    """The data set that ``--data`` names; ``seed`` drives synthetic generation and CSV splits."""
    key = data.strip().lower()
    if key in SYNTHETIC:
        return synthetic(key, seed=seed)
    if key in NAMED_IDX:
        return cached_idx_set(find_named(key), name=key)
    path = Path(data)
    if path.is_dir():
        return cached_idx_set(files_in(path), name=path.name or str(path))
    if path.exists():
        return load_csv(path, seed=seed)  # refuses a device, FIFO or socket by its kind
    looks_like_a_path = "/" in data or path.suffix != ""
    raise ChainruleError(f"unknown data {data!r}: "
                         + ("no such file or folder; " if looks_like_a_path else "")
                         + f"expected one of {', '.join(DATA_NAMES)}, a folder of IDX files, "
                         "or a CSV file")
