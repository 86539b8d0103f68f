"""One-hot encoding of a class label (E19)

Label 2 of 10 classes becomes the unit vector e_2 = [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]: the target t
that softmax with cross-entropy compares against (Bishop, *PRML*, §4.1, 1-of-K coding).
"""

from __future__ import annotations

import sys
from pathlib import Path

from matplotlib.figure import Figure

from chainrule.cli.plots import save_figure
from chainrule.derive.encoding import one_hot
from chainrule.derive.printing.latex import document
from chainrule.fsutil import atomic_write_text

LABEL, CLASSES = 2, 10


def build(out_dir: Path) -> list[Path]:
    """Write e_2 in R^10 as LaTeX and Markdown."""
    out_dir.mkdir(parents=True, exist_ok=True)
    vector = one_hot(LABEL, CLASSES)
    entries = " \\\\ ".join(f"{v:g}" for v in vector)
    body = (f"Label ${LABEL}$ of ${CLASSES}$ classes (counting from $0$):\n"
            f"\\[ t = e_{{{LABEL}}} = \\begin{{pmatrix}} {entries} \\end{{pmatrix}} "
            f"\\in \\{{0, 1\\}}^{{{CLASSES}}} \\]\n")
    tex = atomic_write_text(out_dir / "e19_one_hot.tex", document(body, title="E19: one-hot",
                                                                   figure="e19_one_hot.png"))
    shown = "[" + ", ".join(f"{v:g}" for v in vector) + "]"
    md = atomic_write_text(out_dir / "e19_one_hot.md",
                           f"# E19: one-hot encoding\n\nLabel {LABEL} of {CLASSES} classes "
                           f"(counting from 0): t = e_{LABEL} = {shown}\n")
    png = _figure(out_dir / "e19_one_hot.png", [float(v) for v in vector])
    return [tex, md, png]


def _figure(path: Path, vector: list[float]) -> Path:
    """The one-hot vector as bars: 1 at the label, 0 elsewhere."""
    figure = Figure(figsize=(6.5, 2.2))
    axis = figure.subplots()
    axis.bar(range(len(vector)), vector, color=["tab:red" if v else "tab:grey" for v in vector])
    axis.set_xticks(range(len(vector)))
    axis.set_xlabel("class")
    axis.set_ylabel("t")
    figure.tight_layout()
    return save_figure(figure, path)


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
