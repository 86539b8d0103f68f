"""A plain NumPy MLP (784-128-10, ReLU, softmax-CE, SGD): the "from scratch" baseline of seed 001.

Its gradients are the textbook BP1–BP4 written in NumPy, as a lecture's notebook would; it is a
reference for speed only (chainrule's own gradients come from derive/).
"""

from __future__ import annotations

import time

import numpy as np


def train_mlp(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, *,
              epochs: int, batch: int, lr: float, seed: int = 0) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    x_train = x_train.reshape(len(x_train), -1).astype(np.float32)
    x_test = x_test.reshape(len(x_test), -1).astype(np.float32)
    w1 = (rng.standard_normal((784, 128)) * np.sqrt(2 / 784)).astype(np.float32)
    b1 = np.zeros(128, np.float32)
    w2 = (rng.standard_normal((128, 10)) * np.sqrt(2 / 128)).astype(np.float32)
    b2 = np.zeros(10, np.float32)
    eye = np.eye(10, dtype=np.float32)
    seconds = []
    for _ in range(epochs):
        order = rng.permutation(len(x_train))
        start = time.perf_counter()
        for first in range(0, len(order), batch):
            idx = order[first:first + batch]
            x, t = x_train[idx], eye[y_train[idx]]  # (m, 784), (m, 10)
            z1 = x @ w1 + b1
            a1 = np.maximum(z1, 0)  # (m, 128)
            z2 = a1 @ w2 + b2
            s = np.exp(z2 - z2.max(1, keepdims=True))
            s /= s.sum(1, keepdims=True)  # (m, 10)
            d2 = (s - t) / len(idx)  # softmax-CE: ∂L/∂z2
            d1 = (d2 @ w2.T) * (z1 > 0)  # BP2 with ReLU' = step
            w2 -= lr * a1.T @ d2
            b2 -= lr * d2.sum(0)
            w1 -= lr * x.T @ d1
            b1 -= lr * d1.sum(0)
        seconds.append(time.perf_counter() - start)
    logits = np.maximum(x_test @ w1 + b1, 0) @ w2 + b2
    return {"seconds_per_epoch": float(np.median(seconds)),
            "test_acc": float((logits.argmax(1) == y_test).mean())}
