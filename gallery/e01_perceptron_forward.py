"""A perceptron's forward pass through the sigmoid: σ(3.2) = 0.9608 (E1)

The lecture's neuron sums its weighted inputs to z = 3.2 and applies the activation g = σ:
output = g(3.2) = σ(3.2) = 1/(1 + e^{−3.2}) = 0.9608 (the slide rounds to 0.96). The derivation
also gives σ'(3.2) = σ(3.2)(1 − σ(3.2)), the factor backpropagation will need (Nielsen, *NNDL*,
ch. 1; Goodfellow et al., *Deep Learning*, §6.3.2).
"""

from __future__ import annotations

import sys
from pathlib import Path

from chainrule.derive.parser import parse_expression, symbol
from chainrule.derive.printing.latex import document, latex
from chainrule.derive.printing.markdown import derivation_markdown
from chainrule.derive.printing.text import number_text
from chainrule.derive.steps import derive_expression
from chainrule.fsutil import atomic_write_text

WEIGHTED_SUM = 3.2
SLIDE_VALUE = 0.96


def build(out_dir: Path) -> list[Path]:
    """Write the forward pass and σ' at z = 3.2 as LaTeX and Markdown."""
    out_dir.mkdir(parents=True, exist_ok=True)
    derivation = derive_expression(parse_expression("sigmoid(z)"), symbol("z"),
                                   values={"z": WEIGHTED_SUM})
    output = number_text(derivation.value)
    summary = (f"output = g(3.2) = σ(3.2) = 1/(1 + e^(−3.2)) = {output} "
               f"(slide: {SLIDE_VALUE})")
    body = (f"The weighted sum is $z = {WEIGHTED_SUM}$ and the activation is "
            f"$g = \\sigma$. Output $= {output}$ (slide: ${SLIDE_VALUE}$).\n\n" + latex(derivation, environment="longtable"))
    tex = atomic_write_text(out_dir / "e01_perceptron_forward.tex",
                            document(body, title="E1: a perceptron's forward pass"))
    md = atomic_write_text(out_dir / "e01_perceptron_forward.md",
                           "# E1: a perceptron's forward pass\n\n" + summary + "\n\n"
                           + derivation_markdown(derivation))
    return [tex, md]


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
