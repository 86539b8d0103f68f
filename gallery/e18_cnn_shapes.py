"""A small CNN's shapes, and backprop through max pooling (E18)

Seed 003: a 28×28 input, 5×5 receptive fields and 3 feature maps give 3×24×24; 2×2 max pooling
gives 3×12×12; a dense layer maps the 432 values to 10 classes. The backward pass of max pooling,
derived, routes each δ to the argmax of its window: shown on a 4×4 example.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from chainrule.cli.plots import save_figure
from chainrule.derive.layers import evaluate, pool_layer
from chainrule.derive.layers.pool import c, i, j, u, v
from chainrule.derive.net import derive_net
from chainrule.derive.params import count_params
from chainrule.derive.printing.latex import document, latex
from chainrule.derive.printing.layers_markdown import net_markdown, summary_markdown
from chainrule.derive.spec import parse_spec
from chainrule.fsutil import atomic_write_text

MODEL = "cnn:1x28x28-conv5x5x3-maxpool2-dense10"
X = np.array([[1, 3, 2, 0], [4, 2, 1, 5], [0, 1, 7, 2], [3, 6, 1, 1]], dtype=float)
DELTA = np.array([[0.5, -1.0], [2.0, 0.25]])


def routed() -> tuple[np.ndarray, np.ndarray]:
    """Max pooling forward and the derived backward pass on the 4×4 example."""
    windows = X.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3)  # (i, j, m, n)
    flat = windows.reshape(2, 2, 4)
    mask = np.zeros_like(flat)
    np.put_along_axis(mask, flat.argmax(axis=-1)[..., None], 1.0, axis=-1)
    values = {"x": X[None], "delta": DELTA[None], "M": mask.reshape(1, 2, 2, 2, 2), "C": 1,
              "K": 2, "H": 4, "W": 4, "H_out": 2, "W_out": 2, "s": 2}
    layer = pool_layer("max")
    forward = evaluate(layer.equation("forward").rhs, [(c, 1), (i, 2), (j, 2)], values)[0]
    backward = evaluate(layer.equation("dL/dx").rhs, [(c, 1), (u, 4), (v, 4)], values)[0]
    return forward, backward


def build(out_dir: Path) -> list[Path]:
    """Write shapes, counts and the layer equations (LaTeX, Markdown) and the routing PNG."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = count_params(parse_spec(MODEL))
    net = derive_net(MODEL)
    pooled, grad = routed()
    example = ("\\section*{Max pooling backward on a 4$\\times$4 example}\n"
               f"\\[ x = {_bmatrix(X)} \\;\\to\\; z = {_bmatrix(pooled)}, \\qquad "
               f"\\delta = {_bmatrix(DELTA)} \\;\\to\\; \\frac{{\\partial L}}{{\\partial x}} = "
               f"{_bmatrix(grad)} \\]\n")
    tex = atomic_write_text(out_dir / "e18_cnn_shapes.tex",
                            document(latex(summary) + "\n\n" + example + "\n\n" + latex(net, environment="longtable"),
                                     title="E18: CNN shapes and max-pool backprop",
                                     figure="e18_maxpool_backward.png"))
    md = atomic_write_text(out_dir / "e18_cnn_shapes.md",
                           summary_markdown(summary) + "\n## Max pooling backward (4×4 example)"
                           f"\n\nx = {X.tolist()} → z = {pooled.tolist()}\n\n"
                           f"δ = {DELTA.tolist()} → ∂L/∂x = {grad.tolist()}\n\n"
                           + net_markdown(net))
    png = save_figure(_figure(pooled, grad), out_dir / "e18_maxpool_backward.png")
    return [tex, md, png]


def _bmatrix(matrix: np.ndarray) -> str:
    rows = r" \\ ".join(" & ".join(f"{v:g}" for v in row) for row in matrix)
    return rf"\begin{{bmatrix}} {rows} \end{{bmatrix}}"


def _figure(pooled: np.ndarray, grad: np.ndarray):
    fig, axes = plt.subplots(1, 4, figsize=(11, 3))
    panels = (("x", X), ("z = maxpool(x)", pooled), ("δ = ∂L/∂z", DELTA), ("∂L/∂x (routed)", grad))
    for ax, (title, matrix) in zip(axes, panels, strict=True):
        signed = "∂" in title
        limit = float(np.max(np.abs(matrix)))
        middle = (float(matrix.max()) + float(matrix.min())) / 2
        ax.imshow(matrix, cmap="coolwarm" if signed else "Blues",
                  vmin=-limit if signed else None, vmax=limit if signed else None)
        for (row, col), value in np.ndenumerate(matrix):
            ax.text(col, row, f"{value:g}", ha="center", va="center", fontsize=9,
                    color="white" if not signed and value > middle else "black")
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
