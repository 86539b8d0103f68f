"""The chain rule on f = (x + y)·z (E6)

CS231n, "Backpropagation, Intuitions": with q = x + y, f = q·z, at x = −2, y = 5, z = −4:
q = 3, f = −12, ∂f/∂z = q = 3, ∂f/∂x = ∂f/∂q·∂q/∂x = z·1 = −4, ∂f/∂y = −4.
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


def build(out_dir: Path) -> list[Path]:
    """Write the staged graph as LaTeX, Markdown and a PNG circuit diagram."""
    out_dir.mkdir(parents=True, exist_ok=True)
    graph = build_graph(parse_expression("(x+y)*z"), {"x": -2.0, "y": 5.0, "z": -4.0})
    tex = atomic_write_text(out_dir / "e06_chain_rule.tex",
                            document(latex(graph, environment="longtable"), title="E6: the chain rule on (x+y) z",
                                     figure="e06_chain_rule.png"))
    md = atomic_write_text(out_dir / "e06_chain_rule.md",
                           "# E6: the chain rule on f = (x + y)·z\n\n" + graph_markdown(graph))
    png = plot_graph(graph, out_dir / "e06_chain_rule.png", title="f = (x + y)·z")
    return [tex, md, png]


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
