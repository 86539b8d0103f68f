"""Figures shared by commands and gallery scripts: an atomic PNG writer and the perceptron's
decision boundary (Hagan et al., *Neural Network Design*, ch. 4: the line w·p + b = 0).

matplotlib lives only in cli/ (and gallery scripts); derive/ never imports it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

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
