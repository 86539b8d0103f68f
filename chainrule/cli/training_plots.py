"""Figures of a training run: loss and accuracy curves per epoch, and for 2-D inputs the decision
boundary over the data, in the style of TensorFlow Playground (Smilkov & Carter, 2016): the plane
coloured by the predicted class, training points as circles, test points as triangles, a legend
naming each class.

Axes stay readable: epochs get integer ticks, the loss axis is logarithmic only when the loss
spans more than a decade (``LOG_SPAN``), and the test curves are dashed so that a train curve
under them still shows. PNG output is deterministic (no timestamp metadata) and written atomically.
``boundary_frame`` draws one frame of ``train --animate``; ``write_gif`` joins the frames.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from chainrule.errors import ChainruleError
from chainrule.fsutil import atomic_write_bytes
from chainrule.train.loop import EpochStats

Predict = Callable[[np.ndarray], np.ndarray]  # (n, 2) → (n, n_out)
GRID = 150
LOG_SPAN = 10.0  # the loss axis turns logarithmic when max/min loss exceeds this
CLASS_COLOURS = ("#e66101", "#0571b0", "#4dac26", "#7b3294", "#d01c8b", "#a6611a", "#404040",
                 "#b8860b", "#008b8b", "#8b0000")
TRAIN_MARKER = "o"
TEST_MARKER = "^"


def save_figure(figure: Figure, path: str | Path) -> Path:
    """PNG bytes without timestamps, written atomically."""
    return atomic_write_bytes(path, figure_png(figure))


def figure_png(figure: Figure, *, dpi: int = 100) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure)
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def class_colour(k: int) -> str:
    return CLASS_COLOURS[k % len(CLASS_COLOURS)]


def training_figure(history: Sequence[EpochStats], *, title: str = "",
                    predict: Predict | None = None, x: np.ndarray | None = None,
                    labels: np.ndarray | None = None, x_test: np.ndarray | None = None,
                    labels_test: np.ndarray | None = None,
                    class_names: Sequence[str] | None = None) -> Figure:
    """Loss and accuracy curves; with ``predict`` and 2-D ``x``, the decision boundary beside them.
    ``x``/``labels`` are the training points, ``x_test``/``labels_test`` the test points."""
    boundary = predict is not None and x is not None and x.ndim == 2 and x.shape[1] == 2
    figure = Figure(figsize=(14.5 if boundary else 9.5, 4.2))
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, 3 if boundary else 2,
                           gridspec_kw={"width_ratios": [1, 1, 1.35] if boundary else [1, 1]})
    draw_curves(axes[0], axes[1], history)
    if boundary and predict is not None and x is not None:
        draw_boundary(axes[2], predict, x, labels, x_test=x_test, labels_test=labels_test,
                      class_names=class_names)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_training(path: str | Path, history: Sequence[EpochStats], *, title: str = "",
                  predict: Predict | None = None, x: np.ndarray | None = None,
                  labels: np.ndarray | None = None, x_test: np.ndarray | None = None,
                  labels_test: np.ndarray | None = None,
                  class_names: Sequence[str] | None = None) -> Path:
    """Write :func:`training_figure` as a PNG."""
    return save_figure(training_figure(history, title=title, predict=predict, x=x, labels=labels,
                                       x_test=x_test, labels_test=labels_test,
                                       class_names=class_names), path)


def _series(history: Sequence[EpochStats], key: str) -> list[float] | None:
    values = [getattr(s, key, None) for s in history]
    if not values or any(v is None for v in values):
        return None
    return [float(v) for v in values]  # type: ignore[arg-type]


def draw_curves(loss_ax: Axes, acc_ax: Axes, history: Sequence[EpochStats]) -> None:
    """Training (solid) and test (dashed) loss and accuracy against integer epochs."""
    epochs = [s.epoch for s in history]
    marker = "." if len(epochs) < 30 else None
    losses = [(name, values, style) for name, values, style in
              (("train", _series(history, "loss"), "-"),
               ("test", _series(history, "test_loss"), "--")) if values is not None]
    for name, values, style in losses:
        loss_ax.plot(epochs, values, style, color="tab:red" if name == "train" else "tab:purple",
                     marker=marker, label=name, linewidth=2 if name == "train" else 1.5)
    loss_ax.set(xlabel="epoch", ylabel="loss", title="loss")
    every = [v for _, values, _ in losses for v in values]
    if every and min(every) > 0 and max(every) / min(every) > LOG_SPAN:
        loss_ax.set_yscale("log")
        loss_ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        loss_ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        loss_ax.yaxis.set_minor_formatter(NullFormatter())
    if len(losses) > 1:
        loss_ax.legend(loc="upper right")
    for name, colour, style in (("train", "tab:blue", "-"), ("test", "tab:orange", "--")):
        accuracy = _series(history, f"{name}_acc")
        if accuracy is not None:
            acc_ax.plot(epochs, accuracy, style, label=name, color=colour, marker=marker,
                        linewidth=2 if name == "train" else 1.5)
    acc_ax.set(xlabel="epoch", ylabel="accuracy", title="accuracy", ylim=(-0.02, 1.02))
    if acc_ax.lines:
        acc_ax.legend(loc="lower right")
    else:
        acc_ax.text(0.5, 0.5, "regression: no accuracy", ha="center", transform=acc_ax.transAxes)
    for ax in (loss_ax, acc_ax):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6, steps=[1, 2, 5, 10]))
        ax.grid(True, alpha=0.3)
        if len(epochs) == 1:
            ax.set_xlim(epochs[0] - 1, epochs[0] + 1)


def draw_boundary(ax: Axes, predict: Predict, x: np.ndarray, labels: np.ndarray | None, *,
                  x_test: np.ndarray | None = None, labels_test: np.ndarray | None = None,
                  class_names: Sequence[str] | None = None, legend: bool = True) -> None:
    """Colour the plane by the predicted class (lighter where the model is less sure), and scatter
    the training (circles) and test (triangles) samples on top."""
    both = x if x_test is None else np.concatenate([x, x_test])
    pad = 0.1 * max(float(np.ptp(both[:, 0])), float(np.ptp(both[:, 1])), 1e-6) + 0.2
    xs = np.linspace(both[:, 0].min() - pad, both[:, 0].max() + pad, GRID)
    ys = np.linspace(both[:, 1].min() - pad, both[:, 1].max() + pad, GRID)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(x.dtype)  # (GRID², 2)
    out = np.asarray(predict(grid), dtype=np.float64)  # (GRID², n_out)
    extent = (xs[0], xs[-1], ys[0], ys[-1])
    classification = labels is not None
    if classification:
        ax.imshow(_class_image(out), extent=extent, origin="lower", aspect="auto",
                  interpolation="bilinear")
        if out.shape[1] <= 2:
            ax.contour(gx, gy, out[:, -1].reshape(gx.shape), levels=[0.5], colors="k",
                       linewidths=1)
    else:
        image = ax.imshow(out[:, 0].reshape(gx.shape), extent=extent, origin="lower",
                          aspect="auto", cmap="viridis", alpha=0.8)
        ax.figure.colorbar(image, ax=ax, label="output")
    for points, point_labels, marker, edge in ((x, labels, TRAIN_MARKER, "white"),
                                               (x_test, labels_test, TEST_MARKER, "black")):
        if points is None or len(points) == 0:
            continue
        colours = ([class_colour(int(k)) for k in point_labels] if point_labels is not None
                   else "black")
        ax.scatter(points[:, 0], points[:, 1], c=colours, marker=marker, edgecolors=edge,
                   linewidths=0.8, s=70 if len(points) < 50 else 36 if len(points) < 200 else 18, zorder=3)
    ax.set(xlabel="x₁", ylabel="x₂", title="decision boundary", xlim=extent[:2],
           ylim=extent[2:])
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 5, 10]))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 5, 10]))
    if legend:
        n_classes = out.shape[1] if out.shape[1] > 1 else 2
        ax.legend(handles=boundary_legend(n_classes if classification else 0, class_names,
                                          has_test=x_test is not None and len(x_test) > 0),
                  loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)


def boundary_legend(n_classes: int, class_names: Sequence[str] | None, *,
                    has_test: bool) -> list[Line2D]:
    """One entry per class (its colour), then the train and test markers (in grey)."""
    names = list(class_names) if class_names else [f"class {k}" for k in range(n_classes)]
    handles = [Line2D([], [], marker="s", linestyle="", markersize=9, color=class_colour(k),
                      label=names[k] if k < len(names) else f"class {k}")
               for k in range(n_classes)]
    handles.append(Line2D([], [], marker=TRAIN_MARKER, linestyle="", color="gray",
                          markeredgecolor="white", markersize=7, label="train"))
    if has_test:
        handles.append(Line2D([], [], marker=TEST_MARKER, linestyle="", color="gray",
                              markeredgecolor="black", markersize=7, label="test"))
    return handles


def _class_image(out: np.ndarray) -> np.ndarray:
    """(GRID, GRID, 3) RGB: each cell the colour of its predicted class, mixed with white by how
    unsure the model is there (two classes: by P(class 1))."""
    side = GRID
    probs = np.concatenate([1 - out, out], axis=1) if out.shape[1] == 1 else out  # sigmoid: P(1)
    probs = np.clip(probs, 0.0, 1.0)
    colours = np.array([to_rgb(class_colour(k)) for k in range(probs.shape[1])])  # (k, 3)
    mixed = probs @ colours  # (cells, 3): the probability-weighted class colour
    confidence = probs.max(axis=1, keepdims=True)
    strength = 0.55 * confidence
    rgb = strength * mixed + (1 - strength) * 1.0  # lightened towards white
    return rgb.reshape(side, side, 3)


def boundary_frame(predict: Predict, x: np.ndarray, labels: np.ndarray | None, *, epoch: int,
                   loss: float | None = None, x_test: np.ndarray | None = None,
                   labels_test: np.ndarray | None = None,
                   class_names: Sequence[str] | None = None) -> bytes:
    """One ``train --animate`` frame: the decision boundary after ``epoch``, as PNG bytes."""
    figure = Figure(figsize=(5.6, 4.2))
    FigureCanvasAgg(figure)
    ax = figure.subplots()
    draw_boundary(ax, predict, x, labels, x_test=x_test, labels_test=labels_test,
                  class_names=class_names)
    ax.set_title(f"epoch {epoch}" + ("" if loss is None else f"   loss {loss:.4g}"))
    figure.tight_layout()
    return figure_png(figure, dpi=80)


def write_gif(path: str | Path, frames: Sequence[bytes], *, ms_per_frame: int = 120) -> Path:
    """Join PNG frames into a looping GIF (the last frame held for a second), atomically."""
    from PIL import Image

    target = check_animation_path(path)
    if not frames:
        raise ChainruleError("--animate: no frames to write (train at least one epoch)")
    images = [Image.open(io.BytesIO(frame)).convert("RGB") for frame in frames]
    durations = [ms_per_frame] * (len(images) - 1) + [1000]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:],
                   duration=durations, loop=0)
    return atomic_write_bytes(target, buffer.getvalue())


def frame_epochs(epochs: int, frames: int = 40) -> set[int]:
    """The epochs that get a frame: about ``frames`` of them, denser early, always the last."""
    if epochs <= frames:
        return set(range(1, epochs + 1))
    marks = np.unique(np.round(np.geomspace(1, epochs, frames)).astype(int))
    return {int(m) for m in marks} | {epochs}


class BoundaryAnimation:
    """``train --animate FILE.gif``: a decision-boundary frame after each chosen epoch, written as
    a GIF at the end. ``train`` calls ``on_epoch_end(stats)`` from its callbacks, then ``write()``."""

    def __init__(self, path: str | Path, predict: Predict, x: np.ndarray,
                 labels: np.ndarray | None, *, epochs: int, x_test: np.ndarray | None = None,
                 labels_test: np.ndarray | None = None,
                 class_names: Sequence[str] | None = None) -> None:
        self.path = check_animation_path(path, x)
        self.predict, self.x, self.labels = predict, x, labels
        self.x_test, self.labels_test, self.class_names = x_test, labels_test, class_names
        self.marks = frame_epochs(epochs)
        self.frames: list[bytes] = []

    def on_epoch_end(self, stats: EpochStats) -> None:
        if stats.epoch in self.marks:
            self.frames.append(boundary_frame(self.predict, self.x, self.labels,
                                              epoch=stats.epoch, loss=stats.loss,
                                              x_test=self.x_test, labels_test=self.labels_test,
                                              class_names=self.class_names))

    def write(self) -> Path:
        return write_gif(self.path, self.frames)


def check_animation_path(path: str | Path, x: np.ndarray | None = None) -> Path:
    """A .gif name, for data with 2 inputs (the plane the frames draw), or a one-line error."""
    target = Path(path)
    if target.suffix.lower() != ".gif":
        raise ChainruleError(f"--animate {str(target)!r}: expected a .gif file name")
    if x is not None and (x.ndim != 2 or x.shape[1] != 2):
        shape = "×".join(map(str, x.shape[1:]))
        raise ChainruleError(f"--animate draws the decision boundary of 2-D data; this data has "
                             f"inputs of shape {shape}")
    return target
