"""Regularisation in the gradient: L2, L1 and inverted dropout (E21)

Goodfellow et al., *Deep Learning*, §7.1 and Nielsen, ch. 3: the penalty λ/2·‖w‖² adds λw to
∂C/∂w, so the update becomes w → (1 − ηλ)w − η ∂C₀/∂w (weight decay); λ‖w‖₁ adds λ·sign(w).
Inverted dropout (Srivastava et al. 2014) multiplies by a 0/1 mask and divides by the keep
probability p, forward and backward. All derived by SymPy from the penalty and the layer.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from chainrule.cli.plots import save_figure
from chainrule.derive.layers import dropout_layer, regularised_layer
from chainrule.derive.printing.latex import document, latex
from chainrule.derive.printing.layers_markdown import equation_markdown
from chainrule.fsutil import atomic_write_text

LAYERS = (regularised_layer("l2"), regularised_layer("l1"), dropout_layer())


def build(out_dir: Path) -> list[Path]:
    """Write the penalty and dropout derivations as LaTeX and Markdown."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tex = atomic_write_text(out_dir / "e21_regularisation.tex",
                            document("\n\n".join(latex(layer, environment="longtable") for layer in LAYERS),
                                     title="E21: regularisation", figure="e21_penalties.png"))
    sections = [f"## {layer.title}\n\n*{layer.citation}*\n\n"
                + "\n\n".join(equation_markdown(eq) for eq in layer.equations)
                for layer in LAYERS]
    md = atomic_write_text(out_dir / "e21_regularisation.md",
                           "# E21: regularisation\n\n" + "\n\n".join(sections) + "\n")
    png = _figure(out_dir / "e21_penalties.png")
    return [tex, md, png]


def _figure(path: Path) -> Path:
    """The two penalties of one weight (λ = 1) and what each adds to ∂C/∂w."""
    figure = Figure(figsize=(7, 2.8))
    penalty, gradient = figure.subplots(1, 2)
    w = np.linspace(-2.0, 2.0, 401)
    penalty.plot(w, w**2 / 2, label="L2: λw²/2")
    penalty.plot(w, np.abs(w), label="L1: λ|w|")
    gradient.plot(w, w, label="L2 adds λw")
    gradient.plot(w, np.sign(w), label="L1 adds λ·sign(w)")
    for axis, title in ((penalty, "penalty (λ = 1)"), (gradient, "added to ∂C/∂w")):
        axis.set_title(title, fontsize=10)
        axis.set_xlabel("w")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8, loc="upper center")
    figure.tight_layout()
    return save_figure(figure, path)


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
