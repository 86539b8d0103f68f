"""Gradient descent on one weight, with the tangent at each step (E13)

J(w) = 1/(2m)·Σ (z_i − w·x_i)² on the data of seed 003 (x = 1..8, z = 2x + 4; the model has no
bias). dJ/dw is ``sympy.diff`` of J, built from the ``half_mse`` loss of chainrule's registry;
each iteration w ← w − ε·dJ/dw follows the tangent, and the iterates converge to the
least-squares w* = Σ x z / Σ x² (Goodfellow et al., *Deep Learning*, §4.3).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from chainrule.cli.training_plots import save_figure
from chainrule.derive.printing.latex import document, latex
from chainrule.derive.printing.latex_derivation import math_cell, step_table
from chainrule.fsutil import atomic_write_text
from chainrule.train.gradient_descent import gradient_descent

X = [1, 2, 3, 4, 5, 6, 7, 8]
Z = [6, 8, 10, 12, 14, 16, 18, 20]
W0, LR, STEPS = 0.0, 0.015, 15
TANGENTS = 6  # the first iterates; later ones crowd at w*
TANGENT_COLOUR = "#d95f02"


def build(out_dir: Path) -> list[Path]:
    """Iterate, then write J, dJ/dw and the iterates (LaTeX, Markdown) and the tangents (PNG)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    descent = gradient_descent(X, Z, w0=W0, lr=LR, steps=STEPS)
    rows = [(it.step, it.w, it.cost, it.slope) for it in descent.iterates]
    tex = atomic_write_text(out_dir / "e13_gradient_descent.tex", document("\n".join([
        step_table([("", math_cell(f"J(w) = {latex(descent.cost)}"), "the cost"),
                    ("", math_cell(f"\\frac{{dJ}}{{dw}} = {latex(descent.derivative)}"),
                     "sympy.diff")]), "",
        (f"Update $w \\leftarrow w - \\varepsilon \\frac{{dJ}}{{dw}}$ with $\\varepsilon = {LR}$, "
        f"$w_0 = {W0:g}$; least squares $w^* = {descent.least_squares:.6f}$."), "",
        "\\begin{tabular}{rrrr}", "step & $w$ & $J(w)$ & $dJ/dw$ \\\\", "\\hline",
        *[f"{s} & {w:.6f} & {c:.6f} & {g:.6f} \\\\" for s, w, c, g in rows], "\\end{tabular}"]),
        title="E13: gradient descent on one weight",
        figure="e13_gradient_descent.png"))
    md = atomic_write_text(out_dir / "e13_gradient_descent.md", "\n".join([
        "# E13: gradient descent on one weight", "", f"J(w) = {descent.cost}", "",
        f"dJ/dw = {descent.derivative} (sympy.diff)", "",
        f"ε = {LR}, w₀ = {W0:g}; least-squares w* = {descent.least_squares:.6f}", "",
        "| step | w | J(w) | dJ/dw |", "|---:|---:|---:|---:|",
        *[f"| {s} | {w:.6f} | {c:.6f} | {g:.6f} |" for s, w, c, g in rows]]) + "\n")
    png = _figure(out_dir / "e13_gradient_descent.png", descent)
    return [tex, md, png]


def _figure(path: Path, descent) -> Path:
    """J(w) in grey, and at each of the first iterates a bold tangent (slope dJ/dw) and its
    number; the step from w_k to w_k+1 is ε times that slope."""
    figure = Figure(figsize=(7, 4.4))
    ax = figure.subplots()
    grid = np.linspace(-0.2, 3.6, 200)
    ax.plot(grid, [_cost(descent, w) for w in grid], color="0.55", lw=1.5, label="J(w)")
    for k, it in enumerate(descent.iterates[:TANGENTS]):
        span = np.linspace(it.w - 0.45, it.w + 0.45, 2)
        ax.plot(span, it.cost + it.slope * (span - it.w), color=TANGENT_COLOUR, lw=2.4,
                solid_capstyle="round", zorder=3, label="tangent at wₖ" if k == 0 else None)
        ax.plot([it.w], [it.cost], "o", color="k", ms=5, zorder=4)
        ax.annotate(f"w{_subscript(k)}", (it.w, it.cost), textcoords="offset points",
                    xytext=(6, 6), fontsize=9, zorder=5)
    ax.axvline(descent.least_squares, color="tab:blue", ls="--", label="least squares w*")
    ax.set(xlabel="w", ylabel="J(w)", title=f"w ← w − {LR}·dJ/dw, with tangents",
           ylim=(0, _cost(descent, -0.2) * 1.05))
    ax.grid(True, alpha=0.3)
    ax.legend()
    figure.tight_layout()
    return save_figure(figure, path)


def _subscript(k: int) -> str:
    return str(k).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def _cost(descent, w: float) -> float:
    (symbol,) = descent.cost.free_symbols
    return float(descent.cost.subs(symbol, w))


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
