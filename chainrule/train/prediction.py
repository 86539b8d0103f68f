"""Predictions of a checkpoint on new inputs: rows of numbers (CSV), IDX images, or one image.

Inputs are fitted to the model as the training data was (8-bit pixels / 255, then standardised with
the training split's mean and standard deviation that the checkpoint records). CSV rows may carry a
trailing label column, which is ignored. For a classifier each prediction names the class and the
output vector (softmax probabilities, or P(class 1) for one sigmoid unit).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from chainrule.errors import ChainruleError
from chainrule.train.checkpoint import load_checkpoint
from chainrule.train.data.csv import read_numeric_rows
from chainrule.train.data.dataset import fit_inputs, standardise
from chainrule.train.data.idx import read_idx
from chainrule.train.loop import predict
from chainrule.train.metrics import predicted_classes
from chainrule.train.session import network_from_checkpoint

PNG_MAGIC = b"\x89PNG"


def load_model(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """The network of a checkpoint and its metadata."""
    checkpoint = load_checkpoint(path)
    return network_from_checkpoint(checkpoint, source=str(path)), checkpoint.meta


def input_kind(path: Path) -> str:
    """``png``, ``idx`` or ``csv``, by the file's first bytes (gzip counts as IDX)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
    except OSError as exc:
        raise ChainruleError(f"cannot read --input {str(path)!r}: {exc.strerror}") from None
    if head.startswith(PNG_MAGIC):
        return "png"
    if head[:2] in (b"\x00\x00", b"\x1f\x8b"):
        return "idx"
    return "csv"


def rows_input(path: Path, network: Any) -> np.ndarray:
    """IDX or CSV samples fitted to the model: (n, *input_shape)."""
    spec = network.spec
    if input_kind(path) == "idx":
        raw = read_idx(path)
        x = raw.astype(np.float32) / 255 if raw.dtype == np.uint8 else raw.astype(np.float32)
    else:
        x = np.array(read_numeric_rows(path), dtype=np.float32)  # (n, columns)
        if x.shape[1] == spec.n_inputs + 1:
            x = x[:, :-1]  # a trailing label column
    if x.ndim == 1:
        x = x[None]
    return fit_inputs(x, spec.input_shape, model=spec.text, data=path.name,
                      dtype=getattr(network, "dtype", np.float32))


def predictions(network: Any, meta: dict[str, Any], x: np.ndarray) -> list[dict[str, Any]]:
    """One record per sample: ``index``, ``output`` and, for a classifier, ``class``."""
    norm = meta["data"].get("input_norm")
    outputs = predict(network, standardise(x, tuple(norm) if norm else None))  # (n, n_out)
    classes = predicted_classes(outputs) if meta["data"].get("n_classes") else None
    records = []
    for index, row in enumerate(outputs):
        record: dict[str, Any] = {"index": index, "output": [float(v) for v in row]}
        if classes is not None:
            record["class"] = int(classes[index])
        records.append(record)
    return records
