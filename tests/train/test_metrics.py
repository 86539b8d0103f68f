"""Per-class precision, recall and support against a direct NumPy count over the samples."""

import numpy as np
import pytest

from chainrule.train.evaluation import confusion
from chainrule.train.metrics import per_class


def _reference(labels, predicted, k):
    """Precision and recall counted sample by sample, without a confusion matrix."""
    rows = []
    for c in range(k):
        hits = np.sum((labels == c) & (predicted == c))
        called, actual = np.sum(predicted == c), np.sum(labels == c)
        rows.append((hits / called if called else None, hits / actual if actual else None,
                     int(actual)))
    return rows


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_per_class_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    k = 5
    labels = rng.integers(0, k, 300)
    predicted = np.where(rng.random(300) < 0.6, labels, rng.integers(0, k, 300))
    scores = per_class(confusion(labels, predicted, k))
    for got, (precision, recall, support) in zip(scores, _reference(labels, predicted, k),
                                                 strict=True):
        assert got["precision"] == pytest.approx(precision)
        assert got["recall"] == pytest.approx(recall)
        assert got["support"] == support
    # the recall weighted by support is the overall accuracy
    total = sum(s["recall"] * s["support"] for s in scores) / 300
    assert total == pytest.approx(np.mean(labels == predicted))


def test_a_class_never_predicted_or_never_seen_is_none():
    labels = np.array([0, 0, 1, 1])
    predicted = np.array([0, 0, 0, 0])  # class 1 never predicted; class 2 absent
    scores = per_class(confusion(labels, predicted, 3))
    assert scores[0] == {"precision": 0.5, "recall": 1.0, "support": 2}
    assert scores[1] == {"precision": None, "recall": 0.0, "support": 2}
    assert scores[2] == {"precision": None, "recall": None, "support": 0}
