"""LeNet-5: shapes, parameter counts and layer equations (E17)

Seed 003 and LeCun et al. (1998): 32×32 (a 28×28 image padded by 2) → C1 6@28² → S2 6@14² →
C3 16@10² → S4 16@5² → C5 120 → F6 84 → 10, tanh and average pooling. C5 = 120·(5·5·16+1) =
48,120 and F6 = 84·(120+1) = 10,164. Counted as Keras does (C3 dense, pooling 0) and as the paper
does (C3's partial connection table: 1,516; S2 = 12, S4 = 32), then every layer's backward
equations, derived once per layer type and instantiated with LeNet-5's sizes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from matplotlib.figure import Figure

from chainrule.cli.plots import save_figure
from chainrule.derive.net import derive_net
from chainrule.derive.params import count_params
from chainrule.derive.printing.latex import document, latex
from chainrule.derive.printing.layers_markdown import net_markdown, summary_markdown
from chainrule.derive.spec import parse_spec
from chainrule.fsutil import atomic_write_text


def build(out_dir: Path) -> list[Path]:
    """Write the two summaries and the layer equations as LaTeX and Markdown."""
    out_dir.mkdir(parents=True, exist_ok=True)
    spec = parse_spec("lenet5")
    summaries = [count_params(spec, convention=c) for c in ("keras", "paper")]
    net = derive_net(spec)
    body = "\n\n\\bigskip\n".join(latex(s) for s in summaries) + "\n\n" + latex(net, environment="longtable")
    tex = atomic_write_text(out_dir / "e17_lenet5.tex", document(body, title="E17: LeNet-5",
                                                                 figure="e17_lenet5.png"))
    md = atomic_write_text(out_dir / "e17_lenet5.md",
                           "\n".join(summary_markdown(s) for s in summaries) + "\n"
                           + net_markdown(net))
    png = _figure(out_dir / "e17_lenet5.png", summaries,
                  ["Keras convention", "LeCun et al. (1998)"])
    return [tex, md, png]


def _figure(path: Path, summaries: list, labels: list[str]) -> Path:
    """Each layer's parameter count as a bar, one group of bars per summary (log scale)."""
    figure = Figure(figsize=(7, 2.8))
    axis = figure.subplots()
    names = [row.name for row in summaries[0].layers]
    width = 0.8 / len(summaries)
    for number, (summary, label) in enumerate(zip(summaries, labels, strict=True)):
        counts = {row.name: row.params for row in summary.layers}
        places = [i + (number - (len(summaries) - 1) / 2) * width for i in range(len(names))]
        bars = axis.bar(places, [max(counts.get(n, 0), 1) for n in names], width=width,
                        label=f"{label}: {summary.total:,} in all")  # 0 sits on the axis
        axis.bar_label(bars, labels=[f"{counts.get(n, 0):,}" for n in names], fontsize=6)
    axis.set_yscale("log")
    axis.set_ylim(1, 20 * max(row.params for summary in summaries for row in summary.layers))
    axis.set_xticks(range(len(names)), names, fontsize=8)
    axis.set_ylabel("parameters")
    axis.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    return save_figure(figure, path)


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
