"""The four backpropagation equations and the mini-batch update, derived (E10)

Nielsen, *Neural Networks and Deep Learning*, ch. 2: BP1 δᴸ = ∇ₐC ⊙ σ'(zᴸ), BP2
δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ'(zˡ), BP3 ∂C/∂bˡ = δˡ, BP4 ∂C/∂wˡ = δˡ (aˡ⁻¹)ᵀ, and the update
w → w − (η/m) Σₓ δˣ (aˣ)ᵀ. Each is derived by SymPy from the layer written in index notation (never
typed), then evaluated on a small 4-3-2 sigmoid network and compared with central differences.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from chainrule.cli.plots import save_figure
from chainrule.derive.layers import dense_layer, evaluate, output_error_for_loss
from chainrule.derive.layers.dense import j, k
from chainrule.derive.net import derive_net
from chainrule.derive.printing.latex import document, latex
from chainrule.derive.printing.layers_markdown import net_markdown
from chainrule.fsutil import atomic_write_text

MODEL = "mlp:4-3-2"


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def central(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[idx] = h
        grad[idx] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


def checks() -> list[tuple[str, float]]:
    """Relative error of each derived equation against central differences, seed 0."""
    rng = np.random.default_rng(0)
    w1, b1, w2, b2 = rng.normal(size=(3, 4)), rng.normal(size=3), rng.normal(size=(2, 3)), \
        rng.normal(size=2)
    x, t = rng.normal(size=4), np.array([0.0, 1.0])
    z1 = w1 @ x + b1
    z2 = w2 @ sigmoid(z1) + b2

    def cost_z1(z: np.ndarray) -> float:
        return float(0.5 * np.sum((sigmoid(w2 @ sigmoid(z) + b2) - t) ** 2))

    delta2 = evaluate(output_error_for_loss("sigmoid", "half_mse").rhs, [(j, 2)],
                      {"z": z2, "a": sigmoid(z2), "t": t})
    hidden = dense_layer("sigmoid")
    delta1 = evaluate(hidden.equation("BP2").rhs, [(j, 3)],
                      {"z": z1, "w_next": w2, "delta_next": delta2, "N": 2})
    db = evaluate(hidden.equation("BP3").rhs, [(j, 3)], {"delta": delta1})
    dw = evaluate(hidden.equation("BP4").rhs, [(j, 3), (k, 4)], {"delta": delta1, "a_prev": x})
    cost_z2 = lambda z: float(0.5 * np.sum((sigmoid(z) - t) ** 2))
    pairs = [("BP1", delta2, central(cost_z2, z2)), ("BP2", delta1, central(cost_z1, z1)),
             ("BP3", db, central(lambda b: cost_z1(w1 @ x + b), b1)),
             ("BP4", dw, central(lambda w: cost_z1(w @ x + b1), w1))]
    return [(name, float(np.max(np.abs(a - b)) / np.max(np.abs(a) + np.abs(b))))
            for name, a, b in pairs]


def build(out_dir: Path) -> list[Path]:
    """Write the derivation and the numeric check as LaTeX and Markdown."""
    out_dir.mkdir(parents=True, exist_ok=True)
    net = derive_net(MODEL, activation="sigmoid", loss="half_mse")
    results = checks()
    tex_rows = " \\\\\n".join(f"{name} & {err:.1e}" for name, err in results)
    check_tex = ("\\section*{Check against central differences (seed 0)}\n"
                 "\\begin{tabular}{lr}\nequation & relative error \\\\\n\\hline\n"
                 f"{tex_rows}\n\\end{{tabular}}\n")
    tex = atomic_write_text(out_dir / "e10_backprop_equations.tex",
                            document(latex(net, environment="longtable") + "\n\n" + check_tex,
                                     title="E10: the backpropagation equations",
                                     figure="e10_network.png"))
    md_rows = "\n".join(f"| {name} | {err:.1e} |" for name, err in results)
    md = atomic_write_text(out_dir / "e10_backprop_equations.md",
                           net_markdown(net) + "\n## Check against central differences (seed 0)"
                           f"\n\n| equation | relative error |\n|---|---:|\n{md_rows}\n")
    png = _figure(out_dir / "e10_network.png", [int(n) for n in MODEL.split(":")[1].split("-")])
    return [tex, md, png]


def _figure(path: Path, sizes: list[int]) -> Path:
    """The network's units and weights, and where each equation acts: forward left to right,
    the errors δ right to left (BP1 at the output, BP2 for the hidden layer)."""
    figure = Figure(figsize=(6.5, 2.9))
    axis = figure.subplots()
    places = [[(column, row - (size - 1) / 2) for row in range(size)]
              for column, size in enumerate(sizes)]
    for left, right in itertools.pairwise(places):
        for x0, y0 in left:
            for x1, y1 in right:
                axis.plot([x0, x1], [y0, y1], color="grey", linewidth=0.7, zorder=1)
    names = ["input x", "hidden: σ, δ by BP2", "output: σ, δ by BP1"]
    for column, (units, name) in enumerate(zip(places, names, strict=True)):
        axis.scatter([x for x, _ in units], [y for _, y in units], s=380, color="white",
                     edgecolors="black", zorder=2)
        axis.text(column, -max(sizes) / 2 - 0.3, f"{name} ({len(units)})", ha="center",
                  fontsize=8)
    for column in range(len(sizes) - 1):
        axis.text(column + 0.5, max(sizes) / 2 + 0.05, f"w{column + 1}, b{column + 1}: BP3, BP4",
                  ha="center", fontsize=8)
    axis.annotate("", xy=(2.2, max(sizes) / 2 + 0.45), xytext=(-0.2, max(sizes) / 2 + 0.45),
                  arrowprops={"arrowstyle": "->", "color": "tab:green"})
    axis.text(1, max(sizes) / 2 + 0.55, "forward: z = w a + b, a = σ(z)", ha="center",
              fontsize=8, color="tab:green")
    axis.annotate("", xy=(-0.2, -max(sizes) / 2 - 0.65), xytext=(2.2, -max(sizes) / 2 - 0.65),
                  arrowprops={"arrowstyle": "->", "color": "tab:red"})
    axis.text(1, -max(sizes) / 2 - 0.95, "backward: δ from the output to the input", ha="center",
              fontsize=8, color="tab:red")
    axis.set_xlim(-0.5, len(sizes) - 0.5)
    axis.set_ylim(-max(sizes) / 2 - 1.1, max(sizes) / 2 + 0.8)
    axis.axis("off")
    figure.tight_layout()
    return save_figure(figure, path)


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
