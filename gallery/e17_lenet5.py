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
    tex = atomic_write_text(out_dir / "e17_lenet5.tex", document(body, title="E17: LeNet-5"))
    md = atomic_write_text(out_dir / "e17_lenet5.md",
                           "\n".join(summary_markdown(s) for s in summaries) + "\n"
                           + net_markdown(net))
    return [tex, md]


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
