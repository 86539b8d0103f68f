"""Regularisation in the gradient: L2, L1 and inverted dropout (E21)

Goodfellow et al., *Deep Learning*, §7.1 and Nielsen, ch. 3: the penalty λ/2·‖w‖² adds λw to
∂C/∂w, so the update becomes w → (1 − ηλ)w − η ∂C₀/∂w (weight decay); λ‖w‖₁ adds λ·sign(w).
Inverted dropout (Srivastava et al. 2014) multiplies by a 0/1 mask and divides by the keep
probability p, forward and backward. All derived by SymPy from the penalty and the layer.
"""

from __future__ import annotations

import sys
from pathlib import Path

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
                                     title="E21: regularisation"))
    sections = [f"## {layer.title}\n\n*{layer.citation}*\n\n"
                + "\n\n".join(equation_markdown(eq) for eq in layer.equations)
                for layer in LAYERS]
    md = atomic_write_text(out_dir / "e21_regularisation.md",
                           "# E21: regularisation\n\n" + "\n\n".join(sections) + "\n")
    return [tex, md]


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
