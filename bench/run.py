"""chainrule against PyTorch and NumPy on the same work, in one run; writes bench/RESULTS.md.

Run it with ``make bench`` (which builds .venv-bench with PyTorch 2.13, CPU). It measures

1. the wall time of ``chainrule derive neuron --activation sigmoid --loss mse`` (median of 5 runs,
   a fresh process each: imports included);
2. whole epochs on Fashion-MNIST (60k samples, batch 64, SGD lr 0.1) for mlp:784-128-10 and lenet5:
   chainrule (numba CPU kernels), PyTorch (CPU) and NumPy (MLP only), with the test accuracy after
   ``--epochs`` epochs;
3. per-step times from ``bench/step_bench.py`` (same batches, alternating rounds).

Each framework trains in its own worker process: PyTorch's and Numba's OpenMP runtimes slow each
other down badly when they share one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RECIPES = {"mlp": ("mlp:784-128-10", 0.1), "lenet5": ("lenet5", 0.1)}
FRAMEWORKS = ("chainrule", "torch", "numpy")


def derive_neuron_seconds(runs: int = 5) -> float:
    exe = shutil.which("chainrule") or str(Path(sys.executable).parent / "chainrule")
    times = []
    for _ in range(runs):
        begin = time.perf_counter()
        subprocess.run([exe, "derive", "neuron", "--activation", "sigmoid", "--loss", "mse"],
                       check=True, capture_output=True)
        times.append(time.perf_counter() - begin)
    return statistics.median(times)


def worker(framework: str, model: str, *, epochs: int, batch: int) -> dict[str, float]:
    """Train one framework on one model in this process; seconds per epoch and test accuracy."""
    sys.path.insert(0, str(ROOT / "bench"))
    from chainrule.train.data import load_dataset

    spec, lr = RECIPES[model]
    if framework == "chainrule":
        from chainrule.train.session import TrainOptions, start

        options = TrainOptions(epochs=epochs, batch=batch, lr=lr, schedule="constant")  # as PyTorch
        session = start(spec, "fashion-mnist", options)
        history = session.run().history
        seconds = [60000 / s.samples_per_s for s in history][1:]  # epoch 1 includes compiling
        return {"seconds_per_epoch": float(np.median(seconds or [60000 / history[0].samples_per_s])),
                "test_acc": float(history[-1].test_acc)}
    data = load_dataset("fashion-mnist")  # the same standardised inputs for every framework
    if framework == "torch":
        import torch_ref

        return torch_ref.train(model, data.x_train, data.y_train, data.x_test, data.y_test,
                               epochs=epochs, batch=batch, lr=lr, threads=os.cpu_count() or 2)
    import numpy_ref

    return numpy_ref.train_mlp(data.x_train, data.y_train, data.x_test, data.y_test,
                               epochs=epochs, batch=batch, lr=lr)


def run_worker(framework: str, model: str, *, epochs: int, batch: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--worker", framework, "--models", model,
               "--epochs", str(epochs), "--batch", str(batch)]
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per training run")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--models", default="mlp,lenet5")
    parser.add_argument("--worker", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.models, epochs=args.epochs, batch=args.batch)))
        return
    rows = [["`chainrule derive neuron --activation sigmoid --loss mse`", "wall time",
             f"{derive_neuron_seconds():.2f} s", "", ""]]
    for model in args.models.split(","):
        cells = []
        for framework in FRAMEWORKS:
            if framework == "numpy" and model != "mlp":
                cells.append("—")
                continue
            result = run_worker(framework, model, epochs=args.epochs, batch=args.batch)
            cells.append(f"{result['seconds_per_epoch']:.2f} s ({result['test_acc']:.4f})")
            print(model, framework, result, flush=True)
        rows.append([f"{RECIPES[model][0]}, {args.epochs} epochs, batch {args.batch}",
                     "s/epoch (test acc)", *cells])
    steps = subprocess.run([sys.executable, str(ROOT / "bench" / "step_bench.py"), "--rounds", "5"],
                           check=True, capture_output=True, text=True).stdout
    write_results(rows, steps, " ".join(sys.argv[1:]))


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


def write_results(rows: list[list[str]], steps: str, arguments: str) -> None:
    import torch

    lines = [
        "# Benchmark results", "",
        (f"Machine: {machine_name()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
         f"numpy {np.__version__}, PyTorch {torch.__version__} (CPU)."), "",
        f"Command: `make bench` (= `.venv-bench/bin/python bench/run.py {arguments}`).", "",
        "| work | measure | chainrule | PyTorch | NumPy |", "|---|---|---:|---:|---:|",
        *[f"| {' | '.join(row)} |" for row in rows], "",
        "Seconds per epoch count training only (no test pass) and exclude chainrule's first epoch",
        "(numba compile or cache load). Every framework sees the same standardised inputs, the same",
        "constant learning rate and plain SGD; accuracies differ by initialisation and shuffling.", "",
        "Per training step (`bench/step_bench.py --rounds 5`: forward, backprop and SGD update on",
        "the same batches; each framework in its own process; median of the rounds' medians):", "",
        "```", steps.strip(), "```",
    ]
    (ROOT / "bench" / "RESULTS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
