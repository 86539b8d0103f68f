"""Activation functions, their derivatives by named identity, and their plots (E14)

σ' = σ(1 − σ), tanh' = 1 − tanh², ReLU' = step (0 at 0), leaky ReLU max(0.1z, z) has slope 1 or
0.1, ELU' = 1 or ELU + α, softplus' = σ, maxout max(z₁, z₂) passes the gradient to its larger input,
and the softmax Jacobian is diag(s) − ssᵀ. Each derivative is derived step by step and plotted
beside its function (Goodfellow et al., *Deep Learning*, §6.3; CS231n notes, "Neural Networks 1").
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import sympy as sp
from matplotlib.figure import Figure

from chainrule.derive.functions import elementary
from chainrule.derive.parser import parse_expression, symbol
from chainrule.derive.printing.latex import document, latex
from chainrule.derive.printing.markdown import derivation_markdown
from chainrule.derive.rules import RULES, softmax, softmax_jacobian
from chainrule.derive.steps import derive_expression
from chainrule.fsutil import atomic_write_text

ACTIVATIONS = {  # title → expression of z, as a user would type it
    "sigmoid": "sigmoid(z)",
    "tanh": "tanh(z)",
    "ReLU": "relu(z)",
    "leaky ReLU max(0.1z, z)": "leaky_relu(z, 0.1)",
    "ELU": "elu(z)",
    "softplus": "softplus(z)",
}
MAXOUT = "max(z1, z2)"


def derivations() -> dict[str, object]:
    """Each activation differentiated with respect to z, step by step."""
    z = symbol("z")
    return {title: derive_expression(parse_expression(text), z)
            for title, text in ACTIVATIONS.items()}


def softmax_check(classes: int = 3) -> tuple[sp.Matrix, sp.Matrix]:
    """The softmax Jacobian by sympy.diff, and its difference from diag(s) − ssᵀ (zero)."""
    z = sp.symbols(f"z0:{classes}", real=True)
    s = softmax(z)
    jacobian = sp.Matrix(s).jacobian(z)
    return jacobian, sp.simplify(jacobian - softmax_jacobian(s))


def plot(found: dict[str, object], path: Path) -> Path:
    """A grid of g(z) and g'(z), one panel per activation."""
    z = symbol("z")
    grid = np.linspace(-4.0, 4.0, 401)
    figure = Figure(figsize=(11, 6.5))  # no pyplot: no global state, no GUI backend
    axes = figure.subplots(2, 3)
    for axis, (title, derivation) in zip(axes.flat, found.items(), strict=True):
        g = sp.lambdify(z, elementary(derivation.expression), "numpy")
        dg = sp.lambdify(z, elementary(derivation.result), "numpy")
        axis.plot(grid, np.broadcast_to(g(grid), grid.shape), label="g(z)")
        axis.plot(grid, np.broadcast_to(dg(grid), grid.shape), "--", label="g'(z)")
        axis.set_title(title)
        axis.axhline(0, color="grey", linewidth=0.5)
        axis.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=80, metadata={"Software": None})
    return path


def build(out_dir: Path) -> list[Path]:
    """Write each derivation (LaTeX, Markdown), the maxout and softmax identities, and a plot."""
    out_dir.mkdir(parents=True, exist_ok=True)
    found = derivations()
    maxout = derive_expression(parse_expression(MAXOUT), symbol("z1"))
    jacobian, residual = softmax_check()
    tex_parts, md_parts = [], ["# E14: activations and their derivatives", ""]
    for title, derivation in [*found.items(), ("maxout max(z1, z2)", maxout)]:
        rules = ", ".join(sorted({s.rule for s in derivation.steps} - {"simplify"}))
        tex_parts.append(f"\\subsection*{{{title}}}\nRules: \\texttt{{{rules.replace('_', '-')}}}"
                         f"\n{latex(derivation, environment='longtable')}\n")
        md_parts += [f"## {title}", "", derivation_markdown(derivation)]
    softmax_tex = (f"$\\frac{{\\partial s_i}}{{\\partial z_j}} = {latex(jacobian[0, 0])}$ "
                   f"(entry 0,0); ${RULES['softmax_jacobian'].formula}$; the difference on three "
                   f"classes simplifies to ${latex(residual)}$.\n")
    tex_parts.append("\\subsection*{softmax}\n" + softmax_tex)
    md_parts += ["## softmax", "", softmax_tex]
    tex = atomic_write_text(out_dir / "e14_activations.tex",
                            document("\n".join(tex_parts), title="E14: activations",
                                     figure="e14_activations.png"))
    md = atomic_write_text(out_dir / "e14_activations.md",
                           "\n".join(md_parts) + "\n![g and g'](e14_activations.png)\n")
    png = plot(found, out_dir / "e14_activations.png")
    return [tex, md, png]


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
