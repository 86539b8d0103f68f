"""chainrule against PyTorch and NumPy on the same work, in one run; writes bench/RESULTS.md.

Run it with ``make bench`` (which builds .venv-bench with PyTorch 2.13 CPU). Measures:

1. the wall time of ``chainrule derive neuron --activation sigmoid --loss mse`` (median of 5 runs);
2. seconds per epoch on Fashion-MNIST (60k samples, batch 64, SGD) for mlp:784-128-10 and lenet5,
   for chainrule (numba CPU kernels), PyTorch (CPU, same threads) and NumPy (MLP only);
3. with ``--accuracy``, the E20 recipes: 10 epochs each, test accuracy.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy_ref
import torch_ref

from chainrule.train.data import load_dataset
from chainrule.train.session import TrainOptions, start

ROOT = Path(__file__).resolve().parents[1]
RECIPES = {"mlp": ("mlp:784-128-10", 0.1), "lenet5": ("lenet5", 0.1)}


def derive_neuron_seconds(runs: int = 5) -> float:
    exe = shutil.which("chainrule") or str(Path(sys.executable).parent / "chainrule")
    times = []
    for _ in range(runs):
        begin = time.perf_counter()
        subprocess.run([exe, "derive", "neuron", "--activation", "sigmoid", "--loss", "mse"],
                       check=True, capture_output=True)
        times.append(time.perf_counter() - begin)
    return statistics.median(times)


def chainrule_run(model: str, *, epochs: int, batch: int) -> dict[str, float]:
    spec, lr = RECIPES[model]
    session = start(spec, "fashion-mnist", TrainOptions(epochs=epochs, batch=batch, lr=lr, seed=0))
    state = session.run()
    train_seconds = [60000 / s.samples_per_s for s in state.history]
    steady = train_seconds[1:] or train_seconds  # the first epoch includes numba's compile/load
    return {"seconds_per_epoch": float(np.median(steady)),
            "test_acc": float(state.history[-1].test_acc)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per timing run")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--accuracy", action="store_true", help="also run the 10-epoch E20 recipes")
    parser.add_argument("--models", default="mlp,lenet5")
    args = parser.parse_args()
    data = load_dataset("fashion-mnist")
    xs = (data.x_train, data.y_train, data.x_test, data.y_test)
    rows = [("derive neuron --activation sigmoid --loss mse", "wall s", f"{derive_neuron_seconds():.2f}", "", "")]
    for model in args.models.split(","):
        epochs = 10 if args.accuracy else args.epochs
        ours = chainrule_run(model, epochs=epochs, batch=args.batch)
        x_img = [x.reshape(len(x), 1, 28, 28) for x in (xs[0], xs[2])]
        theirs = torch_ref.train(model, x_img[0], xs[1], x_img[1], xs[3], epochs=epochs,
                                 batch=args.batch, lr=RECIPES[model][1], threads=os.cpu_count() or 2)
        numpy = (numpy_ref.train_mlp(*xs, epochs=epochs, batch=args.batch, lr=RECIPES[model][1])
                 if model == "mlp" else None)
        rows.append(_row(model, epochs, args.batch, ours, theirs, numpy))
        print(rows[-1], flush=True)
    write_results(rows, " ".join(sys.argv[1:]))


def _row(model: str, epochs: int, batch: int, ours: dict, theirs: dict, numpy: dict | None) -> tuple:
    numpy_text = f"{numpy['seconds_per_epoch']:.2f} s ({numpy['test_acc']:.4f})" if numpy else "—"
    return (f"{RECIPES[model][0]}, {epochs} epochs, batch {batch}", "s/epoch (test acc)",
            f"{ours['seconds_per_epoch']:.2f} s ({ours['test_acc']:.4f})",
            f"{theirs['seconds_per_epoch']:.2f} s ({theirs['test_acc']:.4f})", numpy_text)


def machine_name() -> str:
    """The CPU's model name from /proc/cpuinfo, or what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def write_results(rows: list[tuple], arguments: str) -> None:
    import torch

    cpu = machine_name()
    lines = [
        "# Benchmark results", "",
        (f"Machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
         f"numpy {np.__version__}, PyTorch {torch.__version__} (CPU)."), "",
        f"Command: `make bench` (= `.venv-bench/bin/python bench/run.py {arguments}`).", "",
        "| work | measure | chainrule | PyTorch | NumPy |", "|---|---|---:|---:|---:|",
        *[f"| {' | '.join(row)} |" for row in rows], "",
        "Seconds per epoch exclude the first epoch (numba compile or cache load) and the test pass.",
    ]
    (ROOT / "bench" / "RESULTS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
