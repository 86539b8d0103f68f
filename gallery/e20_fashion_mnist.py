"""Fashion-MNIST from the command line: a recorded full-data run (E20)

Seed 002's Keras model, Flatten → Dense(128, ReLU) → Dense(10, softmax), is chainrule's
mlp:784-128-10 (Xiao, Rasul & Vollgraf, 2017). This page draws a real run on all 60,000 training
images, evaluated on the 10,000 test images, recorded once (about 20 s on one core) by::

    chainrule train mlp:784-128-10 --data fashion-mnist --epochs 10 --batch 64 --lr 0.1 \\
        --out fm.npz --format json > gallery/data/e20_fashion_mnist_train.json
    chainrule evaluate fm.npz --data fashion-mnist --format json \\
        > gallery/data/e20_fashion_mnist_evaluate.json

(seed 0, the default; NUMBA_NUM_THREADS=1). The page reads those two JSON files, so it builds in
a second, needs no data set and never retrains; rerunning the commands gives the same numbers.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from chainrule.cli.training_plots import draw_curves, save_figure
from chainrule.derive.printing.latex import document
from chainrule.derive.printing.latex_layers import text_to_latex
from chainrule.fsutil import atomic_write_text
from chainrule.train.loop import EpochStats

DATA = Path(__file__).resolve().parent / "data"
TRAIN_JSON = DATA / "e20_fashion_mnist_train.json"
EVALUATE_JSON = DATA / "e20_fashion_mnist_evaluate.json"
COMMANDS = ("chainrule train mlp:784-128-10 --data fashion-mnist --epochs 10 --batch 64 \\",
            "    --lr 0.1 --out fm.npz --format json > gallery/data/e20_fashion_mnist_train.json",
            "chainrule evaluate fm.npz --data fashion-mnist --format json \\",
            "    > gallery/data/e20_fashion_mnist_evaluate.json")  # shell lines, as typed
TITLE = "E20: Fashion-MNIST, a full-data run"


def build(out_dir: Path) -> list[Path]:
    """Read the recorded run; write epochs and per-class results (LaTeX, Markdown) and curves."""
    out_dir.mkdir(parents=True, exist_ok=True)
    run, scores = _load(TRAIN_JSON), _load(EVALUATE_JSON)
    history = [_stats(e) for e in run["epochs"]]
    epochs = [(s.epoch, s.loss, s.test_loss, s.train_acc, s.test_acc) for s in history]
    classes = [(name, c["precision"], c["recall"], c["support"])
               for name, c in zip(scores["classes"], scores["per_class"], strict=True)]
    setting = (f"mlp:784-128-10 (ReLU, softmax, cross-entropy), SGD lr 0.1, batch 64, "
               f"cosine schedule, {run['n_train']:,} training and {run['n_test']:,} test images; "
               f"final test accuracy {scores['accuracy']:.4f}.")
    tex = atomic_write_text(out_dir / "e20_fashion_mnist.tex", document("\n".join([
        text_to_latex(setting), "", "Recorded by:",
        "\\begin{small}\\begin{verbatim}", *COMMANDS, "\\end{verbatim}\\end{small}",
        "\\begin{tabular}[t]{rrrrr}",
        "epoch & loss & test loss & train acc. & test acc. \\\\", "\\hline",
        *[f"{e} & {lo:.4f} & {tl:.4f} & {tr:.4f} & {te:.4f} \\\\" for e, lo, tl, tr, te in epochs],
        "\\end{tabular}", "\\qquad",
        "\\begin{tabular}[t]{lrr}", "class & precision & recall \\\\", "\\hline",
        *[f"{text_to_latex(n)} & {p:.3f} & {r:.3f} \\\\" for n, p, r, _ in classes],
        "\\end{tabular}"]), title=TITLE, figure="e20_fashion_mnist.png"))
    md = atomic_write_text(out_dir / "e20_fashion_mnist.md", "\n".join([
        f"# {TITLE}", "", setting, "", "Recorded by:", "",
        *[f"    {c}" for c in COMMANDS], "",
        "| epoch | loss | test loss | train acc | test acc |", "|---:|---:|---:|---:|---:|",
        *[f"| {e} | {lo:.4f} | {tl:.4f} | {tr:.4f} | {te:.4f} |" for e, lo, tl, tr, te in epochs],
        "", "| class | precision | recall | support |", "|---|---:|---:|---:|",
        *[f"| {n} | {p:.3f} | {r:.3f} | {s} |" for n, p, r, s in classes]]) + "\n")
    png = _figure(out_dir / "e20_fashion_mnist.png", history, classes, scores["accuracy"])
    return [tex, md, png]


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _stats(epoch: dict[str, Any]) -> EpochStats:
    return EpochStats(epoch=epoch["epoch"], loss=epoch["loss"], train_acc=epoch["train_acc"],
                      test_acc=epoch["test_acc"], seconds=0.0, samples_per_s=0.0,
                      test_loss=epoch["test_loss"])


def _figure(path: Path, history: list[EpochStats], classes, accuracy: float) -> Path:
    figure = Figure(figsize=(14, 4.4))
    loss_ax, acc_ax, class_ax = figure.subplots(
        1, 3, gridspec_kw={"width_ratios": [1, 1, 1.1]})
    draw_curves(loss_ax, acc_ax, history)
    acc_ax.set_ylim(0.75, 1.0)  # the whole run lies above 0.8; 0-1 would flatten it
    names = [n for n, _, _, _ in classes]
    recall = np.array([r for _, _, r, _ in classes])
    rows = np.arange(len(names))
    class_ax.barh(rows, recall, color="tab:orange", height=0.7)
    class_ax.axvline(accuracy, color="k", ls="--", lw=1)
    for row, value in zip(rows, recall, strict=True):
        class_ax.text(value - 0.01, row, f"{value:.2f}", va="center", ha="right", fontsize=8,
                      color="white")
    class_ax.set(yticks=rows, yticklabels=names, xlim=(0.5, 1.0), xlabel="test recall",
                 title=f"per class (dashed: overall {accuracy:.3f})")
    class_ax.invert_yaxis()
    figure.suptitle("mlp:784-128-10 on all 60,000 Fashion-MNIST images, 10 epochs")
    figure.tight_layout()
    return save_figure(figure, path)


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
