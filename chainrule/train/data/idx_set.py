"""An image classification set from four IDX files: the given train/test split, standardised pixels.

Images come out as (n, 1, height, width) float32: pixels / 255, then standardised with the training
split's mean and standard deviation (recorded in ``Dataset.input_norm`` and in checkpoints, so that
evaluation and prediction see inputs scaled the same way). Labels are int64 0..K−1, as LeCun et
al. (1998) and Xiao et al. (2017) ship them. Shapes and counts are checked against each other, and
a split with no images is refused (its mean and standard deviation would be NaN).
"""

from __future__ import annotations

import numpy as np

from chainrule.train.data.dataset import Dataset, standardise_in_place, training_norm
from chainrule.train.data.discovery import IdxFiles
from chainrule.train.data.idx import IdxError, read_idx


def load_idx_set(files: IdxFiles, *, name: str) -> Dataset:
    """Read and check the four files, and normalise the pixels."""
    x_train = _images(str(files.train_images), read_idx(files.train_images))
    x_test = _images(str(files.test_images), read_idx(files.test_images))
    y_train = _labels(str(files.train_labels), read_idx(files.train_labels), len(x_train))
    y_test = _labels(str(files.test_labels), read_idx(files.test_labels), len(x_test))
    if x_train.shape[1:] != x_test.shape[1:]:
        raise IdxError(f"{name}: train images are {x_train.shape[2:]} but test images are "
                       f"{x_test.shape[2:]}")
    n_classes = int(max(y_train.max(initial=0), y_test.max(initial=0))) + 1
    norm = training_norm(x_train)
    return Dataset(name, standardise_in_place(x_train, norm), y_train,
                   standardise_in_place(x_test, norm), y_test, max(2, n_classes), input_norm=norm)


def _images(source: str, raw: np.ndarray) -> np.ndarray:
    if raw.ndim != 3 or raw.dtype != np.uint8:
        raise IdxError(f"{source} should hold uint8 images (n, height, width), got {raw.dtype} "
                       f"with shape {raw.shape}")
    if 0 in raw.shape:
        raise IdxError(f"{source} holds no pixels (shape {raw.shape}): expected at least one "
                       "image of at least 1×1")
    images = np.empty((raw.shape[0], 1, *raw.shape[1:]), dtype=np.float32)  # (n, 1, h, w)
    np.divide(raw[:, None, :, :], np.float32(255), out=images)  # in [0, 1]; one float32 buffer
    return images


def _labels(source: str, raw: np.ndarray, n_images: int) -> np.ndarray:
    if raw.ndim != 1 or raw.dtype != np.uint8:
        raise IdxError(f"{source} should hold uint8 labels (n,), got {raw.dtype} with shape "
                       f"{raw.shape}")
    if raw.shape[0] != n_images:
        raise IdxError(f"{source} has {raw.shape[0]} labels for {n_images} images")
    return raw.astype(np.int64)
