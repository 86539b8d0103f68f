"""The "hello world" of neural networks: one linear neuron learns Y = 3X + 1 (E12)

Seed 002 (Moroney's Coursera course): X = [-1, 0, 1, 2, 3, 4], Y = [-2, 1, 4, 7, 10, 13]. One
linear neuron a = w·x + b, mean squared error, gradient descent on the whole set
(``chainrule train linear:1 --data line --epochs 500 --batch 6 --lr 0.05``): w → 3 and b → 1.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from chainrule.cli.training_plots import save_figure
from chainrule.derive.printing.latex import document
from chainrule.fsutil import atomic_write_text
from chainrule.train.session import TrainOptions, start

OPTIONS = TrainOptions(epochs=500, batch=6, lr=0.05, seed=0)
SHOWN_EPOCHS = (1, 2, 5, 10, 50, 100, 200, 500)
LINE_EPOCHS = (1, 2, 3)  # by epoch 5 the line lies on the final one, to the width of a line
MARKED_EPOCHS = (1, 10, 50, 500)


class WeightLog:
    """Callbacks that record (epoch, w, b, loss) after each epoch."""

    def __init__(self, params: dict[str, np.ndarray]) -> None:
        self.params, self.rows = params, []

    def on_epoch_start(self, epoch: int, n_batches: int, done: int) -> None:
        pass

    def on_batch_end(self, *args: object) -> None:
        pass

    def on_epoch_end(self, stats) -> None:
        self.rows.append((stats.epoch, float(self.params["layer0.weight"][0, 0]),
                          float(self.params["layer0.bias"][0]), stats.loss))


def build(out_dir: Path) -> list[Path]:
    """Train the neuron; write w, b and the loss per epoch (LaTeX, Markdown) and the fit (PNG)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    session = start("linear:1", "line", OPTIONS)
    log = WeightLog(session.network.params)
    session.run(callbacks=log)
    rows = [r for r in log.rows if r[0] in SHOWN_EPOCHS]
    tex = atomic_write_text(out_dir / "e12_hello_world.tex", document("\n".join([
        "One linear neuron $a = w x + b$, loss $\\frac{1}{N}\\sum (y - a)^2$, $\\eta = 0.05$.",
        "", "\\begin{tabular}{rrrr}", "epoch & $w$ & $b$ & loss \\\\", "\\hline",
        *[f"{e} & {w:.4f} & {b:.4f} & {loss:.3g} \\\\" for e, w, b, loss in rows],
        "\\end{tabular}"]), title="E12: hello world, Y = 3X + 1",
        figure="e12_hello_world.png"))
    md = atomic_write_text(out_dir / "e12_hello_world.md", "\n".join([
        "# E12: hello world, Y = 3X + 1", "", "One linear neuron a = w·x + b, MSE, lr 0.05.", "",
        "| epoch | w | b | loss |", "|---:|---:|---:|---:|",
        *[f"| {e} | {w:.4f} | {b:.4f} | {loss:.3g} |" for e, w, b, loss in rows]]) + "\n")
    png = _figure(out_dir / "e12_hello_world.png", session, log.rows)
    return [tex, md, png]


def _figure(path: Path, session, rows) -> Path:
    """The line at the first epochs and the last (later lines lie on the last one), w and b
    against a logarithmic epoch axis (where epochs 10 and 50 still differ), and the loss."""
    figure = Figure(figsize=(13, 3.9))
    fit, params, curve = figure.subplots(1, 3)
    x, y = session.dataset.x_train[:, 0], session.dataset.y_train[:, 0]
    grid = np.linspace(-1.5, 4.5, 50, dtype=np.float32)
    fit.scatter(x, y, color="k", zorder=4, label="data")
    for epoch, colour in zip(LINE_EPOCHS, ("#c6dbef", "#6baed6", "#2171b5"), strict=True):
        _, w, b, _ = rows[epoch - 1]
        fit.plot(grid, w * grid + b, color=colour, lw=2, label=f"epoch {epoch}")
    fit.plot(grid, session.network.forward(grid[:, None])[:, 0], color="tab:red", ls="--",
             lw=1.5, label=f"epoch {rows[-1][0]} (from 5 on, on this line)", zorder=3)
    fit.set(xlabel="X", ylabel="Y", title="the neuron's line")
    fit.legend(fontsize=8)
    epochs = [r[0] for r in rows]
    for index, name, target, colour in ((1, "w", 3.0, "tab:blue"), (2, "b", 1.0, "tab:green")):
        params.plot(epochs, [r[index] for r in rows], color=colour, lw=2, label=name)
        params.axhline(target, color=colour, ls=":", lw=1)
    marked = [r for r in rows if r[0] in MARKED_EPOCHS]
    for index in (1, 2):
        params.plot([r[0] for r in marked], [r[index] for r in marked], "o", color="k", ms=3)
    for epoch, w, _, _ in marked:
        params.annotate(str(epoch), (epoch, w), textcoords="offset points", xytext=(0, 5),
                        ha="center", fontsize=7)
    params.set(xscale="log", xlabel="epoch (log scale)", ylabel="value", ylim=(0.3, 3.4),
               title="w → 3 and b → 1 (dotted targets)")
    params.legend(fontsize=8, loc="center right")
    curve.plot(epochs, [r[3] for r in rows], color="tab:red")
    curve.set(xlabel="epoch", ylabel="MSE", yscale="log", title="loss")
    curve.annotate("float32 rounding floor", (epochs[-1], rows[-1][3]), textcoords="offset points",
                   xytext=(0, 8), ha="right", fontsize=8)
    for ax in (params, curve):
        ax.grid(True, alpha=0.3)
    figure.tight_layout()
    return save_figure(figure, path)


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
