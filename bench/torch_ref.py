"""The reference to beat: PyTorch (CPU) training the same models with the same recipe.

Used only by bench/run.py, in the bench's own environment (.venv-bench). Models follow the chainrule
specs: mlp:784-128-10 (ReLU, softmax-CE), lenet5 (tanh, average pooling, C1 padded by 2) and cnn2,
TensorFlow's two-conv tutorial net (https://www.tensorflow.org/tutorials/images/cnn, here on
1×28×28: ``cnn:1x28x28-conv3x3x32p1-maxpool2-conv3x3x64p1-maxpool2-dense128-dense10``, ReLU, max
pooling), trained with SGD or Adam (torch.optim's defaults: β = (0.9, 0.999), ε = 1e-8, as
chainrule's).
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


def cnn2() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10),
    )


MODELS = {"mlp": mlp, "lenet5": lenet5, "cnn2": cnn2}
OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}


def load_initial(model: nn.Module, initial: list[np.ndarray]) -> None:
    """Start from given weights: (weight, bias) per conv or linear layer, bottom first, in
    PyTorch's layouts ((f, c_in, k, k) and (n_out, n_in): chainrule's too; a dense layer on a
    flattened (c, h, w) input equals a conv that covers it, as LeNet-5's C5)."""
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(initial) == 2 * len(layers), (len(initial), len(layers))
    with torch.no_grad():
        for layer, weight, bias in zip(layers, initial[::2], initial[1::2]):
            values = torch.from_numpy(np.asarray(weight, np.float32))
            layer.weight.copy_(values.reshape(layer.weight.shape))
            layer.bias.copy_(torch.from_numpy(np.asarray(bias, np.float32)))


def train(model_name: str, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
          y_test: np.ndarray, *, epochs: int, batch: int, lr: float, seed: int = 0,
          threads: int = 2, optimizer: str = "sgd",
          initial: list[np.ndarray] | None = None) -> dict[str, object]:
    """Softmax-CE with ``optimizer`` (sgd or adam); seconds per epoch and the final test accuracy.
    ``initial``: the starting weights (:func:`load_initial`), else PyTorch's default init."""
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    model = MODELS[model_name]()
    if initial is not None:
        load_initial(model, initial)
    optimiser = OPTIMIZERS[optimizer](model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    xt = torch.from_numpy(np.asarray(x_train, np.float32))
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
    with torch.no_grad():  # in chunks: cnn2's first layer holds 100 KB per sample
        x_eval = torch.from_numpy(np.asarray(x_test, np.float32))
        predictions = torch.cat([model(x_eval[i:i + 1000]).argmax(1)
                                 for i in range(0, len(x_eval), 1000)]).numpy()
    return {"seconds_per_epoch": float(np.median(epoch_seconds)),
            "test_acc": float((predictions == y_test).mean())}
