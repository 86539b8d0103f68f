"""Metrics on a network's predictions: predicted classes, accuracy and per-class scores.

One sigmoid output reads as P(class 1) and is thresholded at 0.5; several outputs (softmax) are
read by their argmax (Goodfellow et al., *Deep Learning*, §6.2.2). Regression has no accuracy.

Per class k, from the confusion matrix C (rows: true class, columns: predicted class):
precision = C[k,k] / Σ_i C[i,k] (of the samples predicted k, the fraction that are k), recall =
C[k,k] / Σ_j C[k,j] (of the samples of class k, the fraction found: the class's own accuracy),
support = Σ_j C[k,j] (Manning et al., *Introduction to Information Retrieval*, §8.3). A ratio with
nothing to count (no sample predicted k, or none of class k) is ``None``.
"""

from __future__ import annotations

import numpy as np


def predicted_classes(predictions: np.ndarray) -> np.ndarray:
    """(n, n_out) predictions → (n,) class indices."""
    if predictions.shape[1] == 1:
        return (predictions[:, 0] >= 0.5).astype(np.int64)
    return np.argmax(predictions, axis=1)


def correct_count(predictions: np.ndarray, labels: np.ndarray | None) -> int:
    """How many rows are classified right (0 for regression, where ``labels`` is ``None``)."""
    if labels is None:
        return 0
    return int(np.count_nonzero(predicted_classes(predictions) == labels))


def accuracy(predictions: np.ndarray, labels: np.ndarray | None) -> float | None:
    """Fraction classified right, or ``None`` for regression."""
    if labels is None:
        return None
    return correct_count(predictions, labels) / max(1, len(labels))


def per_class(confusion: np.ndarray | list[list[int]]) -> list[dict[str, float | int | None]]:
    """``precision``, ``recall`` and ``support`` of each class of a (K, K) confusion matrix."""
    matrix = np.asarray(confusion, dtype=np.int64)  # (true, predicted)
    hits = np.diag(matrix)
    predicted_as = matrix.sum(axis=0)  # column sums: samples predicted k
    support = matrix.sum(axis=1)  # row sums: samples of class k
    return [{"precision": _ratio(hits[k], predicted_as[k]), "recall": _ratio(hits[k], support[k]),
             "support": int(support[k])} for k in range(matrix.shape[0])]


def _ratio(numerator: np.integer, denominator: np.integer) -> float | None:
    return None if denominator == 0 else float(numerator) / float(denominator)
