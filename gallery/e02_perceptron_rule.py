"""Rosenblatt's learning rule, traced step by step (E2)

Hagan et al., *Neural Network Design*, ch. 4: no bias, w0 = [1, −0.8]; p1 = [1, 2] t = 1,
p2 = [−1, 2] t = 0, p3 = [0, −1] t = 0. Each row is one presented pattern: a = hardlim(w·p),
e = t − a, w ← w + e·p. The weights go [2, 1.2] → [3, −0.8] → [3, 0.2] and then stop changing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from chainrule.cli.plots import plot_decision_boundary
from chainrule.derive.perceptron import perceptron_trace
from chainrule.derive.printing.graph_markdown import perceptron_markdown
from chainrule.derive.printing.latex import document, latex
from chainrule.fsutil import atomic_write_text

PATTERNS = [[1.0, 2.0], [-1.0, 2.0], [0.0, -1.0]]
TARGETS = [1.0, 0.0, 0.0]


def build(out_dir: Path) -> list[Path]:
    """Write the trace as LaTeX and Markdown, and the final boundary as a PNG."""
    out_dir.mkdir(parents=True, exist_ok=True)
    trace = perceptron_trace(PATTERNS, TARGETS, w=[1.0, -0.8], b=None)
    intro = ("Rule: $a = \\operatorname{hardlim}(w^{T} p)$, $e = t - a$, "
             "$w^{new} = w^{old} + e\\,p$.\n\n")
    tex = atomic_write_text(out_dir / "e02_perceptron_rule.tex",
                            document(intro + latex(trace), title="E2: the perceptron rule",
                                     figure="e02_boundary.png"))
    md = atomic_write_text(out_dir / "e02_perceptron_rule.md",
                           "# E2: the perceptron rule (no bias)\n\n"
                           "a = hardlim(w·p), e = t − a, w ← w + e·p\n\n"
                           + perceptron_markdown(trace))
    png = plot_decision_boundary(PATTERNS, TARGETS, trace.w, None, out_dir / "e02_boundary.png",
                                 title=f"after training: w = {[round(v, 4) for v in trace.w]}")
    return [tex, md, png]


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
