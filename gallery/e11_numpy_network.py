"""A network from scratch on three inputs: 3-4-1 sigmoid, MSE, 2000 epochs (E11)

The NumPy network of seed 001 (after Trask, "A Neural Network in 11 lines of Python"):
X = [[0,0,1],[0,1,1],[1,0,1],[1,1,1]], y = [0,1,1,0] (XOR of the first two columns), a 3-4-1
network with sigmoid units, mean squared error and full-batch gradient descent. The slide's loss
falls from 0.3246 to 0.00127, and a NumPy replay of its code over 200 random starts has a median of
0.340 at the start and 0.00105 at iteration 1000. chainrule reproduces that with
``chainrule train mlp:3-4-1 --data xor3 --activation sigmoid --loss mse --batch 4 --lr 4
--schedule constant --epochs 2000``: a constant learning rate of 4 (the cosine schedule's decay and
lr 1 leave the loss at 0.007), which with seed 0 goes from 0.26 to 0.0008 by epoch 1000 and
0.0003 by epoch 2000. The starting loss depends on the random initial weights.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from chainrule.cli.training_plots import plot_training
from chainrule.derive.printing.latex import document
from chainrule.derive.printing.latex_layers import text_to_latex
from chainrule.fsutil import atomic_write_text
from chainrule.train.loop import EpochStats
from chainrule.train.session import TrainOptions, start

OPTIONS = TrainOptions(epochs=2000, batch=4, lr=4.0, schedule="constant", activation="sigmoid",
                       loss="mse", seed=0)
COMMAND = ("chainrule train mlp:3-4-1 --data xor3 --activation sigmoid --loss mse --batch 4 "
           "--lr 4 --schedule constant --epochs 2000")
LECTURE = ("the slide's loss goes from 0.3246 to 0.00127; a NumPy replay of its code over 200 random "
           "starts has a median of 0.340 at the start and 0.00105 at iteration 1000")
SHOWN_EPOCHS = (1, 10, 100, 500, 1000, 1500, 2000)
ONE_CURVE = "the test split of xor3 is its 4 training patterns"


def build(out_dir: Path) -> list[Path]:
    """Train, then write the loss table and the final outputs as LaTeX and Markdown, and the curve."""
    out_dir.mkdir(parents=True, exist_ok=True)
    session = start("mlp:3-4-1", "xor3", OPTIONS)
    history = session.run().history
    x = session.batches.x_train  # (4, 3)
    outputs = session.network.forward(x)[:, 0]  # (4,)
    rows = [(s.epoch, s.loss) for s in history if s.epoch in SHOWN_EPOCHS]
    targets = session.dataset.y_train
    tex_rows = [f"{e} & {loss:.6f} \\\\" for e, loss in rows]
    out_rows = [f"{int(p[0])}{int(p[1])}{int(p[2])} & {t} & {a:.4f} \\\\"
                for p, t, a in zip(x, targets, outputs, strict=True)]
    at_1000 = next(loss for epoch, loss in rows if epoch == 1000)
    summary = (f"With seed 0 the loss goes from {rows[0][1]:.4f} (epoch 1) to {at_1000:.5f} at epoch "
               f"1000 and {rows[-1][1]:.5f} at epoch 2000; {LECTURE}. Because {ONE_CURVE}, "
               "the figure draws the training loss and accuracy only.")
    tex = atomic_write_text(out_dir / "e11_numpy_network.tex", document("\n".join([
        ("Network 3-4-1, $\\sigma$ everywhere, loss $\\frac{1}{N}\\sum (t - a)^2$, "
         "full batch of the 4 patterns, constant $\\eta = 4$, 2000 epochs:"), "",
        f"\\texttt{{{text_to_latex(COMMAND)}}}", "", summary, "",
        "\\begin{tabular}[t]{rr}", "epoch & loss \\\\", "\\hline", *tex_rows, "\\end{tabular}",
        "\\qquad", "\\begin{tabular}[t]{ccc}", "$x$ & $t$ & $a$ \\\\", "\\hline", *out_rows,
        "\\end{tabular}"]), title="E11: a 3-4-1 network from scratch",
        figure="e11_numpy_network.png"))
    md = atomic_write_text(out_dir / "e11_numpy_network.md", "\n".join([
        "# E11: a 3-4-1 network from scratch", "",
        "sigmoid units, MSE, full batch, constant lr 4, 2000 epochs (seed 0):", "",
        f"    {COMMAND}", "", summary, "",
        "| epoch | loss |", "|---:|---:|", *[f"| {e} | {loss:.6f} |" for e, loss in rows], "",
        "| x | t | a |", "|---|---|---|",
        *[f"| {p.astype(int).tolist()} | {t} | {a:.4f} |"
          for p, t, a in zip(x, targets, outputs, strict=True)]]) + "\n")
    png = plot_training(out_dir / "e11_numpy_network.png", _train_only(history),
                        title=("mlp:3-4-1 on xor3 (sigmoid, MSE, constant lr 4)\n"
                               f"{ONE_CURVE}: one curve each"))
    return [tex, md, png]


def _train_only(history: list[EpochStats]) -> list[EpochStats]:
    """The history without its test series, which repeat the training set's (one update later)."""
    return [replace(s, test_loss=None, test_acc=None) for s in history]


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
