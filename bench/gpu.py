"""chainrule CUDA against PyTorch CUDA on one GPU, in one run; writes RESULTS-gpu.md naming the device.

Run by ``make gpu-check`` on a machine with a GPU (../shared/device/README.md): mlp:784-128-10 and
lenet5 on Fashion-MNIST (60k training samples), SGD lr 0.1, constant schedule, at batch 64 and 512.
Each framework trains ``--epochs`` epochs (default 2) per configuration; the last epoch is timed
(the first includes chainrule's kernel compilation and PyTorch's cuDNN autotuning). chainrule's
time is the training part of the epoch (samples / samples_per_s: no test pass); PyTorch's is its
training loop with the data on the GPU, synchronised at the end. The targets of issue 10: at most
0.1 × PyTorch's epoch time at batch 64 and 0.5 × at batch 512, accuracy within 0.5 points.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.fsutil import atomic_write_text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGETS = {64: 0.1, 512: 0.5}  # chainrule / PyTorch epoch time, at most
MODELS = {"mlp": "mlp:784-128-10", "lenet5": "lenet5"}


def chainrule_run(model: str, batch: int, epochs: int, limit: int | None) -> dict[str, Any]:
    from chainrule.kernels.registry import get_backend
    from chainrule.train.session import TrainOptions, start

    backend: Any = get_backend("cuda")
    options = TrainOptions(epochs=epochs, batch=batch, lr=0.1, schedule="constant",
                           device="cuda", limit=limit)
    session = start(MODELS[model], "fashion-mnist", options)
    snapshot = backend.counter_snapshot()
    session.run()
    last = session.state.history[-1]
    n = len(session.dataset.x_train)
    counts = backend.step_counts(snapshot, epochs * -(-n // batch))
    return {"seconds": n / last.samples_per_s, "test_acc": last.test_acc,
            "launches_per_step": counts.get("launches_per_step"),
            "transfers_per_step": counts.get("transfers_per_step"),
            "path": counts.get("step_path"), "notes": counts.get("notes", [])}


def torch_model(model: str) -> Any:
    from torch import nn
    if model == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(  # bench/torch_ref.py's LeNet-5
        nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(16, 120, 5), nn.Tanh(), nn.Flatten(),
        nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10))


def torch_run(model: str, batch: int, epochs: int, data: tuple[np.ndarray, ...]) -> dict[str, Any]:
    import torch
    from torch import nn

    torch.manual_seed(0)
    device = torch.device("cuda")
    x_train, y_train, x_test, y_test = data
    net = torch_model(model).to(device)
    optimiser = torch.optim.SGD(net.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()
    xt = torch.from_numpy(x_train).to(device)
    yt = torch.from_numpy(y_train.astype(np.int64)).to(device)
    rng = np.random.default_rng(0)
    seconds = []
    for _ in range(epochs):
        order = torch.from_numpy(rng.permutation(len(xt))).to(device)
        torch.cuda.synchronize()
        started = time.perf_counter()
        for first in range(0, len(xt), batch):
            index = order[first:first + batch]
            optimiser.zero_grad(set_to_none=True)
            loss_fn(net(xt[index]), yt[index]).backward()
            optimiser.step()
        torch.cuda.synchronize()
        seconds.append(time.perf_counter() - started)
    with torch.no_grad():
        x_eval = torch.from_numpy(x_test).to(device)
        predicted = torch.cat([net(x_eval[i:i + 1000]).argmax(1) for i in range(0, len(x_eval), 1000)])
    return {"seconds": seconds[-1], "test_acc": float((predicted.cpu().numpy() == y_test).mean())}


def fashion_mnist(limit: int | None) -> tuple[np.ndarray, ...]:
    """(x_train, y_train, x_test, y_test) as chainrule fits them: (n, 1, 28, 28) float32 in [0, 1]."""
    from chainrule.train.data import load_dataset
    dataset = load_dataset("fashion-mnist").limited(limit)
    def images(x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(x, dtype=np.float32).reshape(len(x), 1, 28, 28)
    return images(dataset.x_train), dataset.y_train, images(dataset.x_test), dataset.y_test


def device_name() -> str:
    from numba import cuda
    name = cuda.get_current_device().name
    return name.decode() if isinstance(name, bytes) else str(name)


def report(rows: list[dict[str, Any]], epochs: int, limit: int | None) -> str:
    import torch
    lines = [f"# chainrule CUDA vs PyTorch CUDA ({datetime.now(UTC):%Y-%m-%d})", "",
             (f"Device: **{device_name()}**; Python {platform.python_version()}, "
             f"PyTorch {torch.__version__}; Fashion-MNIST "
             f"({'first ' + str(limit) if limit else '60k'} training samples), SGD lr 0.1, "
             f"{epochs} epochs per run, the last timed (`python3 bench/gpu.py`, `make gpu-check`)."),
             "", ("| model | batch | chainrule s/epoch | PyTorch s/epoch | ratio | target | met "
             "| acc chainrule | acc PyTorch | launches/step | copies/step |"),
             "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
    for row in rows:
        ours, theirs = row["chainrule"], row["torch"]
        ratio = ours["seconds"] / theirs["seconds"]
        met = ratio <= TARGETS[row["batch"]] and abs(ours["test_acc"] - theirs["test_acc"]) <= 0.005
        lines.append(f"| {row['model']} | {row['batch']} | {ours['seconds']:.3f} | "
                     f"{theirs['seconds']:.3f} | {ratio:.2f} | ≤ {TARGETS[row['batch']]} | "
                     f"{'yes' if met else 'no'} | {ours['test_acc']:.4f} | {theirs['test_acc']:.4f}"
                     f" | {ours['launches_per_step']} | {ours['transfers_per_step']} |")
    notes = sorted({note for row in rows for note in row["chainrule"]["notes"]})
    paths = sorted({str(row["chainrule"]["path"]) for row in rows})
    lines += ["", f"chainrule's step path: {', '.join(paths)}."]
    lines += [f"- note: {note}" for note in notes]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="first N training samples only")
    parser.add_argument("--models", default="mlp,lenet5")
    parser.add_argument("--batches", default="64,512")
    default_out = Path(os.environ["OUT"]) if os.environ.get("OUT") else ROOT / "bench"
    parser.add_argument("--out", type=Path, default=default_out / "RESULTS-gpu.md")
    args = parser.parse_args()
    data = fashion_mnist(args.limit)
    rows = []
    for model in args.models.split(","):
        for batch in (int(b) for b in args.batches.split(",")):
            row = {"model": model, "batch": batch,
                   "chainrule": chainrule_run(model, batch, args.epochs, args.limit),
                   "torch": torch_run(model, batch, args.epochs, data)}
            print(row, flush=True)
            rows.append(row)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            # kept if stopped later; written whole, and only over a regular file
            atomic_write_text(args.out, report(rows, args.epochs, args.limit), what="GPU results")
    print(args.out.read_text())


if __name__ == "__main__":
    main()
