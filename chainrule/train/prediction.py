"""Predictions of a checkpoint on new inputs: rows of numbers (CSV), IDX images, or one image.

Inputs are fitted to the model as the training data was (8-bit pixels / 255, then standardised with
the training split's mean and standard deviation that the checkpoint records). CSV rows may carry a
trailing label column, which is ignored. For a classifier each prediction names the class and the
output vector (softmax probabilities, or P(class 1) for one sigmoid unit).

The input is read once, bounded: a regular file (or stdin, ``-``) of at most
``CHAINRULE_MAX_INPUT_BYTES``; a PNG's width × height is read from its IHDR header and capped by
``CHAINRULE_MAX_IMAGE_PIXELS`` before any pixel is decoded; every input value must be finite and
at most ``CHAINRULE_MAX_ABS_VALUE`` in magnitude (:mod:`chainrule.train.data.limits`).
"""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.errors import ChainruleError
from chainrule.train.checkpoint import load_checkpoint
from chainrule.train.data.csv import parse_numeric_rows
from chainrule.train.data.dataset import NAMED_CLASSES, fit_inputs, read_class_file, standardise
from chainrule.train.data.idx import parse_idx, unpack
from chainrule.train.data.limits import IMAGE_PIXELS, check_values, read_bounded
from chainrule.train.loop import predict
from chainrule.train.metrics import predicted_classes
from chainrule.train.session import network_from_checkpoint

PNG_MAGIC = b"\x89PNG"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def load_model(path: str | Path, device: str = "cpu") -> tuple[Any, dict[str, Any]]:
    """The network of a checkpoint, on ``device``, and its metadata."""
    checkpoint = load_checkpoint(path)
    return network_from_checkpoint(checkpoint, source=str(path), device=device), checkpoint.meta


def read_input(path: Path) -> bytes:
    """The bytes of ``--input``: a regular file, or stdin for ``-``, within the size cap."""
    return read_bounded(path, "--input", stdin_ok=True)


def input_kind(data: bytes) -> str:
    """``png``, ``idx`` or ``csv``, by the first bytes (gzip counts as IDX)."""
    if data.startswith(PNG_MAGIC):
        return "png"
    if data[:2] in (b"\x00\x00", b"\x1f\x8b"):
        return "idx"
    return "csv"


def png_size(data: bytes, *, source: str) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk, checked against the pixel cap."""
    if not data.startswith(PNG_SIGNATURE) or len(data) < 24 or data[12:16] != b"IHDR":
        raise ChainruleError(f"cannot read PNG {source!r}: no IHDR header after the signature")
    width, height = struct.unpack(">II", data[16:24])
    if width == 0 or height == 0:
        raise ChainruleError(f"cannot read PNG {source!r}: it is {width}×{height} pixels")
    IMAGE_PIXELS.check(width * height, f"PNG {source!r} ({width}×{height})")
    return width, height


def png_pixels(data: bytes, *, source: str) -> np.ndarray:
    """The decoded pixels of a PNG whose header passed :func:`png_size`."""
    from matplotlib import image

    png_size(data, source=source)
    try:
        return np.asarray(image.imread(io.BytesIO(data), format="png"))
    except (OSError, ValueError, SyntaxError, EOFError, struct.error) as exc:
        raise ChainruleError(f"cannot read PNG {source!r}: {exc}") from None


def rows_input(data: bytes, source: str, network: Any) -> np.ndarray:
    """IDX or CSV samples fitted to the model: (n, *input_shape)."""
    spec = network.spec
    if input_kind(data) == "idx":
        raw = parse_idx(unpack(data, source=source), source=source)
        x = raw.astype(np.float32) / 255 if raw.dtype == np.uint8 else raw.astype(np.float64)
        check_values(np.asarray(x), f"--input {source!r}")
        x = np.asarray(x, dtype=np.float32)
    else:
        x = np.array(parse_numeric_rows(data, source=source), dtype=np.float32)  # (n, columns)
        if x.shape[1] == spec.n_inputs + 1:
            x = x[:, :-1]  # a trailing label column
    if x.ndim == 1:
        x = x[None]
    if x.shape[0] == 0:
        raise ChainruleError(f"--input {source!r} holds no samples")
    return fit_inputs(x, spec.input_shape, model=spec.text, data=Path(source).name,
                      dtype=getattr(network, "dtype", np.float32))


def class_names(meta: dict[str, Any], classes_file: Path | None = None) -> list[str] | None:
    """A classifier's class names: ``--classes FILE``, else those the checkpoint stored at training
    time, else a named data set's (Fashion-MNIST, for older checkpoints), else ``"0"``, ``"1"``…;
    ``None`` for regression."""
    data = meta["data"]
    n_classes = data.get("n_classes")
    if not n_classes:
        if classes_file is not None:
            raise ChainruleError("--classes names classes, but this checkpoint is a regression "
                                 "model")
        return None
    if classes_file is not None:
        return list(read_class_file(classes_file, n_classes))
    if data.get("classes"):
        return list(data["classes"])
    known = NAMED_CLASSES.get(Path(data["name"].rstrip("/")).name.lower())
    if known is not None and len(known) == n_classes:
        return list(known)
    return [str(k) for k in range(n_classes)]


def class_probabilities(outputs: np.ndarray, meta: dict[str, Any]) -> np.ndarray | None:
    """(n, K) probabilities of each class: the softmax outputs, or [1 − p, p] for one sigmoid
    unit; ``None`` when the outputs are not probabilities (regression, other output layers)."""
    if not meta["data"].get("n_classes"):
        return None
    output = meta["model"].get("output_activation")
    if output == "softmax":
        return outputs
    if output == "sigmoid" and outputs.shape[1] == 1:
        return np.concatenate([1 - outputs, outputs], axis=1)
    return None


def predictions(network: Any, meta: dict[str, Any], x: np.ndarray,
                names: list[str] | None = None) -> list[dict[str, Any]]:
    """One record per sample: ``index``, ``output`` and, for a classifier, ``class``, and with
    ``names`` the class ``name`` and, where the outputs are probabilities, ``probabilities``
    (one per class, in class order)."""
    norm = meta["data"].get("input_norm")
    outputs = predict(network, standardise(x, tuple(norm) if norm else None))  # (n, n_out)
    classes = predicted_classes(outputs) if meta["data"].get("n_classes") else None
    probabilities = class_probabilities(outputs, meta)
    records = []
    for index, row in enumerate(outputs):
        record: dict[str, Any] = {"index": index, "output": [float(v) for v in row]}
        if classes is not None:
            record["class"] = int(classes[index])
            if names is not None:
                record["name"] = names[int(classes[index])]
            if probabilities is not None:
                record["probabilities"] = [float(v) for v in probabilities[index]]
        records.append(record)
    return records
