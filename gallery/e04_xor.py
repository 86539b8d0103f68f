"""XOR: one perceptron never learns it, a two-layer network does (E4)

Minsky & Papert (1969): no line separates XOR's classes, so the perceptron rule (Hagan et al.,
*Neural Network Design*, ch. 4) keeps making errors in every pass. A 2-4-1 network with tanh
hidden units and a sigmoid output, trained by backpropagation on the binary cross-entropy
(``chainrule train mlp:2-4-1 --data xor --activation tanh``), classifies all four patterns.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from chainrule.cli.training_plots import draw_boundary, save_figure
from chainrule.derive.printing.latex import document
from chainrule.derive.spec import parse_spec
from chainrule.fsutil import atomic_write_text
from chainrule.train.data import load_dataset
from chainrule.train.perceptron import train_perceptron
from chainrule.train.session import TrainOptions, start

PASSES = 8
MLP = TrainOptions(epochs=2000, batch=4, lr=1.0, activation="tanh", seed=0)
SHOWN_EPOCHS = (1, 10, 100, 500, 1000, 2000)


def build(out_dir: Path) -> list[Path]:
    """Train both models and write the comparison as LaTeX, Markdown and a PNG."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = load_dataset("xor")
    perceptron = train_perceptron(parse_spec("perceptron:2"), data, epochs=PASSES, lr=1.0)
    session = start("mlp:2-4-1", "xor", MLP)
    history = session.run().history
    outputs = session.network.forward(session.batches.x_train)[:, 0]  # (4,) P(class 1)
    errors = perceptron.trace.errors_per_epoch()
    rows = [(s.epoch, s.loss, s.train_acc) for s in history if s.epoch in SHOWN_EPOCHS]
    tex = atomic_write_text(out_dir / "e04_xor.tex", document(
        _latex(errors, perceptron.trace.converged, rows, data.x_train, outputs),
        title="E4: XOR, a perceptron against a two-layer network",
        figure="e04_xor.png"))
    md = atomic_write_text(out_dir / "e04_xor.md",
                           _markdown(errors, perceptron.trace.converged, rows, data.x_train,
                                     outputs))
    png = _figure(out_dir / "e04_xor.png", perceptron, session, data)
    return [tex, md, png]


def _latex(errors, converged, rows, x, outputs) -> str:
    passes = " & ".join(str(i) for i in range(1, len(errors) + 1))
    counts = " & ".join(str(e) for e in errors)
    body = ["\\subsection*{Perceptron rule, $w_0 = [0, 0]$, $b_0 = 0$}",
            f"\\begin{{tabular}}{{l{'c' * len(errors)}}}",
            f"pass & {passes} \\\\", "\\hline", f"errors & {counts} \\\\", "\\end{tabular}",
            "", f"Converged: {'yes' if converged else 'no'} --- the errors never reach 0.", "",
            "\\subsection*{2-4-1 network (tanh, sigmoid output, cross-entropy, lr 1)}",
            "\\begin{tabular}{rrr}", "epoch & loss & accuracy \\\\", "\\hline"]
    body += [f"{e} & {loss:.5f} & {acc:.2f} \\\\" for e, loss, acc in rows]
    body += ["\\end{tabular}", "", "\\begin{tabular}{ccc}", "$p_1$ & $p_2$ & $a$ \\\\", "\\hline"]
    body += [f"{p[0]:g} & {p[1]:g} & {a:.4f} \\\\" for p, a in zip(x, outputs, strict=True)]
    body += ["\\end{tabular}"]
    return "\n".join(body)


def _markdown(errors, converged, rows, x, outputs) -> str:
    lines = ["# E4: XOR, a perceptron against a two-layer network", "",
             "## Perceptron rule (w₀ = [0, 0], b₀ = 0)", "",
             "| pass | " + " | ".join(str(i) for i in range(1, len(errors) + 1)) + " |",
             "|---" * (len(errors) + 1) + "|",
             "| errors | " + " | ".join(str(e) for e in errors) + " |", "",
             f"Converged: **{'yes' if converged else 'no'}**: the errors never reach 0.", "",
             "## 2-4-1 network (tanh, sigmoid output, cross-entropy, lr 1)", "",
             "| epoch | loss | accuracy |", "|---:|---:|---:|"]
    lines += [f"| {e} | {loss:.5f} | {acc:.2f} |" for e, loss, acc in rows]
    lines += ["", "| p₁ | p₂ | a |", "|---|---|---|"]
    lines += [f"| {p[0]:g} | {p[1]:g} | {a:.4f} |" for p, a in zip(x, outputs, strict=True)]
    return "\n".join(lines) + "\n"


def _figure(path: Path, perceptron, session, data) -> Path:
    figure = Figure(figsize=(9, 4))
    left, right = figure.subplots(1, 2)
    w = perceptron.model.params["layer0.weight"][0]
    b = float(perceptron.model.params["layer0.bias"][0])
    draw_boundary(left, perceptron.model.forward, data.x_train, data.y_train, legend=False)
    weights = ", ".join(f"{v:g}" for v in w)
    right_p = _n_right(perceptron.model.forward(data.x_train)[:, 0], data.y_train)
    left.set_title(f"perceptron, {perceptron.trace.epochs} passes\n"
                   f"{right_p} of 4 right: w = [{weights}], b = {b:g}")
    draw_boundary(right, session.network.forward, data.x_train.astype(np.float32), data.y_train)
    right_m = _n_right(session.network.forward(data.x_train.astype(np.float32))[:, 0],
                       data.y_train)
    right.set_title(f"mlp:2-4-1 (tanh), {MLP.epochs} epochs\n"
                    f"{right_m} of 4 right; lighter: less sure")
    figure.tight_layout()
    return save_figure(figure, path)


def _n_right(outputs: np.ndarray, labels: np.ndarray) -> int:
    """Patterns whose output (a perceptron's 0/1, or a sigmoid's P(class 1)) gives the label."""
    return int(np.sum((outputs > 0.5) == (labels == 1)))


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
