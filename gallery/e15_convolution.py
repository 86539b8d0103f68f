"""A worked convolution: 6×6 image ⊛ 3×3 kernel (E15)

Seed 002 (Neural Network 101): the kernel [[1,0,1],[0,1,0],[1,0,1]] laid on the top-left window
gives 18 + 51 + 121 + 35 + 204 = 429; sliding it over the image gives the 4×4 map
[[429,505,686,856],[261,792,412,640],[633,653,851,751],[608,913,713,657]]. The map is the
convolution layer's own forward equation, evaluated.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from chainrule.cli.plots import save_figure
from chainrule.derive.conv_example import ConvExample, convolve
from chainrule.derive.printing.latex import document, latex
from chainrule.derive.printing.layers_markdown import conv_markdown
from chainrule.fsutil import atomic_write_text

IMAGE = [[18, 54, 51, 239, 244, 188], [55, 121, 75, 78, 95, 88], [35, 24, 204, 113, 109, 221],
         [3, 154, 104, 235, 25, 130], [15, 253, 225, 159, 78, 233], [68, 85, 180, 214, 245, 0]]
KERNEL = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]


def build(out_dir: Path) -> list[Path]:
    """Write the worked example as LaTeX and Markdown, and image ⊛ kernel = map as a PNG."""
    out_dir.mkdir(parents=True, exist_ok=True)
    example = convolve(IMAGE, KERNEL)
    tex = atomic_write_text(out_dir / "e15_convolution.tex",
                            document(latex(example), title="E15: a worked convolution",
                                     figure="e15_convolution.png"))
    md = atomic_write_text(out_dir / "e15_convolution.md", conv_markdown(example))
    png = save_figure(_figure(example), out_dir / "e15_convolution.png")
    return [tex, md, png]


def _figure(example: ConvExample):
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.6))
    panels = (("image (first window outlined)", example.image), ("kernel", example.kernel),
              ("output map", example.output))
    for ax, (title, matrix) in zip(axes, panels, strict=True):
        ax.imshow(matrix, cmap="Blues")
        middle = (max(map(max, matrix)) + min(map(min, matrix))) / 2
        for (row, col), value in _cells(matrix):
            ax.text(col, row, f"{value:g}", ha="center", va="center", fontsize=8,
                    color="white" if value > middle else "black")
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0].add_patch(plt.Rectangle((-0.5, -0.5), 3, 3, fill=False, edgecolor="red", lw=2))
    axes[2].add_patch(plt.Rectangle((-0.5, -0.5), 1, 1, fill=False, edgecolor="red", lw=2))
    fig.tight_layout()
    return fig


def _cells(matrix: list[list[float]]):
    return [((r, c), v) for r, row in enumerate(matrix) for c, v in enumerate(row)]


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
