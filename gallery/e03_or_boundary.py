"""The OR gate's decision boundary (E3)

Hagan et al., *Neural Network Design*, ch. 4: choose w = [0.5, 0.5], orthogonal to the boundary,
and the boundary point p = [0, 0.5]; then w·p + b = 0 gives b = −0.25, and one pass of the
perceptron rule confirms that all four OR patterns are classified.
"""

from __future__ import annotations

import sys
from pathlib import Path

from chainrule.cli.plots import plot_decision_boundary
from chainrule.derive.perceptron import gate_data, perceptron_trace
from chainrule.derive.printing.graph_markdown import perceptron_markdown
from chainrule.derive.printing.latex import document, latex
from chainrule.fsutil import atomic_write_text

W = [0.5, 0.5]
BOUNDARY_POINT = [0.0, 0.5]


def build(out_dir: Path) -> list[Path]:
    """Write the bias computation and the check as LaTeX and Markdown, and the boundary PNG."""
    out_dir.mkdir(parents=True, exist_ok=True)
    b = -sum(w * p for w, p in zip(W, BOUNDARY_POINT, strict=True))  # w·p + b = 0 on the boundary
    patterns, targets = gate_data("or")
    trace = perceptron_trace(patterns, targets, w=W, b=b)
    derivation = ("$w^{T} p + b = 0.5 \\cdot 0 + 0.5 \\cdot 0.5 + b = 0 "
                  f"\\Rightarrow b = {b:g}$.\n\n")
    tex = atomic_write_text(out_dir / "e03_or_boundary.tex",
                            document(derivation + latex(trace), title="E3: the OR boundary",
                                     figure="e03_or_boundary.png"))
    md = atomic_write_text(out_dir / "e03_or_boundary.md",
                           "# E3: the OR gate's decision boundary\n\n"
                           f"w = {W}, boundary point p = {BOUNDARY_POINT}: w·p + b = 0 gives "
                           f"b = {b:g}.\n\n" + perceptron_markdown(trace))
    png = plot_decision_boundary(patterns, targets, W, b, out_dir / "e03_or_boundary.png",
                                 title="OR: w = [0.5, 0.5], b = -0.25")
    return [tex, md, png]


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
