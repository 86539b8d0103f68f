"""Synthetic data sets generated in code, seeded: logic gates, XOR, a line, and 2-D toy sets.

The gates and ``xor3`` follow the lecture decks (seed 001: the NumPy network from scratch, after
Trask's "A Neural Network in 11 lines of Python"); ``line`` is the "hello world" of seed 002
(Y = 3X + 1, Moroney's Coursera course). ``moons``, ``circles`` and ``spirals`` are the
two-class sets of TensorFlow Playground and scikit-learn's ``make_moons``/``make_circles``;
``blobs`` has three Gaussian classes. The tiny sets are their own test split; the 2-D sets are
split 80/20 with the data seed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from chainrule.train.data.dataset import Dataset, seeded_split

_GATE_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)  # (4, 2)
GATES: dict[str, list[int]] = {
    "or": [0, 1, 1, 1],
    "and": [0, 0, 0, 1],
    "nand": [1, 1, 1, 0],
    "xor": [0, 1, 1, 0],
}
XOR3_INPUTS = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float32)  # (4, 3)
XOR3_LABELS = [0, 1, 1, 0]
LINE_X = np.array([-1, 0, 1, 2, 3, 4], dtype=np.float32)
SAMPLES_2D = 200


def _whole(name: str, x: np.ndarray, y: np.ndarray, n_classes: int | None) -> Dataset:
    """A tiny set that is its own test split."""
    return Dataset(name, x, y, x.copy(), y.copy(), n_classes)


def gate(name: str) -> Dataset:
    labels = np.array(GATES[name], dtype=np.int64)
    return _whole(name, _GATE_INPUTS.copy(), labels, 2)


def xor3() -> Dataset:
    return _whole("xor3", XOR3_INPUTS.copy(), np.array(XOR3_LABELS, dtype=np.int64), 2)


def line() -> Dataset:
    x = LINE_X.reshape(-1, 1)  # (6, 1)
    return _whole("line", x, 3 * x + 1, None)  # Y = 3X + 1: [-2, 1, 4, 7, 10, 13]


def _split2d(name: str, x: np.ndarray, y: np.ndarray, n_classes: int, seed: int) -> Dataset:
    x_tr, y_tr, x_te, y_te = seeded_split(x.astype(np.float32), y.astype(np.int64), seed=seed)
    return Dataset(name, x_tr, y_tr, x_te, y_te, n_classes)


def moons(seed: int = 0, n: int = SAMPLES_2D, noise: float = 0.1) -> Dataset:
    rng = np.random.default_rng(seed)
    half = n // 2
    angle = np.linspace(0, np.pi, half)
    upper = np.stack([np.cos(angle), np.sin(angle)], axis=1)  # (half, 2)
    lower = np.stack([1 - np.cos(angle), 0.5 - np.sin(angle)], axis=1)
    x = np.concatenate([upper, lower]) + rng.normal(0, noise, (2 * half, 2))
    y = np.repeat([0, 1], half)
    return _split2d("moons", x, y, 2, seed)


def circles(seed: int = 0, n: int = SAMPLES_2D, noise: float = 0.05,
            factor: float = 0.5) -> Dataset:
    rng = np.random.default_rng(seed)
    half = n // 2
    angle = np.linspace(0, 2 * np.pi, half, endpoint=False)
    ring = np.stack([np.cos(angle), np.sin(angle)], axis=1)  # (half, 2)
    x = np.concatenate([ring, factor * ring]) + rng.normal(0, noise, (2 * half, 2))
    y = np.repeat([0, 1], half)  # outer ring 0, inner ring 1
    return _split2d("circles", x, y, 2, seed)


def spirals(seed: int = 0, n: int = SAMPLES_2D, noise: float = 0.05) -> Dataset:
    rng = np.random.default_rng(seed)
    half = n // 2
    radius = np.linspace(0.05, 1, half)
    angle = 1.75 * 2 * np.pi * radius
    arms = [np.stack([radius * np.sin(angle + shift), radius * np.cos(angle + shift)], axis=1)
            for shift in (0.0, np.pi)]  # two arms, (half, 2) each
    x = np.concatenate(arms) + rng.normal(0, noise, (2 * half, 2))
    y = np.repeat([0, 1], half)
    return _split2d("spirals", x, y, 2, seed)


def blobs(seed: int = 0, n: int = SAMPLES_2D + 100, spread: float = 0.6) -> Dataset:
    rng = np.random.default_rng(seed)
    centres = np.array([[-2.0, -1.0], [2.0, -1.0], [0.0, 2.0]])  # three classes
    per = n // len(centres)
    x = np.concatenate([c + rng.normal(0, spread, (per, 2)) for c in centres])
    y = np.repeat(np.arange(len(centres)), per)
    return _split2d("blobs", x, y, len(centres), seed)


def _gate_set(name: str) -> Callable[[int], Dataset]:
    """A logic gate as a seeded-set maker (the truth table needs no seed)."""
    return lambda seed: gate(name)


SYNTHETIC: dict[str, Callable[[int], Dataset]] = {
    **{name: _gate_set(name) for name in GATES},
    "xor3": lambda seed: xor3(),
    "line": lambda seed: line(),
    "moons": moons,
    "circles": circles,
    "spirals": spirals,
    "blobs": blobs,
}


def synthetic(name: str, *, seed: int = 0) -> Dataset:
    """The synthetic set ``name`` (a key of :data:`SYNTHETIC`), generated with ``seed``."""
    return SYNTHETIC[name](seed)
