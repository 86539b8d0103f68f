"""Inputs for ``chainrule predict``: image pixels (from a PNG, IDX or array) fitted to a model.

Colour becomes gray by the ITU-R BT.601 luma weights (0.299, 0.587, 0.114); the image is resized
to the model's input by box averaging (shrinking) or nearest neighbour (growing), and scaled to
[0, 1] as the training images were (pixels / 255 for 8-bit data).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from chainrule.errors import ChainruleError

LUMA = np.array([0.299, 0.587, 0.114])


def to_gray(pixels: np.ndarray) -> np.ndarray:
    """(h, w), (h, w, 3) or (h, w, 4) pixels → (h, w) float64 in [0, 1]."""
    image = np.asarray(pixels, dtype=np.float64)
    if np.issubdtype(np.asarray(pixels).dtype, np.integer):
        image = image / 255.0
    if image.ndim == 3 and image.shape[2] in (3, 4):
        image = image[:, :, :3] @ LUMA  # drop alpha, weight R, G, B
    if image.ndim != 2:
        raise ChainruleError(f"expected a grayscale or RGB(A) image, got pixel array {image.shape}")
    return image


def resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize (h, w) → (height, width): each output pixel averages the input box it covers."""
    rows = _boxes(image.shape[0], height)
    cols = _boxes(image.shape[1], width)
    out = np.empty((height, width))
    for i, (r0, r1) in enumerate(rows):
        for j, (c0, c1) in enumerate(cols):
            out[i, j] = image[r0:r1, c0:c1].mean()
    return out


def _boxes(n_in: int, n_out: int) -> list[tuple[int, int]]:
    edges = [i * n_in / n_out for i in range(n_out + 1)]
    return [(min(math.floor(a), n_in - 1), max(math.ceil(b), math.floor(a) + 1))
            for a, b in itertools.pairwise(edges)]


def image_shape(input_shape: tuple[int, ...], *, model: str) -> tuple[int, int]:
    """The (height, width) an image must have for a model: C×H×W, or a square N inputs."""
    if len(input_shape) == 3:
        return input_shape[1], input_shape[2]
    side = math.isqrt(input_shape[0])
    if len(input_shape) == 1 and side * side == input_shape[0]:
        return side, side
    raise ChainruleError(f"model {model!r} takes {input_shape} inputs, not an image: expected a "
                         "C×H×W input or a square number of inputs (e.g. 784 = 28×28)")


def image_input(pixels: np.ndarray, input_shape: tuple[int, ...], *, model: str) -> np.ndarray:
    """One image as a batch of one for the model: (1, *input_shape) float32 in [0, 1]."""
    height, width = image_shape(input_shape, model=model)
    gray = resize(to_gray(pixels), height, width)  # (height, width)
    channels = input_shape[0] if len(input_shape) == 3 else 1
    stacked = np.repeat(gray[None], channels, axis=0)  # (c, height, width)
    return stacked.reshape(1, *input_shape).astype(np.float32)
