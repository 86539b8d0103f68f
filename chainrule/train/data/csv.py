"""CSV data: one sample per row, the last column the label (classification) or target (regression).

A first row that is not all numbers is a header; its last cell may name the classes,
``species:setosa|versicolor|virginica``. Labels that are all whole numbers 0..K−1 with
K ≤ 20 make a classification set; anything else is regression. The rows are split 80/20 with the
data seed (sets under 10 rows are their own test split). Every value must be finite and at most
``CHAINRULE_MAX_ABS_VALUE`` (1e6) in magnitude, so that float32 training cannot overflow; the file
must be a regular file of at most ``CHAINRULE_MAX_INPUT_BYTES``.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from chainrule.errors import ChainruleError
from chainrule.train.data.dataset import Dataset, header_classes, seeded_split
from chainrule.train.data.limits import check_values, read_bounded

MAX_CLASSES = 20
MIN_ROWS_TO_SPLIT = 10


def load_csv(path: str | Path, *, seed: int = 0) -> Dataset:
    """Read a CSV file into a :class:`Dataset`."""
    path = Path(path)
    data = read_bounded(path, "CSV file")
    rows = parse_numeric_rows(data, source=str(path))
    table = np.array(rows, dtype=np.float64)  # (n, features + 1)
    x, target = table[:, :-1].astype(np.float32), table[:, -1]
    n_classes = _classes(target)
    y = target.astype(np.int64) if n_classes else target.reshape(-1, 1).astype(np.float32)
    names = header_classes(data, n_classes, source=str(path))  # a label cell "species:a|b|c"
    if len(rows) < MIN_ROWS_TO_SPLIT:
        return Dataset(path.name, x, y, x.copy(), y.copy(), n_classes, classes=names)
    x_tr, y_tr, x_te, y_te = seeded_split(x, y, seed=seed)
    return Dataset(path.name, x_tr, y_tr, x_te, y_te, n_classes, classes=names)


def read_numeric_rows(path: Path) -> list[list[float]]:
    """The data rows of a CSV file (header skipped), each the same width, all numbers in bounds."""
    return parse_numeric_rows(read_bounded(path, "CSV file"), source=str(path))


def parse_numeric_rows(data: bytes, *, source: str) -> list[list[float]]:
    """The data rows of CSV bytes; see :func:`read_numeric_rows`."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ChainruleError(f"cannot read CSV file {source!r}: {exc}") from None
    raw = [r for r in csv.reader(text.splitlines()) if any(cell.strip() for cell in r)]
    if raw and not all(_is_number(cell) for cell in raw[0]):
        raw = raw[1:]  # a header
    if not raw:
        raise ChainruleError(f"CSV file {source!r} has no data rows")
    width = len(raw[0])
    rows = []
    for number, row in enumerate(raw, start=1):
        if len(row) != width or width < 2 or not all(_is_number(cell) for cell in row):
            bad = [cell for cell in row if _is_float(cell) and not _is_number(cell)]
            why = f" ({bad[0].strip()} is not finite)" if bad else ""
            raise ChainruleError(f"CSV file {source!r}, data row {number}: expected {max(width, 2)}"
                                 f" numbers (features, then the label), got {row!r}{why}")
        rows.append([float(cell) for cell in row])
    check_values(np.array(rows, dtype=np.float64), f"CSV file {source!r}")
    return rows


def _is_number(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return False


def _is_float(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _classes(target: np.ndarray) -> int | None:
    whole = np.all(target == np.round(target)) and target.min() >= 0
    if whole and target.max() < MAX_CLASSES:
        return max(2, int(target.max()) + 1)
    return None
