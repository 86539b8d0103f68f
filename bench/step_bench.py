"""Per-step training time at batch 64: chainrule (numba CPU kernels) against PyTorch and NumPy.

One step is the forward pass, backprop and the plain SGD update, on the same Fashion-MNIST batches
for every framework. Each framework runs ``--steps`` steps after ``--warmup`` steps, in
``--rounds`` rounds that alternate between the frameworks (the machine is shared, so the table
shows the median over rounds of each round's median step). Each framework runs in its own worker
process, started once: PyTorch's OpenMP threads spin after each op and, in one process with
Numba's, the two runtimes took each other's cores (a 0.3 ms MLP step then measured 16 ms).
``--epoch`` adds the best of two timed epochs over all 60k training samples (shuffled, batch 64)
per framework.

Run: ``.venv-bench/bin/python bench/step_bench.py [--models mlp,lenet5,cnn2] [--epoch]
[--baseline REV] [--layers]``; ``--baseline`` adds a column for another chainrule revision
(before/after); ``--layers`` prints chainrule's per-layer table instead (bench/layer_table.py: ms
per step in each layer's forward and backward pass, and in each kernel the pass calls), or the
baseline revision's table with ``--baseline``.
Models: mlp:784-128-10 (ReLU, softmax-CE), lenet5 (tanh, average pooling, C1 padded by 2), as
in bench/torch_ref.py, and cnn2, TensorFlow's two-conv tutorial net (ReLU, max pooling).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import baseline
import torch_ref

from chainrule.derive.spec import parse_spec
from chainrule.train.data import load_dataset
from chainrule.train.network import build_network
from chainrule.train.optim import Optimizer

SPECS = {"mlp": "mlp:784-128-10", "lenet5": "lenet5",
         "cnn2": "cnn:1x28x28-conv3x3x32p1-maxpool2-conv3x3x64p1-maxpool2-dense128-dense10"}
LR = 0.1

Step = Callable[[np.ndarray, np.ndarray, np.ndarray], None]  # (x, labels, one-hot) -> None


def chainrule_step(model: str) -> Step:
    net = build_network(parse_spec(SPECS[model]), seed=0)
    optimizer = Optimizer(lr=LR)

    def step(x: np.ndarray, labels: np.ndarray, onehot: np.ndarray) -> None:
        if hasattr(net, "train_step"):  # the fused step that `chainrule train` runs
            net.train_step(x, onehot, optimizer)
        else:  # a --baseline checkout from before the fused step
            _, grads, _ = net.loss_and_gradients(x, onehot)
            optimizer.step(net.params, grads)
    return step


def torch_step(model: str) -> Step:
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(2)
    net = torch_ref.MODELS[model]() if model in torch_ref.MODELS else torch_cnn2()
    optimiser = torch.optim.SGD(net.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    image = model != "mlp"

    def step(x: np.ndarray, labels: np.ndarray, onehot: np.ndarray) -> None:
        xt = torch.from_numpy(x.reshape(len(x), 1, 28, 28) if image else x)
        optimiser.zero_grad(set_to_none=True)
        loss_fn(net(xt), torch.from_numpy(labels)).backward()
        optimiser.step()
    return step


def torch_cnn2():  # the spec of SPECS["cnn2"], when bench/torch_ref.py does not define it
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def numpy_step(model: str) -> Step:
    rng = np.random.default_rng(0)
    w1 = (rng.standard_normal((784, 128)) * np.sqrt(2 / 784)).astype(np.float32)
    b1 = np.zeros(128, np.float32)
    w2 = (rng.standard_normal((128, 10)) * np.sqrt(2 / 128)).astype(np.float32)
    b2 = np.zeros(10, np.float32)

    def step(x: np.ndarray, labels: np.ndarray, t: np.ndarray) -> None:  # as bench/numpy_ref.py
        nonlocal w1, b1, w2, b2
        x = x.reshape(len(x), -1)
        z1 = x @ w1 + b1
        a1 = np.maximum(z1, 0)  # (m, 128)
        z2 = a1 @ w2 + b2
        s = np.exp(z2 - z2.max(1, keepdims=True))
        s /= s.sum(1, keepdims=True)  # (m, 10)
        d2 = (s - t) / len(x)
        d1 = (d2 @ w2.T) * (z1 > 0)
        w2 -= LR * a1.T @ d2
        b2 -= LR * d2.sum(0)
        w1 -= LR * x.T @ d1
        b1 -= LR * d1.sum(0)
    return step


def batches(data, model: str, count: int, batch: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    eye = np.eye(10, dtype=np.float32)
    out = []
    for _ in range(count):
        idx = rng.choice(len(data.x_train), batch, replace=False)
        x = np.ascontiguousarray(data.x_train[idx], dtype=np.float32)
        if model == "mlp":
            x = x.reshape(batch, -1)
        labels = data.y_train[idx].astype(np.int64)
        out.append((x, labels, eye[labels]))
    return out


def time_steps(step: Step, work: list, steps: int, warmup: int) -> float:
    for i in range(warmup):
        step(*work[i % len(work)])
    times = []
    for i in range(steps):
        x, labels, onehot = work[i % len(work)]
        begin = time.perf_counter()
        step(x, labels, onehot)
        times.append(time.perf_counter() - begin)
    return statistics.median(times)


def time_epoch(step: Step, data, model: str, batch: int, seed: int = 0) -> float:
    eye = np.eye(10, dtype=np.float32)
    x_all = data.x_train.reshape(len(data.x_train), -1) if model == "mlp" else data.x_train
    x_all = np.ascontiguousarray(x_all, dtype=np.float32)
    y_all = data.y_train.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x_all))
    begin = time.perf_counter()
    for first in range(0, len(order), batch):
        idx = order[first:first + batch]
        labels = y_all[idx]
        step(x_all[idx], labels, eye[labels])
    return time.perf_counter() - begin


def worker(framework: str, model: str, batch: int) -> None:
    """Serve timing requests on stdin ("steps warmup", "epoch" or "quit"), one reply line each."""
    data = load_dataset("fashion-mnist")
    work = batches(data, model, 32, batch)
    step = {"chainrule": chainrule_step, "torch": torch_step, "numpy": numpy_step}[framework](model)
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if words[0] == "quit":
            break
        if words[0] == "epoch":
            print(f"{time_epoch(step, data, model, batch):.6f}", flush=True)
        else:
            print(f"{time_steps(step, work, int(words[0]), int(words[1])):.9f}", flush=True)


class Worker:
    """One framework in its own process: PyTorch's and Numba's OpenMP runtimes never share one."""

    def __init__(self, framework: str, model: str, batch: int, *, chainrule_path: str = "") -> None:
        env = dict(os.environ)
        if chainrule_path:  # another checkout of chainrule (e.g. "before"), ahead of this one
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [chainrule_path,
                                                              env.get("PYTHONPATH", "")]))
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--worker", framework, "--models", model,
             "--batch", str(batch)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env=env)
        self.ask("")  # wait for "ready"

    def ask(self, request: str) -> float:
        assert self.process.stdin is not None and self.process.stdout is not None
        if request:
            self.process.stdin.write(request + "\n")
            self.process.stdin.flush()
        reply = self.process.stdout.readline().strip()
        return float(reply) if request else 0.0

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("quit\n")
        self.process.stdin.close()
        self.process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default="mlp,lenet5")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epoch", action="store_true", help="also time one 60k-sample epoch")
    parser.add_argument("--only", default="", help="comma list of frameworks (chainrule,torch,numpy)")
    parser.add_argument("--baseline", default="", help="a git revision (e.g. 96950c5; "
                        "bench/baseline.py unpacks its chainrule package into a cached folder) or "
                        "a folder holding another chainrule package, timed as the framework "
                        "'baseline' beside this tree in the same run")
    parser.add_argument("--layers", action="store_true",
                        help="chainrule's per-layer table (ms per step per pass and kernel)")
    parser.add_argument("--stat", choices=("median", "min"), default="median",
                        help="--layers: each row's median over the steps, or its minimum")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="--layers: wall clock, or the thread's CPU time (with "
                        "NUMBA_NUM_THREADS=1: leaves out waiting for a core on a busy machine)")
    parser.add_argument("--worker", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.models, args.batch)
        return
    if args.layers and args.baseline:  # the baseline's table: this command again, in its tree
        argv = [a for a in sys.argv[1:] if a != "--baseline" and a != args.baseline and
                not a.startswith("--baseline=")]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [
            str(baseline.resolve(args.baseline)), os.environ.get("PYTHONPATH", "")])))
        print(f"baseline {args.baseline}:", flush=True)
        subprocess.run([sys.executable, __file__, *argv], env=env, check=True)
        return
    if args.layers:
        from layer_table import print_layer_table

        data = load_dataset("fashion-mnist")
        for model in args.models.split(","):
            net = build_network(parse_spec(SPECS[model]), seed=0)
            work = batches(data, model, 32, args.batch)
            print_layer_table(model, net, Optimizer(lr=LR), work, args.steps, args.warmup,
                              args.stat, args.clock)
        return
    wanted = args.only.split(",") if args.only else ["chainrule", "torch", "numpy"]
    if args.baseline:
        wanted.insert(0, "baseline")
        args.baseline = str(baseline.resolve(args.baseline))
    print(f"{'model':8} {'framework':10} {'ms/step (median of rounds)':>28}  rounds", flush=True)
    for model in args.models.split(","):
        names = [name for name in wanted if name != "numpy" or model == "mlp"]
        workers = {name: Worker("chainrule" if name == "baseline" else name, model, args.batch,
                                chainrule_path=args.baseline if name == "baseline" else "")
                   for name in names}
        rounds: dict[str, list[float]] = {name: [] for name in names}
        for _ in range(args.rounds):
            for name, process in workers.items():
                rounds[name].append(process.ask(f"{args.steps} {args.warmup}") * 1e3)
        for name, values in rounds.items():
            shown = " ".join(f"{v:.3f}" for v in values)
            print(f"{model:8} {name:10} {statistics.median(values):28.3f}  [{shown}]", flush=True)
        if args.epoch:
            for name, process in workers.items():
                seconds = [process.ask("epoch") for _ in range(2)]
                print(f"{model:8} {name:10} epoch of 60k: {min(seconds):.2f} s "
                      f"(runs: {', '.join(f'{v:.2f}' for v in seconds)})", flush=True)
        for process in workers.values():
            process.close()


if __name__ == "__main__":
    main()
