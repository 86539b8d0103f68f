"""Parameter counts with their formulas: a conv layer and a dense layer (E16)

Seed 003: a 5×5 convolution with 20 feature maps on a 28×28 image has 20·(5·5·1+1) = 520
parameters (weights shared across positions); a dense layer 784 → 30 has 30·(784+1) = 23,550.
"""

from __future__ import annotations

import sys
from pathlib import Path

from matplotlib.figure import Figure

from chainrule.cli.plots import save_figure
from chainrule.derive.params import count_params
from chainrule.derive.printing.latex import document, latex
from chainrule.derive.printing.layers_markdown import summary_markdown
from chainrule.derive.spec import parse_spec
from chainrule.fsutil import atomic_write_text

MODELS = ("cnn:1x28x28-conv5x5x20", "mlp:784-30")


def build(out_dir: Path) -> list[Path]:
    """Write both summaries as LaTeX and Markdown."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summaries = [count_params(parse_spec(model)) for model in MODELS]
    tex = atomic_write_text(out_dir / "e16_parameter_counts.tex",
                            document("\n\n\\bigskip\n".join(latex(s) for s in summaries),
                                     title="E16: parameter counts",
                                     figure="e16_parameter_counts.png"))
    md = atomic_write_text(out_dir / "e16_parameter_counts.md",
                           "\n".join(summary_markdown(s) for s in summaries))
    png = _figure(out_dir / "e16_parameter_counts.png", summaries)
    return [tex, md, png]


def _figure(path: Path, summaries: list) -> Path:
    """Each model's parameter count as a bar, labelled with the formula that gives it."""
    figure = Figure(figsize=(7, 1.8))
    axis = figure.subplots()
    rows = [summary.layers[0] for summary in summaries]
    bars = axis.barh(range(len(rows)), [summary.total for summary in summaries],
                     color=["tab:blue", "tab:orange"])
    axis.bar_label(bars, labels=[row.formula for row in rows], padding=4, fontsize=8)
    axis.set_yticks(range(len(rows)), list(MODELS), fontsize=8)
    axis.set_xscale("log")
    axis.set_xlim(1, 100 * max(summary.total for summary in summaries))
    axis.set_xlabel("parameters")
    figure.tight_layout()
    return save_figure(figure, path)


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
