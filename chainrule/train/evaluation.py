"""Evaluating a checkpoint on a data set: accuracy, the mean loss, the confusion matrix.

The loss is the network's own (the kernels' training forward pass, ``Network.loss_value``, in
batches, without dropout and without a backward pass), so it is the same number training reports. The confusion matrix counts
true class (rows) against predicted class (columns) (Bishop, *PRML*, §1.5).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from chainrule.train.checkpoint import load_checkpoint
from chainrule.train.loop import mean_loss, predict
from chainrule.train.metrics import accuracy, predicted_classes
from chainrule.train.session import fit_batches, network_from_checkpoint


def evaluate(path: str | Path, data: str, *, split: str = "test") -> dict[str, Any]:
    """``model``, ``data``, ``split``, ``n``, ``accuracy`` (``test_acc`` for the test split),
    ``loss`` and ``confusion`` (None for regression)."""
    from chainrule.train.data import load_dataset

    checkpoint = load_checkpoint(path)
    network = network_from_checkpoint(checkpoint, source=str(path))
    dataset = load_dataset(data)
    batches = fit_batches(dataset, network.spec, dtype=np.dtype(getattr(network, "dtype",
                                                                          np.float64)))
    x, t, labels = ((batches.x_test, batches.t_test, batches.labels_test) if split == "test"
                    else (batches.x_train, batches.t_train, batches.labels_train))
    predictions = predict(network, x)  # (n, n_out)
    result: dict[str, Any] = {"model": checkpoint.model["spec"], "data": data, "split": split,
                              "n": int(x.shape[0]), "accuracy": accuracy(predictions, labels),
                              "loss": _mean_loss(network, x, t), "confusion": None}
    if labels is not None:
        result["confusion"] = confusion(labels, predicted_classes(predictions),
                                        dataset.n_classes or 2)
    if split == "test":
        result["test_acc"] = result["accuracy"]
    return result


def confusion(labels: np.ndarray, predicted: np.ndarray, n_classes: int) -> list[list[int]]:
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)  # (true, predicted)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix.tolist()


def _mean_loss(network: Any, x: np.ndarray, t: np.ndarray) -> float | None:
    return mean_loss(network, x, t)  # the same number training reports as test_loss
