"""Training on Fashion-MNIST from the command line, in miniature (E20)

Seed 002's Keras model, Flatten → Dense(128, ReLU) → Dense(10, softmax), is
``chainrule train mlp:784-128-10 --data fashion-mnist --epochs 10 --batch 64 --lr 0.1`` (Xiao,
Rasul & Vollgraf, 2017). So that the gallery builds in seconds, this page trains the same network
on the first 3,000 training images for 3 epochs and evaluates on the 10,000 test images; the full
run is the slow test tests/train/test_fashion_slow.py. Without the data set the page says how to
get it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from chainrule.cli.training_plots import plot_training
from chainrule.derive.printing.latex import document
from chainrule.derive.printing.latex_layers import text_to_latex
from chainrule.errors import ChainruleError
from chainrule.fsutil import atomic_write_text
from chainrule.train.evaluation import confusion
from chainrule.train.loop import predict
from chainrule.train.metrics import predicted_classes
from chainrule.train.session import TrainOptions, start

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot"]
OPTIONS = TrainOptions(epochs=3, batch=64, lr=0.1, seed=0, limit=3000)
TITLE = "E20: Fashion-MNIST in miniature"


def build(out_dir: Path) -> list[Path]:
    """Train on the subset and write epochs and per-class accuracy (LaTeX, Markdown) and curves."""
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        session = start("mlp:784-128-10", "fashion-mnist", OPTIONS)
    except ChainruleError as missing:
        return _without_data(out_dir, str(missing))
    history = session.run().history
    predicted = predicted_classes(predict(session.network, session.batches.x_test))
    matrix = np.array(confusion(session.dataset.y_test, predicted, 10))  # (true, predicted)
    per_class = matrix.diagonal() / matrix.sum(axis=1)
    epochs = [(s.epoch, s.loss, s.train_acc, s.test_acc) for s in history]
    classes = list(zip(CLASSES, per_class, strict=True))
    tex = atomic_write_text(out_dir / "e20_fashion_mnist.tex", document("\n".join([
        ("mlp:784-128-10 (ReLU, softmax, cross-entropy), SGD $\\eta = 0.1$, batch 64, "
        "first 3000 training images."), "",
        "\\begin{tabular}[t]{rrrr}", "epoch & loss & train acc. & test acc. \\\\", "\\hline",
        *[f"{e} & {loss:.4f} & {tr:.4f} & {te:.4f} \\\\" for e, loss, tr, te in epochs],
        "\\end{tabular}", "\\qquad",
        "\\begin{tabular}[t]{lr}", "class & test acc. \\\\", "\\hline",
        *[f"{name} & {acc:.3f} \\\\" for name, acc in classes], "\\end{tabular}"]), title=TITLE,
        figure="e20_fashion_mnist.png"))
    md = atomic_write_text(out_dir / "e20_fashion_mnist.md", "\n".join([
        f"# {TITLE}", "", "mlp:784-128-10, SGD lr 0.1, batch 64, first 3000 training images", "",
        "| epoch | loss | train acc | test acc |", "|---:|---:|---:|---:|",
        *[f"| {e} | {loss:.4f} | {tr:.4f} | {te:.4f} |" for e, loss, tr, te in epochs], "",
        "| class | test acc |", "|---|---:|",
        *[f"| {name} | {acc:.3f} |" for name, acc in classes]]) + "\n")
    png = plot_training(out_dir / "e20_fashion_mnist.png", history,
                        title="mlp:784-128-10 on 3000 Fashion-MNIST images")
    return [tex, md, png]


def _without_data(out_dir: Path, reason: str) -> list[Path]:
    text = reason.replace("`", "")
    tex = atomic_write_text(out_dir / "e20_fashion_mnist.tex", document(
        "Fashion-MNIST is not installed here: " + text_to_latex(text),
        title=TITLE))
    md = atomic_write_text(out_dir / "e20_fashion_mnist.md", f"# {TITLE}\n\n{reason}\n")
    return [tex, md]


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
