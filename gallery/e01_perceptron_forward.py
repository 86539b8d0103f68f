"""A perceptron's forward pass through the sigmoid: σ(3.2) = 0.9608 (E1)

The lecture's neuron sums its weighted inputs to z = 3.2 and applies the activation g = σ:
output = g(3.2) = σ(3.2) = 1/(1 + e^{−3.2}) = 0.9608 (the slide rounds to 0.96). The derivation
also gives σ'(3.2) = σ(3.2)(1 − σ(3.2)), the factor backpropagation will need (Nielsen, *NNDL*,
ch. 1; Goodfellow et al., *Deep Learning*, §6.3.2).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from chainrule.cli.plots import save_figure
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
                            document(body, title="E1: a perceptron's forward pass",
                                     figure="e01_sigmoid.png"))
    md = atomic_write_text(out_dir / "e01_perceptron_forward.md",
                           "# E1: a perceptron's forward pass\n\n" + summary + "\n\n"
                           + derivation_markdown(derivation))
    assert derivation.value is not None and derivation.derivative_value is not None
    png = _figure(out_dir / "e01_sigmoid.png", derivation.value, derivation.derivative_value)
    return [tex, md, png]


def _figure(path: Path, value: float, slope: float) -> Path:
    """σ(z) with the point (3.2, σ(3.2)) and the tangent of slope σ'(3.2)."""
    figure = Figure(figsize=(6.5, 3))
    axis = figure.subplots()
    grid = np.linspace(-6.0, 6.0, 241)
    axis.plot(grid, 1 / (1 + np.exp(-grid)), label="g(z) = σ(z)")
    span = np.array([WEIGHTED_SUM - 2.5, WEIGHTED_SUM + 2.5])
    axis.plot(span, value + slope * (span - WEIGHTED_SUM), "--",
              label=f"tangent at z = {WEIGHTED_SUM}: slope σ'(z) = {slope:.4f}")
    axis.plot([WEIGHTED_SUM], [value], "o", color="tab:red")
    axis.annotate(f"σ({WEIGHTED_SUM}) = {value:.4f}", (WEIGHTED_SUM, value),
                  textcoords="offset points", xytext=(-110, -4))
    axis.set_xlabel("z")
    axis.grid(alpha=0.3)
    axis.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    return save_figure(figure, path)


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
