"""Figures of a training run: loss and accuracy curves per epoch, and for 2-D inputs the decision
boundary over the data, in the style of TensorFlow Playground (Smilkov & Carter, 2016).

PNG output is deterministic (no timestamp metadata) and written atomically.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from chainrule.fsutil import atomic_write_bytes
from chainrule.train.loop import EpochStats

Predict = Callable[[np.ndarray], np.ndarray]  # (n, 2) → (n, n_out)
GRID = 120


def save_figure(figure: Figure, path: str | Path) -> Path:
    """PNG bytes without timestamps, written atomically."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return atomic_write_bytes(path, buffer.getvalue())


def plot_training(path: str | Path, history: Sequence[EpochStats], *, title: str = "",
                  predict: Predict | None = None, x: np.ndarray | None = None,
                  labels: np.ndarray | None = None) -> Path:
    """Loss and accuracy curves; with ``predict`` and 2-D ``x``, the decision boundary beside them."""
    boundary = predict is not None and x is not None and x.ndim == 2 and x.shape[1] == 2
    figure = Figure(figsize=(13 if boundary else 9, 3.8))
    axes = figure.subplots(1, 3 if boundary else 2)
    _curves(axes[0], axes[1], history)
    if boundary and predict is not None and x is not None:
        draw_boundary(axes[2], predict, x, labels)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return save_figure(figure, path)


def _curves(loss_ax: Axes, acc_ax: Axes, history: Sequence[EpochStats]) -> None:
    epochs = [s.epoch for s in history]
    marker = "." if len(epochs) < 30 else None
    loss_ax.plot(epochs, [s.loss for s in history], color="tab:red", marker=marker)
    loss_ax.set(xlabel="epoch", ylabel="training loss", title="loss")
    if any(s.loss > 0 for s in history) and min(s.loss for s in history) > 0:
        loss_ax.set_yscale("log")
    for key, colour in (("train_acc", "tab:blue"), ("test_acc", "tab:orange")):
        values = [getattr(s, key) for s in history]
        if all(v is not None for v in values) and values:
            acc_ax.plot(epochs, values, label=key.replace("_acc", ""), color=colour)
    acc_ax.set(xlabel="epoch", ylabel="accuracy", title="accuracy", ylim=(-0.02, 1.02))
    if acc_ax.lines:
        acc_ax.legend(loc="lower right")
    else:
        acc_ax.text(0.5, 0.5, "regression: no accuracy", ha="center", transform=acc_ax.transAxes)


def draw_boundary(ax: Axes, predict: Predict, x: np.ndarray,
                  labels: np.ndarray | None) -> None:
    """Shade the plane by the predicted class (or output), and scatter the samples on top."""
    pad = 0.5
    xs = np.linspace(x[:, 0].min() - pad, x[:, 0].max() + pad, GRID)
    ys = np.linspace(x[:, 1].min() - pad, x[:, 1].max() + pad, GRID)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(x.dtype)  # (GRID², 2)
    out = predict(grid)  # (GRID², n_out)
    two_class = out.shape[1] <= 2  # P(class 1): the sigmoid output, or the second softmax output
    value = out[:, -1] if two_class else np.argmax(out, axis=1).astype(float)
    ax.contourf(gx, gy, value.reshape(gx.shape), levels=20, cmap="RdBu", alpha=0.6)
    if two_class:
        ax.contour(gx, gy, value.reshape(gx.shape), levels=[0.5], colors="k", linewidths=1)
    ax.scatter(x[:, 0], x[:, 1], c=labels if labels is not None else "k", cmap="RdBu",
               edgecolors="k", s=25)
    ax.set(xlabel="x₁", ylabel="x₂", title="decision boundary")
