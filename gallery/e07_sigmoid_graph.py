"""A sigmoid neuron, staged node by node (E7)

CS231n, "Backpropagation, Intuitions": z = 1/(1 + e^{−(w0·x0 + w1·x1 + w2)}) with w = [2, −3, −3],
x = [−1, −2], staged q = w0x0, p = w1x1, s = q + p, t = w2 + s, r = −t, u = e^r, v = u + 1,
z = 1/v. Forward z = 0.7311; backward ∂z/∂v = −0.5344, ∂z/∂w = [−0.1966, −0.3932, 0.1966],
∂z/∂x = [0.3932, −0.5898]. Kept as one σ node, σ' = σ(1 − σ) gives the same gradients.
"""

from __future__ import annotations

import sys
from pathlib import Path

from chainrule.cli.graph_plot import plot_graph
from chainrule.derive.graph import build_graph
from chainrule.derive.parser import parse_expression
from chainrule.derive.printing.graph_markdown import graph_markdown
from chainrule.derive.printing.latex import document, latex
from chainrule.fsutil import atomic_write_text

VALUES = {"w": [2.0, -3.0, -3.0], "x": [-1.0, -2.0]}


def build(out_dir: Path) -> list[Path]:
    """Write the staged graph (LaTeX, Markdown, PNG) and the one-σ-node version for comparison."""
    out_dir.mkdir(parents=True, exist_ok=True)
    staged = build_graph(parse_expression("1/(1+exp(-(w0*x0+w1*x1+w2)))"), VALUES)
    one_node = build_graph(parse_expression("sigmoid(w0*x0+w1*x1+w2)"), VALUES)
    note = ("With $\\sigma$ kept as one node, its local derivative "
            "$\\sigma(t)\\left(1 - \\sigma(t)\\right)$ replaces the four stages $r, u, v, z$:\n")
    tex = atomic_write_text(out_dir / "e07_sigmoid_graph.tex", document(
        latex(staged, environment="longtable") + "\n\n" + note
        + latex(one_node, environment="longtable"), title="E7: a sigmoid neuron, staged",
        figure="e07_sigmoid_graph.png"))
    md = atomic_write_text(out_dir / "e07_sigmoid_graph.md",
                           "# E7: a sigmoid neuron, staged (CS231n)\n\n" + graph_markdown(staged)
                           + "\n## The same neuron with σ as one node\n\n" + graph_markdown(one_node))
    png = plot_graph(staged, out_dir / "e07_sigmoid_graph.png",
                     title="z = 1/(1 + exp(-(w0·x0 + w1·x1 + w2)))")
    return [tex, md, png]


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
