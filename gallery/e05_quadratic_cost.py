"""The quadratic cost of a linear neuron over a data set (E5)

Nielsen, *Neural Networks and Deep Learning*, ch. 1: C(w, b) = 1/(2n)·Σ(t − a)², data t = 2x + 4
for x = 1..8, model a = w·x + b with w = 3, b = 2. The squared errors sum to 92, so
C = 92/16 = 5.75. The numbers come from the engine's neuron (linear, half-MSE, averaged over the
batch), and so do the gradients ∂C/∂w and ∂C/∂b.
"""

from __future__ import annotations

import sys
from pathlib import Path

from matplotlib.figure import Figure

from chainrule.cli.plots import save_figure
from chainrule.derive.neuron import derive_neuron
from chainrule.derive.printing.latex import document
from chainrule.fsutil import atomic_write_text

X = [float(x) for x in range(1, 9)]
T = [2 * x + 4 for x in X]
W, B = 3.0, 2.0


def build(out_dir: Path) -> list[Path]:
    """Write the table of t, a, (t − a)² and the cost as LaTeX and Markdown."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = derive_neuron("linear", "half_mse", {"x": X, "w": W, "b": B, "t": T})
    outputs = report.forward["a"]
    squares = [2 * half for half in report.forward["L_samples"]]  # ½(t − a)² per sample
    n, cost = len(X), report.forward["L"]
    rows = list(zip(X, T, outputs, squares, strict=True))
    tex_rows = " \\\\\n".join(f"{x:g} & {t:g} & {a:g} & {sq:g}" for x, t, a, sq in rows)
    body = ("\\begin{tabular}{rrrr}\n$x$ & $t = 2x + 4$ & $a = 3x + 2$ & $(t - a)^2$ \\\\\n"
            f"\\hline\n{tex_rows} \\\\\n\\hline\n & & $\\sum$ & {sum(squares):g}\n"
            "\\end{tabular}\n\n"
            f"\\[ C(w, b) = \\frac{{1}}{{2n}} \\sum_{{k=1}}^{{n}} (t_k - a_k)^2 = "
            f"\\frac{{{sum(squares):g}}}{{{2 * n}}} = {cost:g} \\]\n"
            f"\\[ \\frac{{\\partial C}}{{\\partial w}} = {report.gradients['w'][0]:g}, \\quad "
            f"\\frac{{\\partial C}}{{\\partial b}} = {report.gradients['b']:g} \\]\n")
    tex = atomic_write_text(out_dir / "e05_quadratic_cost.tex",
                            document(body, title="E5: the quadratic cost",
                                     figure="e05_quadratic_cost.png"))
    md_rows = "\n".join(f"| {x:g} | {t:g} | {a:g} | {sq:g} |" for x, t, a, sq in rows)
    md = atomic_write_text(out_dir / "e05_quadratic_cost.md",
                           "# E5: the quadratic cost\n\n| x | t = 2x + 4 | a = 3x + 2 | (t − a)² |\n"
                           f"|---|---|---|---|\n{md_rows}\n|  |  | Σ | {sum(squares):g} |\n\n"
                           f"C(w, b) = 1/(2n)·Σ(t − a)² = {sum(squares):g}/{2 * n} = **{cost:g}**\n\n"
                           f"∂C/∂w = {report.gradients['w'][0]:g}, "
                           f"∂C/∂b = {report.gradients['b']:g}\n")
    png = _figure(out_dir / "e05_quadratic_cost.png", outputs)
    return [tex, md, png]


def _figure(path: Path, outputs: list[float]) -> Path:
    """The data t = 2x + 4, the model's line a = 3x + 2, and each error t − a."""
    figure = Figure(figsize=(6.5, 3))
    axis = figure.subplots()
    axis.plot(X, T, "o", color="black", label="data t = 2x + 4")
    axis.plot(X, outputs, "-", color="tab:blue", label=f"model a = {W:g}x + {B:g}")
    for x, t, a in zip(X, T, outputs, strict=True):
        axis.plot([x, x], [t, a], color="tab:red", linewidth=1)
    axis.plot([], [], color="tab:red", label="error t − a")
    axis.set_xlabel("x")
    axis.grid(alpha=0.3)
    axis.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    return save_figure(figure, path)


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
