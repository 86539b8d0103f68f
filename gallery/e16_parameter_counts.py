"""Parameter counts with their formulas: a conv layer and a dense layer (E16)

Seed 003: a 5×5 convolution with 20 feature maps on a 28×28 image has 20·(5·5·1+1) = 520
parameters (weights shared across positions); a dense layer 784 → 30 has 30·(784+1) = 23,550.
"""

from __future__ import annotations

import sys
from pathlib import Path

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
                                     title="E16: parameter counts"))
    md = atomic_write_text(out_dir / "e16_parameter_counts.md",
                           "\n".join(summary_markdown(s) for s in summaries))
    return [tex, md]


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
