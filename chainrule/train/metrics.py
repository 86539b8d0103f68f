"""Metrics on a network's predictions: predicted classes and accuracy.

One sigmoid output reads as P(class 1) and is thresholded at 0.5; several outputs (softmax) are
read by their argmax (Goodfellow et al., *Deep Learning*, §6.2.2). Regression has no accuracy.
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
