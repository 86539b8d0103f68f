"""chainrule's epoch through the compiled chunk loop against the same epoch stepped from Python.

Both modes train the model as ``make bench`` does (``chainrule.train.session``, Fashion-MNIST,
batch 64, the recipe's optimiser, a constant rate) and call the same kernels in the same order;
"steps" only turns the chunk trainer off (``loop.chunk_trainer`` returns None), so the loop calls
``Network.train_step`` once per batch. Each run is a fresh process, and the modes alternate, round
by round, so that the machine's drift in speed falls on both. The table gives seconds per epoch
(the median of the epochs after the first, which compiles or loads the kernels) and the test
accuracy, which is the same in both modes: the chunks give the steps' parameters bit for bit.

Run: ``.venv-bench/bin/python bench/chunk_ab.py [--models lenet5,cnn2,mlp] [--rounds 3]
[--epochs 3]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

MODES = ("chunks", "steps")


def worker(model: str, mode: str, epochs: int) -> None:
    """Train in this process and print one JSON line: seconds per epoch and test accuracy."""
    from run import RECIPES

    from chainrule.train import loop
    from chainrule.train.session import TrainOptions, start

    if mode == "steps":
        loop.chunk_trainer = lambda *args, **kwargs: None  # type: ignore[assignment]
    recipe = RECIPES[model]
    options = TrainOptions(epochs=epochs, batch=64, lr=recipe.lr, optimizer=recipe.optimizer,
                           schedule="constant")
    history = start(recipe.spec, "fashion-mnist", options).run().history
    seconds = [60000 / entry.samples_per_s for entry in history][1:]
    print(json.dumps({"seconds": statistics.median(seconds), "test_acc": history[-1].test_acc}))


def measure(model: str, mode: str, epochs: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--worker", model, mode, str(epochs)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="lenet5,cnn2,mlp")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3, help="per run; the first is not timed")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], int(args.worker[2]))
        return
    print("| model | mode | s per epoch, each round | best | test accuracy |")
    print("|---|---|---|---:|---:|")
    for model in args.models.split(","):
        runs: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
        for _ in range(args.rounds):
            for mode in MODES:
                runs[mode].append(measure(model, mode, max(2, args.epochs)))
        for mode in MODES:
            seconds = [run["seconds"] for run in runs[mode]]
            print(f"| {model} | {mode} | {', '.join(f'{s:.3f}' for s in seconds)} | "
                  f"{min(seconds):.3f} | {runs[mode][-1]['test_acc']:.4f} |", flush=True)


if __name__ == "__main__":
    main()
