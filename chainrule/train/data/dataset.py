"""The :class:`Dataset` every loader returns, and the encodings that fit it to a model.

A data set holds a train split and a test split. Classification labels are whole numbers
0..K−1 (one-hot encoded on demand, as in Goodfellow et al., *Deep Learning*, §6.2.2.3);
regression targets are float rows. Images are stored as (n, channels, height, width) with pixels
scaled to [0, 1] (LeCun et al., 1998, normalise their inputs likewise).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import DTypeLike

from chainrule.errors import ChainruleError

Shape = tuple[int, ...]
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                         "Sneaker", "Bag", "Ankle boot")  # Xiao et al., 2017, Table 1
NAMED_CLASSES = {"fashion-mnist": FASHION_MNIST_CLASSES}  # data sets whose labels have names
MAX_CLASS_NAME = 40
FINGERPRINT_ROWS = 1024
NORM_CHUNK = 1 << 20  # values per float64 chunk of training_norm (8 MiB)


@dataclass(frozen=True)
class Dataset:
    """A named data set with its train and test splits.

    ``y_*`` are integer labels, shape (n,), when ``n_classes`` is set (classification), and float
    targets, shape (n, k), when it is ``None`` (regression).
    """

    name: str
    x_train: np.ndarray  # (n_train, *input_shape) float32
    y_train: np.ndarray  # (n_train,) int64 labels or (n_train, k) float targets
    x_test: np.ndarray  # (n_test, *input_shape)
    y_test: np.ndarray
    n_classes: int | None  # None = regression
    input_norm: tuple[float, float] | None = None  # (mean, std) already applied to both splits
    classes: tuple[str, ...] | None = None  # class names (a CSV header, --classes FILE)

    @property
    def task(self) -> str:
        return "regression" if self.n_classes is None else "classification"

    @property
    def input_shape(self) -> Shape:
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def n_features(self) -> int:
        return int(np.prod(self.input_shape))

    @property
    def n_targets(self) -> int:
        """Outputs a model needs for a one-output-per-class (or per-target) head."""
        if self.n_classes is None:
            return int(self.y_train.shape[1])
        return self.n_classes

    @property
    def class_names(self) -> tuple[str, ...] | None:
        """The names of classes 0..K−1: given ones, or the known names of a named data set
        (Fashion-MNIST's ten), or ``None`` (classes are shown as their numbers)."""
        if self.n_classes is None:
            return None
        if self.classes is not None:
            return self.classes
        known = NAMED_CLASSES.get(self.name.strip().lower())
        return known if known is not None and len(known) == self.n_classes else None

    def fingerprint(self) -> str:
        """A short hash of the test split (shapes, labels, the first rows' values), which
        ``--limit`` leaves alone: two loads of the same data agree, other data almost surely
        differ."""
        digest = hashlib.sha256(repr((self.x_test.shape, self.y_test.shape)).encode())
        digest.update(np.ascontiguousarray(self.y_test).tobytes())
        digest.update(np.ascontiguousarray(self.x_test[:FINGERPRINT_ROWS],
                                           dtype=np.float32).tobytes())
        return digest.hexdigest()[:16]

    def limited(self, n: int | None) -> Dataset:
        """The same data set with only its first ``n`` training samples (``None`` = all)."""
        if n is None:
            return self
        if n < 1:
            raise ChainruleError(f"--limit must be at least 1, got {n}")
        return replace(self, x_train=self.x_train[:n], y_train=self.y_train[:n])


def one_hot(labels: np.ndarray, n_classes: int, *, dtype: DTypeLike = np.float32) -> np.ndarray:
    """Rows e_k for labels k: (n,) ints → (n, n_classes); label 2 of 10 → [0,0,1,0,…,0]."""
    labels = np.asarray(labels, dtype=np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ChainruleError(f"labels must lie in 0..{n_classes - 1}, "
                             f"got {labels.min()}..{labels.max()}")
    encoded: np.ndarray = np.zeros((labels.shape[0], n_classes), dtype=dtype)  # (n, n_classes)
    encoded[np.arange(labels.shape[0]), labels] = 1
    return encoded


def standardise(x: np.ndarray, norm: tuple[float, float] | None) -> np.ndarray:
    """(x − mean) / std with the training split's statistics (``None``: unchanged).

    Zero-mean, unit-variance inputs keep plain SGD well conditioned (LeCun et al., "Efficient
    BackProp", 1998, §4.3); the test split and later predictions reuse the training statistics.
    A standard deviation that is 0 (or not finite) in float32 divides by 1 instead.
    """
    if norm is None:
        return x
    mean, std = norm
    return ((x - np.float32(mean)) / np.float32(usable_std(std))).astype(x.dtype, copy=False)


def standardise_in_place(x: np.ndarray, norm: tuple[float, float]) -> np.ndarray:
    """:func:`standardise` written into ``x`` itself (a float32 array), the same values without a
    second full-size buffer."""
    mean, std = norm
    np.subtract(x, np.float32(mean), out=x)
    np.divide(x, np.float32(usable_std(std)), out=x)
    return x


def usable_std(std: float) -> float:
    """``std`` when it is finite and > 0 in float32, else 1 (constant inputs stay unscaled)."""
    return std if math.isfinite(std) and np.float32(std) > 0 else 1.0


def training_norm(x_train: np.ndarray) -> tuple[float, float]:
    """The mean and standard deviation of every value in the training split (float64 sums).

    Two passes, as ``numpy.std`` makes (the mean, then the mean squared deviation), over chunks
    of NORM_CHUNK values converted to float64 one at a time: never a float64 copy of the split."""
    if x_train.size == 0:
        raise ChainruleError("the training split is empty: expected at least one sample")
    flat = x_train.reshape(-1)  # (n * features,): a view of a contiguous split
    chunks = range(0, flat.size, NORM_CHUNK)
    mean = sum(float(flat[i:i + NORM_CHUNK].astype(np.float64).sum()) for i in chunks) / flat.size
    squares = 0.0
    for i in chunks:
        deviation = flat[i:i + NORM_CHUNK].astype(np.float64)  # (≤ NORM_CHUNK,)
        deviation -= mean
        squares += float(np.square(deviation, out=deviation).sum())
    return mean, usable_std(math.sqrt(squares / flat.size))


def fit_inputs(x: np.ndarray, input_shape: Shape, *, model: str, data: str,
               dtype: DTypeLike = np.float32) -> np.ndarray:
    """Reshape samples to the model's input shape, or say why they do not fit."""
    per_sample = int(np.prod(x.shape[1:]))
    wanted = int(np.prod(input_shape))
    if per_sample != wanted:
        raise ChainruleError(
            f"data {data!r} has {per_sample} inputs per sample (shape {tuple(x.shape[1:])}), "
            f"but model {model!r} expects {wanted} (shape {tuple(input_shape)})")
    return np.ascontiguousarray(x.reshape((x.shape[0], *input_shape)), dtype=dtype)


def fit_targets(dataset: Dataset, y: np.ndarray, n_out: int, *, model: str,
                dtype: DTypeLike = np.float32) -> np.ndarray:
    """Targets as the network wants them, (n, n_out): one-hot per class, a 0/1 column, or floats."""
    if dataset.n_classes is None:
        if y.shape[1] != n_out:
            raise ChainruleError(f"data {dataset.name!r} has {y.shape[1]} targets per sample, "
                                 f"but model {model!r} has {n_out} outputs")
        return np.ascontiguousarray(y, dtype=dtype)
    if n_out == 1 and dataset.n_classes == 2:
        return y.reshape(-1, 1).astype(dtype)  # (n, 1): the probability of class 1
    if n_out != dataset.n_classes:
        raise ChainruleError(
            f"data {dataset.name!r} has {dataset.n_classes} classes, but model {model!r} has "
            f"{n_out} outputs: expected {dataset.n_classes} outputs"
            + (" (or 1 for two classes)" if dataset.n_classes == 2 else ""))
    return one_hot(y, n_out, dtype=dtype)


def seeded_split(x: np.ndarray, y: np.ndarray, *, seed: int, test_fraction: float = 0.2
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle with ``seed`` and hold out ``test_fraction`` of the samples as the test split."""
    order = np.random.default_rng(seed).permutation(x.shape[0])
    n_test = max(1, round(x.shape[0] * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


def check_class_names(names: list[str] | tuple[str, ...], n_classes: int | None, *,
                      source: str) -> tuple[str, ...]:
    """Class names that fit ``n_classes``: one per class, non-empty, distinct, at most 40 chars."""
    cleaned = tuple(name.strip() for name in names)
    if n_classes is None:
        raise ChainruleError(f"{source}: class names given, but the data are regression data")
    if len(cleaned) != n_classes:
        raise ChainruleError(f"{source}: {len(cleaned)} class names for {n_classes} classes: "
                             f"expected one name per class")
    for name in cleaned:
        if not name or len(name) > MAX_CLASS_NAME or not name.isprintable():
            raise ChainruleError(f"{source}: class name {name!r} must be 1 to {MAX_CLASS_NAME} "
                                 "printable characters")
    if len(set(cleaned)) != len(cleaned):
        raise ChainruleError(f"{source}: class names must differ, got {list(cleaned)}")
    return cleaned


def read_class_file(path: Path, n_classes: int | None) -> tuple[str, ...]:
    """``--classes FILE``: one class name per line (blank lines skipped), in label order."""
    from chainrule.train.data.limits import read_bounded

    try:
        text = read_bounded(path, "--classes").decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ChainruleError(f"cannot read --classes {str(path)!r}: {exc}") from None
    names = [line for line in text.splitlines() if line.strip()]
    return check_class_names(names, n_classes, source=f"--classes {str(path)!r}")


def header_classes(data: bytes, n_classes: int | None, *, source: str) -> tuple[str, ...] | None:
    """Class names from a CSV header whose label cell (the last) is written ``name:a|b|c``,
    e.g. ``length,width,species:setosa|versicolor|virginica``; ``None`` without one."""
    import csv

    text = data.decode("utf-8-sig", errors="replace")
    first = next((row for row in csv.reader(text.splitlines()[:1]) if row), None)
    if not first:
        return None
    _, colon, names = first[-1].partition(":")
    if not colon or "|" not in names:
        return None
    return check_class_names(names.split("|"), n_classes, source=f"CSV header of {source!r}")
