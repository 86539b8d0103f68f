"""The reference to beat: PyTorch (CPU) training the same models with the same recipe.

Used only by bench/run.py, in the bench's own environment (.venv-bench). Models follow the chainrule
specs: mlp:784-128-10 (ReLU, softmax-CE) and lenet5 (tanh, average pooling, C1 padded by 2).
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn


def mlp() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


def lenet5() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(16, 120, 5), nn.Tanh(), nn.Flatten(),
        nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10),
    )


MODELS = {"mlp": mlp, "lenet5": lenet5}


def train(model_name: str, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
          y_test: np.ndarray, *, epochs: int, batch: int, lr: float, seed: int = 0,
          threads: int = 2) -> dict[str, object]:
    """Plain SGD on softmax-CE; returns seconds per epoch and the final test accuracy."""
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    model = MODELS[model_name]()
    optimiser = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    xt = torch.from_numpy(x_train.astype(np.float32))
    yt = torch.from_numpy(y_train.astype(np.int64))
    rng = np.random.default_rng(seed)
    epoch_seconds = []
    for _ in range(epochs):
        order = torch.from_numpy(rng.permutation(len(xt)))
        start = time.perf_counter()
        for first in range(0, len(xt), batch):
            idx = order[first:first + batch]
            optimiser.zero_grad(set_to_none=True)
            loss_fn(model(xt[idx]), yt[idx]).backward()
            optimiser.step()
        epoch_seconds.append(time.perf_counter() - start)
    with torch.no_grad():
        predictions = model(torch.from_numpy(x_test.astype(np.float32))).argmax(1).numpy()
    return {"seconds_per_epoch": float(np.median(epoch_seconds)),
            "test_acc": float((predictions == y_test).mean())}
