"""Evaluating a checkpoint on a data set: accuracy, the mean loss, the confusion matrix, per-class
precision and recall, the class names, and whether the data are the ones it was trained on.

The loss is the network's own (the kernels' training forward pass, ``Network.loss_and_predictions``,
in batches, without dropout and without a backward pass; the same pass gives the predictions), so it is the same number training reports. The confusion matrix counts
true class (rows) against predicted class (columns) (Bishop, *PRML*, §1.5).

Class names come from ``--classes FILE`` if given, else from the checkpoint (recorded at training
time), else from the data set (Fashion-MNIST's ten, a CSV header), else none (numbers are shown).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.errors import ChainruleError
from chainrule.train.checkpoint import load_checkpoint
from chainrule.train.data.dataset import Dataset, check_class_names, read_class_file
from chainrule.train.loop import predict_and_loss
from chainrule.train.metrics import accuracy, per_class, predicted_classes
from chainrule.train.session import fit_batches, network_from_checkpoint


@dataclass(frozen=True)
class Evaluation:
    """The report (``result``) and what a plot of the mistakes needs."""

    result: dict[str, Any]
    images: np.ndarray | None  # (n_wrong, channels, h, w) for image data, else None
    true: np.ndarray  # (n_wrong,) true classes of the misclassified samples
    predicted: np.ndarray  # (n_wrong,) their predicted classes
    confidence: np.ndarray  # (n_wrong,) the network's output for the predicted class


def evaluate(path: str | Path, data: str, *, split: str = "test",
             classes_file: Path | None = None, device: str = "cpu") -> dict[str, Any]:
    """``model``, ``data``, ``split``, ``n``, ``accuracy`` (``test_acc`` for the test split),
    ``loss``, ``confusion``, ``classes`` and ``per_class`` (None for regression), ``warnings``."""
    return evaluate_in_detail(path, data, split=split, classes_file=classes_file,
                              device=device).result


def evaluate_in_detail(path: str | Path, data: str, *, split: str = "test",
                       classes_file: Path | None = None, device: str = "cpu") -> Evaluation:
    """:func:`evaluate`, with the misclassified samples kept for a plot."""
    from chainrule.train.data import load_dataset

    checkpoint = load_checkpoint(path)
    network = network_from_checkpoint(checkpoint, source=str(path), device=device)
    dataset = load_dataset(data)
    batches = fit_batches(dataset, network.spec, dtype=np.dtype(getattr(network, "dtype",
                                                                          np.float64)))
    x, t, labels = ((batches.x_test, batches.t_test, batches.labels_test) if split == "test"
                    else (batches.x_train, batches.t_train, batches.labels_train))
    predictions, loss = predict_and_loss(network, x, t)  # (n, n_out): one forward pass
    result: dict[str, Any] = {"model": checkpoint.model["spec"], "data": data, "split": split,
                              "n": int(x.shape[0]), "accuracy": accuracy(predictions, labels),
                              "loss": loss, "confusion": None,
                              "classes": None, "per_class": None,
                              "trained_on": checkpoint.meta["data"]["name"],
                              "warnings": data_warnings(checkpoint.meta["data"], dataset)}
    empty = np.zeros(0, dtype=np.int64)
    if labels is None:
        if classes_file is not None:
            raise ChainruleError("--classes names classes, but these are regression data")
        return Evaluation(_with_test_acc(result), None, empty, empty, np.zeros(0))
    predicted = predicted_classes(predictions)
    k = dataset.n_classes or 2
    result["confusion"] = confusion(labels, predicted, k)
    result["classes"] = list(class_names(checkpoint.meta["data"], dataset, classes_file, k))
    result["per_class"] = per_class(result["confusion"])
    wrong = np.flatnonzero(predicted != labels)
    raw = dataset.x_test if split == "test" else dataset.x_train
    images = raw[wrong] if raw.ndim == 4 else None
    return Evaluation(_with_test_acc(result), images, labels[wrong], predicted[wrong],
                      _confidence(predictions[wrong], predicted[wrong]))


def class_names(meta_data: dict[str, Any], dataset: Dataset, classes_file: Path | None,
                n_classes: int) -> tuple[str, ...]:
    """The names of classes 0..K−1 (see the module docstring); ``"0"``, ``"1"``… if none."""
    if classes_file is not None:
        return read_class_file(classes_file, n_classes)
    saved = meta_data.get("classes")
    if saved and len(saved) == n_classes:
        return check_class_names(saved, n_classes, source="checkpoint")
    return dataset.class_names or tuple(str(k) for k in range(n_classes))


def data_warnings(meta_data: dict[str, Any], dataset: Dataset) -> list[str]:
    """A sentence when the data evaluated differ from the training data the checkpoint records
    (another name, or the same name with other contents)."""
    trained_on = meta_data["name"]
    if trained_on.strip().lower() != dataset.name.strip().lower() and \
            Path(trained_on).name != dataset.name:
        return [(f"trained on {trained_on!r}, not {dataset.name!r}: these numbers measure "
                 "other data")]
    saved = meta_data.get("fingerprint")
    if saved is not None and saved != dataset.fingerprint():
        return [(f"these data differ from the {trained_on!r} it was trained on (another test "
                 "split)")]
    return []


def confusion(labels: np.ndarray, predicted: np.ndarray, n_classes: int) -> list[list[int]]:
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)  # (true, predicted)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix.tolist()


def _confidence(outputs: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """The probability the network gave its (wrong) answer: P(class) for softmax outputs,
    p or 1 − p for one sigmoid unit."""
    if outputs.shape[1] == 1:
        return np.where(predicted == 1, outputs[:, 0], 1 - outputs[:, 0])
    return outputs[np.arange(len(predicted)), predicted]


def _with_test_acc(result: dict[str, Any]) -> dict[str, Any]:
    if result["split"] == "test":
        result["test_acc"] = result["accuracy"]
    return result
