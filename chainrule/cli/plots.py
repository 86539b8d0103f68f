"""Figures shared by commands and gallery scripts: an atomic PNG writer and the perceptron's
decision boundary (Hagan et al., *Neural Network Design*, ch. 4: the line w·p + b = 0), and the
figures of image models: learned first-layer filters, feature maps, the confusion matrix and a grid
of misclassified samples (what ``show`` and ``evaluate --plot`` draw).

matplotlib lives only in cli/ (and gallery scripts); derive/ never imports it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure, SubFigure

from chainrule.errors import ChainruleError
from chainrule.fsutil import atomic_write_bytes


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as PNG atomically (temp file beside it, then rename), deterministically."""
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise ChainruleError(f"--plot {str(target)!r}: expected a .png file name")
    return atomic_write_bytes(target, figure_png(fig))


def figure_png(fig: Figure, *, dpi: int = 120) -> bytes:
    """The figure as PNG bytes without a timestamp or software tag (the same bytes every run)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def plot_decision_boundary(
    patterns: Sequence[Sequence[float]],
    targets: Sequence[float],
    w: Sequence[float],
    b: float | None,
    path: str | Path,
    *,
    title: str = "perceptron decision boundary",
) -> Path:
    """Two-input patterns (filled: t = 1, hollow: t = 0) and the line w1·p1 + w2·p2 + b = 0."""
    if len(w) != 2:
        raise ChainruleError(f"a decision-boundary plot needs 2 inputs, got {len(w)}")
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    xs = [p[0] for p in patterns]
    ys = [p[1] for p in patterns]
    lo, hi = min(xs + ys) - 1.0, max(xs + ys) + 1.0
    for (px, py), t in zip(zip(xs, ys, strict=True), targets, strict=True):
        ax.scatter([px], [py], s=90, edgecolors="black",
                   facecolors="black" if t == 1 else "white", zorder=3)
    _boundary(ax, w, b or 0.0, lo, hi)
    ax.set(xlim=(lo, hi), ylim=(lo, hi), xlabel="$p_1$", ylabel="$p_2$", title=title)
    ax.set_aspect("equal")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, path)


def _boundary(ax: plt.Axes, w: Sequence[float], b: float, lo: float, hi: float) -> None:
    w1, w2 = float(w[0]), float(w[1])
    if w1 == 0.0 and w2 == 0.0:
        return
    if abs(w2) >= abs(w1):
        px = [lo, hi]
        py = [-(w1 * x + b) / w2 for x in px]
    else:
        py = [lo, hi]
        px = [-(w2 * y + b) / w1 for y in py]
    ax.plot(px, py, color="tab:blue", label=f"{w1:g}·p1 {w2:+g}·p2 {b:+g} = 0")
    mid = ((px[0] + px[1]) / 2, (py[0] + py[1]) / 2)
    norm = max((w1 * w1 + w2 * w2) ** 0.5, 1e-12)
    ax.annotate("", xy=(mid[0] + w1 / norm * 0.6, mid[1] + w2 / norm * 0.6), xytext=mid,
                arrowprops={"arrowstyle": "->", "color": "tab:blue"})  # w points to a = 1
    ax.legend(loc="lower left", fontsize=7)


# ---- image models: learned filters, feature maps, confusion matrix, misclassified samples ------

def _grid_shape(n: int, *, max_columns: int = 8) -> tuple[int, int]:
    columns = min(n, max_columns)
    return -(-n // columns), columns


def filters_figure(weight: np.ndarray, *, title: str = "first conv layer filters") -> Figure:
    """One tile per filter of a conv weight (filters, channels, k, k), on one symmetric colour
    scale (red positive, blue negative; Zeiler & Fergus, 2014, fig. 2 show them the same way).
    Three channels are drawn as RGB; other channel counts as the mean over channels."""
    if weight.ndim != 4:
        raise ChainruleError(f"expected a conv weight (filters, channels, k, k), got shape "
                             f"{weight.shape}")
    n, channels = weight.shape[:2]
    rows, columns = _grid_shape(n)
    fig = Figure(figsize=(1.25 * columns + 1.2, 1.25 * rows + 0.8))
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, columns, squeeze=False)
    limit = float(np.abs(weight).max()) or 1.0
    image = None
    for index, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if index >= n:
            ax.axis("off")
            continue
        if channels == 3:
            tile = weight[index].transpose(1, 2, 0)
            ax.imshow((tile / limit + 1) / 2, interpolation="nearest")
        else:
            image = ax.imshow(weight[index].mean(axis=0), cmap="RdBu_r", vmin=-limit, vmax=limit,
                              interpolation="nearest")
        ax.set_title(f"{index}", fontsize=8)
    suffix = "" if channels in (1, 3) else f" (mean of {channels} channels)"
    fig.suptitle(f"{title}{suffix}: {n} × {weight.shape[2]}×{weight.shape[3]}", fontsize=10)
    fig.tight_layout(rect=(0, 0, 0.9 if image is not None else 1, 1))
    if image is not None:
        fig.colorbar(image, ax=list(axes.flat), fraction=0.03, pad=0.02, label="weight")
    return fig


def feature_maps_figure(image: np.ndarray, maps: np.ndarray, *, title: str) -> Figure:
    """The input image (channels, H, W) at the left, then each feature map (filters, h, w) in a
    block of 1, 2 or more rows; each map on its own colour scale (what it responds to)."""
    n = maps.shape[0]
    rows = 1 if n <= 3 else 2 if n <= 12 else -(-n // 8)
    columns = -(-n // rows)
    fig = Figure(figsize=(1.5 * (columns + rows) + 0.3, 1.5 * rows + 0.7))
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(rows, columns + rows)
    source = fig.add_subplot(grid[:, :rows])
    source.imshow(image[0] if image.shape[0] != 3 else image.transpose(1, 2, 0), cmap="gray")
    source.set(title="input", xticks=[], yticks=[])
    for index in range(n):
        ax = fig.add_subplot(grid[index // columns, rows + index % columns])
        ax.imshow(maps[index], cmap="viridis", interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"map {index}", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def confusion_figure(matrix: np.ndarray | Sequence[Sequence[int]],
                     class_names: Sequence[str] | None = None, *,
                     title: str = "confusion matrix") -> Figure:
    """Counts of true class (rows) against predicted class (columns), coloured by the share of
    each true class (row-normalised, so rare classes show too); recall beside each row."""
    size = _confusion_size(len(matrix))
    fig = Figure(figsize=(size + 1.0, size), layout="constrained")  # room for labels and colorbar
    FigureCanvasAgg(fig)
    draw_confusion(fig, matrix, class_names, title=title)
    return fig


def _confusion_size(k: int) -> float:
    return max(4.0, 0.55 * k + 2.5)


def draw_confusion(fig: Figure | SubFigure, matrix: np.ndarray | Sequence[Sequence[int]],
                   class_names: Sequence[str] | None = None, *,
                   title: str = "confusion matrix") -> None:
    """The confusion matrix on ``fig`` (a figure or one panel of one)."""
    counts = np.asarray(matrix, dtype=np.int64)
    k = counts.shape[0]
    names = list(class_names) if class_names else [str(i) for i in range(k)]
    totals = counts.sum(axis=1, keepdims=True)
    share = counts / np.maximum(totals, 1)
    ax = fig.subplots()
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto")  # lets the layout fit
    for (row, column), count in np.ndenumerate(counts):
        ax.text(column, row, str(count), ha="center", va="center", fontsize=8 if k > 6 else 10,
                color="white" if share[row, column] > 0.5 else "black")
    long_names = max(map(len, names)) > 2
    ax.set_xticks(range(k), names, rotation=45 if long_names else 0,
                  ha="right" if long_names else "center", fontsize=8)
    ax.set_yticks(range(k), [f"{name}  {share[i, i]:.0%}" for i, name in enumerate(names)],
                  fontsize=8)
    accuracy = np.trace(counts) / max(int(counts.sum()), 1)
    ax.set(xlabel="predicted class", ylabel="true class (recall)",
           title=f"{title}: accuracy {accuracy:.2%} of {int(counts.sum())}")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")


MISCLASSIFIED_SHOWN = 16


def misclassified_figure(images: np.ndarray, true: Sequence[int], predicted: Sequence[int],
                         class_names: Sequence[str] | None = None, *,
                         confidence: Sequence[float] | None = None,
                         title: str = "misclassified test images") -> Figure:
    """A grid of up to 16 images (n, H, W) or (n, 1, H, W), each titled with its true and its
    predicted class."""
    shown = min(len(images), MISCLASSIFIED_SHOWN)
    rows, columns = _grid_shape(max(shown, 1), max_columns=4)
    fig = Figure(figsize=(2.0 * columns, 2.2 * rows + 0.5), layout="constrained")
    FigureCanvasAgg(fig)
    draw_misclassified(fig, images, true, predicted, class_names, confidence=confidence,
                       title=title)
    return fig


def draw_misclassified(fig: Figure | SubFigure, images: np.ndarray, true: Sequence[int],
                       predicted: Sequence[int], class_names: Sequence[str] | None = None, *,
                       confidence: Sequence[float] | None = None,
                       title: str = "misclassified test images") -> None:
    """The grid of misclassified images on ``fig`` (a figure or one panel of one)."""
    shown = min(len(images), MISCLASSIFIED_SHOWN)
    if shown == 0:
        raise ChainruleError("no misclassified images to show")
    rows, columns = _grid_shape(shown, max_columns=4)
    axes = fig.subplots(rows, columns, squeeze=False)

    def name(k: int) -> str:
        return class_names[k] if class_names and k < len(class_names) else str(k)

    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index >= shown:
            continue
        picture = np.asarray(images[index])
        ax.imshow(picture.reshape(picture.shape[-2:]), cmap="gray_r")
        sure = "" if confidence is None else f" ({confidence[index]:.0%})"
        ax.set_title(f"true: {name(int(true[index]))}\npred: {name(int(predicted[index]))}{sure}",
                     fontsize=8, color="firebrick")
    fig.suptitle(title, fontsize=10)


def evaluation_figure(matrix: np.ndarray | Sequence[Sequence[int]],
                      class_names: Sequence[str] | None = None, *,
                      images: np.ndarray | None = None, true: Sequence[int] = (),
                      predicted: Sequence[int] = (), confidence: Sequence[float] | None = None,
                      title: str = "confusion matrix") -> Figure:
    """What ``evaluate --plot`` draws: the confusion matrix, and beside it, for image data with
    mistakes, a grid of misclassified images (the first 16)."""
    if images is None or len(images) == 0 or np.asarray(images[0]).ndim < 2:
        return confusion_figure(matrix, class_names, title=title)
    size = _confusion_size(len(matrix))
    fig = Figure(figsize=(size + 1.0 + 8.4, max(size, 9.3)), layout="constrained")
    FigureCanvasAgg(fig)
    left, right = np.asarray(fig.subfigures(1, 2, width_ratios=[size + 1.0, 8.4])).ravel()
    draw_confusion(left, matrix, class_names, title=title)
    draw_misclassified(right, images, true, predicted, class_names, confidence=confidence)
    return fig
