"""Mean squared error and cross-entropy, and their gradients (E9)

Regression uses MSE = 1/N Σ (tᵢ − sᵢ)², whose gradient is ∂MSE/∂sᵢ = −2(tᵢ − sᵢ)/N; classification
uses CE = −Σ tᵢ ln sᵢ, with ∂CE/∂sᵢ = −tᵢ/sᵢ, and through a softmax ∂CE/∂z = s − t. Each gradient is
derived step by step on N = 3 outputs, at t = [0, 1, 0], s = [0.228, 0.619, 0.153] (Nielsen, *NNDL*,
ch. 3; Bishop, *PRML*, §4.3.4).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import sympy as sp
from matplotlib.figure import Figure

from chainrule.cli.plots import save_figure
from chainrule.derive.parser import parse_expression, symbol
from chainrule.derive.printing.latex import document, latex
from chainrule.derive.printing.latex_derivation import math_cell, step_table
from chainrule.derive.printing.markdown import derivation_markdown
from chainrule.derive.rules import RULES, softmax, softmax_ce_gradient
from chainrule.derive.steps import derive_expression
from chainrule.fsutil import atomic_write_text

T = [0, 1, 0]
S = [0.228, 0.619, 0.153]
MSE = "((t0-s0)^2 + (t1-s1)^2 + (t2-s2)^2)/3"
CE = "-(t0*log(s0) + t1*log(s1) + t2*log(s2))"


def softmax_ce_proof(classes: int = 3) -> tuple[sp.Expr, sp.Expr]:
    """∂/∂z₀ of −Σ tᵢ ln softmax(z)ᵢ, and the same minus (s₀ − t₀) once Σ tᵢ = 1 (it is 0)."""
    z = sp.symbols(f"z0:{classes}", real=True)
    t = sp.symbols(f"t0:{classes}", real=True)
    s = softmax(z)
    loss = -sum(ti * sp.log(si) for ti, si in zip(t, s, strict=True))
    gradient = sp.diff(loss, z[0])
    identity = softmax_ce_gradient(s, t)[0]
    residual = sp.simplify((gradient - identity).subs(t[-1], 1 - sum(t[:-1])))
    return gradient, residual


def build(out_dir: Path) -> list[Path]:
    """Write both losses, their step-by-step gradients and the softmax-CE identity."""
    out_dir.mkdir(parents=True, exist_ok=True)
    values = {**{f"t{i}": float(v) for i, v in enumerate(T)},
              **{f"s{i}": v for i, v in enumerate(S)}}
    mse = derive_expression(parse_expression(MSE), symbol("s1"), values=values)
    ce = derive_expression(parse_expression(CE), symbol("s1"), values=values)
    gradient, residual = softmax_ce_proof()
    proof = step_table([
        ("", math_cell(r"\frac{\partial}{\partial z_0}\left(-\sum_i t_i \ln s_i\right) = "
                       + latex(gradient)), "differentiate"),
        ("", math_cell(r"= s_0 - t_0", indent=True),
         rf"uses $\sum_i t_i = 1$ (the difference is ${latex(residual)}$)")])
    body = ("\\subsection*{Regression: mean squared error}\n" + latex(mse, environment="longtable") +
            "\n\\subsection*{Classification: cross-entropy}\n" + latex(ce, environment="longtable") +
            "\n\\subsection*{Softmax with cross-entropy}\n" + proof +
            f"\nThe rule \\texttt{{softmax\\_ce}}: ${RULES['softmax_ce'].formula}$.\n")
    tex = atomic_write_text(out_dir / "e09_losses.tex",
                            document(body, title="E9: MSE and cross-entropy",
                                     figure="e09_losses.png"))
    softmax_line = (f"$\\frac{{\\partial H}}{{\\partial z_0}} = {latex(gradient)} = s_0 - t_0$ "
                    f"(when Σ tᵢ = 1; the difference simplifies to {residual})")
    md = atomic_write_text(out_dir / "e09_losses.md", "\n".join([
        "# E9: MSE and cross-entropy", "",
        f"t = {T}, s = {S}. ∂MSE/∂s₁ = −2(t₁ − s₁)/N; ∂CE/∂s₁ = −t₁/s₁; softmax + CE: s − t.", "",
        "## Regression: mean squared error", "", derivation_markdown(mse),
        "## Classification: cross-entropy", "", derivation_markdown(ce),
        "## Softmax with cross-entropy", "",
        softmax_line, ""]))
    png = _figure(out_dir / "e09_losses.png")
    return [tex, md, png]


def _figure(path: Path) -> Path:
    """The true class's term of each loss as its output s₁ goes from 0 to 1 (t₁ = 1, N = 3), and
    the derivatives derived above: −2(t₁ − s₁)/N and −t₁/s₁, with the example's s₁ marked."""
    figure = Figure(figsize=(7, 2.8))
    loss, slope = figure.subplots(1, 2)
    s = np.linspace(0.02, 1.0, 200)
    n = len(T)
    loss.plot(s, (1 - s) ** 2 / n, label="MSE term (t₁ − s₁)²/N")
    loss.plot(s, -np.log(s), label="CE term −t₁ ln s₁")
    slope.plot(s, -2 * (1 - s) / n, label="∂MSE/∂s₁ = −2(t₁ − s₁)/N")
    slope.plot(s, -1 / s, label="∂CE/∂s₁ = −t₁/s₁")
    slope.set_ylim(-6, 0.5)
    for axis, title in ((loss, "loss (t₁ = 1)"), (slope, "gradient")):
        axis.axvline(S[1], color="grey", linestyle=":", linewidth=1)
        axis.set_title(title, fontsize=10)
        axis.set_xlabel("s₁")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7, loc="upper right" if axis is loss else "lower right")
    figure.tight_layout()
    return save_figure(figure, path)


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
