"""chainrule against PyTorch, NumPy and JAX on the same work, in one run; updates bench/RESULTS.md.

Run it with ``make bench`` (which builds .venv-bench with PyTorch 2.13 CPU and JAX), options through
``make bench BENCH_ARGS="..."``. On Fashion-MNIST (60k training samples, batch 64, training only,
seconds per epoch) it measures

1. mlp:784-128-10 (SGD 0.1), lenet5 (SGD 0.1) and TensorFlow's two-conv net cnn2 (Adam 0.001):
   chainrule, PyTorch (bench/torch_ref.py), NumPy from scratch (MLP; bench/numpy_ref.py) and JAX
   (bench/jax_ref.py: a jit-compiled step looped from Python, and the epoch as one ``lax.scan``),
   with the test accuracy after the same epochs and each worker's peak RSS (PyTorch starts from
   chainrule's initial weights, so the accuracies differ by batch order and rounding alone), and
   the MLP's floor: an epoch of chainrule's batch gather and two 784×128 products alone
   (bench/products_ref.py);
2. chainrule's start-up and peak RSS on ``chainrule train mlp:784-128-10 --data fashion-mnist
   --epochs 1`` (bench/startup.py), and the wall time of ``chainrule derive neuron``;
3. issue 10's "CPU speed unchanged": ``bench/step_bench.py --baseline REV``, per-step times of this
   tree against a git revision, in one run;

then writes a dated section at the top of bench/RESULTS.md (bench/report.py, which also states the
issue-13 targets as ratios, each met or missed), keeping the sections already there.

Each framework trains in its own worker process: PyTorch's and Numba's OpenMP runtimes slow each
other down badly when they share one. chainrule's first epoch (numba compile or cache load) is not
timed; JAX compiles before its timed epochs; PyTorch and NumPy time every epoch (the median is
given). The workers of a model run in rounds (MLP 5, LeNet-5 2, two-conv net 2; ``--epoch-rounds``),
the peers taking turns in each, and each peer's fastest round counts: this machine's speed drifts
by a quarter within minutes (the same MLP epoch measured 0.30 to 0.50 s), and turns spread the
drift over every peer.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import baseline
import report
import startup
from measure import run_measured

from chainrule.fsutil import atomic_write_text

ROOT = Path(__file__).resolve().parents[1]
CNN2 = "cnn:1x28x28-conv3x3x32p1-maxpool2-conv3x3x64p1-maxpool2-dense128-dense10"


@dataclass(frozen=True)
class Recipe:
    spec: str
    optimizer: str
    lr: float
    epochs: int  # default epochs per run (chainrule times all but the first)
    rounds: int  # default rounds of every peer's worker (the fastest is kept)


RECIPES = {"mlp": Recipe("mlp:784-128-10", "sgd", 0.1, 3, 5),
           "lenet5": Recipe("lenet5", "sgd", 0.1, 2, 2), "cnn2": Recipe(CNN2, "adam", 0.001, 2, 2)}
PEERS = ("chainrule", "torch", "numpy", "products", "jax-step", "jax-scan")
ONE_THREAD = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
BASELINE = "96950c5"  # the commit before issue 10's lowering work (issue 10: "CPU speed unchanged")


def runs_peer(model: str, peer: str, jax_models: list[str]) -> bool:
    if peer in ("numpy", "products"):
        return model == "mlp"
    if peer.startswith("jax"):
        return model in jax_models and model != "cnn2"
    return True


def worker(peer: str, model: str, *, epochs: int, batch: int) -> dict[str, Any]:
    """Train one peer on one model in this process; seconds per epoch and test accuracy."""
    from chainrule.train.data import load_dataset

    recipe = RECIPES[model]
    if peer == "chainrule":
        from chainrule.train.session import TrainOptions, start

        options = TrainOptions(epochs=epochs, batch=batch, lr=recipe.lr, optimizer=recipe.optimizer,
                               schedule="constant")  # as the peers
        history = start(recipe.spec, "fashion-mnist", options).run().history
        seconds = [60000 / s.samples_per_s for s in history][1:] or [60000 / history[0].samples_per_s]
        return {"seconds_per_epoch": float(np.median(seconds)), "epochs_timed": len(seconds),
                "test_acc": float(history[-1].test_acc or 0.0)}
    data = load_dataset("fashion-mnist")  # the same standardised inputs for every peer
    split = (data.x_train, data.y_train, data.x_test, data.y_test)
    if peer == "torch":
        import torch_ref

        threads = int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 2)
        return torch_ref.train(model, *split, epochs=epochs, batch=batch, lr=recipe.lr,
                               threads=threads, optimizer=recipe.optimizer,
                               initial=chainrule_initial(recipe.spec))
    if peer == "numpy":
        import numpy_ref

        return numpy_ref.train_mlp(*split, epochs=epochs, batch=batch, lr=recipe.lr)
    if peer == "products":
        import products_ref

        return products_ref.train_products(*split, epochs=epochs, batch=batch, lr=recipe.lr)
    import jax_ref

    return jax_ref.train(model, peer.removeprefix("jax-"), *split, epochs=epochs, batch=batch,
                         lr=recipe.lr)


def chainrule_initial(spec: str) -> list[np.ndarray]:
    """The weights chainrule's run starts from (its default seed), bottom layer first, weight
    then bias: PyTorch starts from the same, so the accuracies differ by the batch order and the
    rounding, not by the draw of the initial weights (an 0.55-point gap on the two-conv net
    was that)."""
    from chainrule.derive.spec import parse_spec
    from chainrule.train.network import build_network
    from chainrule.train.session import TrainOptions

    params = build_network(parse_spec(spec), seed=TrainOptions().seed).params
    prefixes = sorted({key.rsplit(".", 1)[0] for key in params}, key=lambda p: int(p[5:]))
    return [params[f"{prefix}.{name}"] for prefix in prefixes for name in ("weight", "bias")]


def worker_env(one_thread: bool) -> dict[str, str] | None:
    """The environment of the workers: every framework on one thread with ``--one-thread``."""
    if not one_thread:
        return None
    return {**os.environ, **{name: "1" for name in ONE_THREAD}, "XLA_FLAGS": " ".join(
        [os.environ.get("XLA_FLAGS", ""), "--xla_cpu_multi_thread_eigen=false",
         "intra_op_parallelism_threads=1"]).strip()}


def run_worker(peer: str, model: str, *, epochs: int, batch: int,
               env: dict[str, str] | None) -> dict[str, Any]:
    """The worker's figures and its peak RSS, or ``{"error": its last line of stderr}``."""
    command = [sys.executable, __file__, "--worker", peer, "--models", model,
               "--epochs", str(epochs), "--batch", str(batch)]
    try:
        run = run_measured(command, env=env)
    except RuntimeError as exc:
        return {"error": last_line(str(exc))}
    return json.loads(run.stdout.strip().splitlines()[-1]) | {"peak_rss_mb": run.peak_rss_mb}


def last_line(text: str) -> str:
    return next((line.strip() for line in reversed(text.splitlines()) if line.strip()), "failed")


def step_bench(rev: str, models: str, rounds: int, env: dict[str, str] | None) -> str:
    """``bench/step_bench.py``'s table: this tree's chainrule against revision ``rev``."""
    command = [sys.executable, str(ROOT / "bench" / "step_bench.py"), "--models", models,
               "--only", "chainrule", "--baseline", rev, "--rounds", str(rounds)]
    done = subprocess.run(command, check=False, capture_output=True, text=True, env=env)
    return done.stdout + (f"step_bench.py failed: {last_line(done.stderr)}\n"
                          if done.returncode else "")


def measure_startup(runs: int) -> dict[str, Any]:
    try:
        return startup.measure(runs) | {"derive_neuron_s": startup.derive_neuron_seconds()}
    except (RuntimeError, ValueError, KeyError) as exc:  # a failed run, or output not JSON
        return {"error": last_line(str(exc))}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=0, help="epochs per training run for "
                        "every model (default: mlp 3, lenet5 2, cnn2 2)")
    parser.add_argument("--epoch-rounds", type=int, default=0, help="rounds of every peer's "
                        "training worker, the peers taking turns; the fastest round counts "
                        "(default: mlp 5, lenet5 2, cnn2 2)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--models", default="mlp,lenet5,cnn2")
    parser.add_argument("--peers", default=",".join(PEERS), help="of " + ",".join(PEERS))
    parser.add_argument("--jax-models", default="mlp", help="models JAX trains (mlp,lenet5; "
                        "LeNet-5 costs about a minute more on 2 cores)")
    parser.add_argument("--startup-runs", type=int, default=5, help="0 skips the start-up")
    parser.add_argument("--baseline", default=BASELINE, help="git revision (or folder) for "
                        "step_bench.py --baseline; '' skips it")
    parser.add_argument("--baseline-models", default="mlp,lenet5")
    parser.add_argument("--rounds", type=int, default=5, help="step_bench.py rounds")
    parser.add_argument("--one-thread", action="store_true", help="every framework on one "
                        "thread (steadier on a loaded machine; the start-up runs as a user's)")
    parser.add_argument("--note", default="", help="a remark for the section (e.g. preliminary)")
    parser.add_argument("--report-from", default="", help="render a run saved as JSON "
                        "(~/.cache/chainrule-bench/last-run.json) instead of measuring")
    parser.add_argument("--no-write", action="store_true", help="print, leave RESULTS.md alone")
    parser.add_argument("--worker", default="", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def measure_all(args: argparse.Namespace) -> report.Run:
    """Every measurement of one run, in the order the report gives them."""
    began, load_before, commit = time.time(), os.getloadavg(), report.commit()
    env = worker_env(args.one_thread)
    counts = {model: args.epochs or RECIPES[model].epochs for model in args.models.split(",")}
    rounds = {model: args.epoch_rounds or RECIPES[model].rounds for model in counts}
    epochs: dict[str, dict[str, dict[str, Any]]] = {model: {} for model in counts}
    for model, count in counts.items():
        peers = [p for p in args.peers.split(",") if runs_peer(model, p, args.jax_models.split(","))]
        for _ in range(rounds[model]):  # the peers take turns within each round
            for peer in peers:
                figures = run_worker(peer, model, epochs=count, batch=args.batch, env=env)
                epochs[model][peer] = faster(epochs[model].get(peer), figures)
                print(model, peer, figures, flush=True)
    start_up = measure_startup(args.startup_runs) if args.startup_runs else {}
    print("start-up", start_up, flush=True)
    steps = (step_bench(args.baseline, args.baseline_models, args.rounds, env)
             if args.baseline else "")
    print(steps, flush=True)
    return report.Run(
        epochs=epochs, epoch_counts=counts, startup=start_up, steps=steps, baseline=args.baseline,
        batch=args.batch, recipes={m: (r.spec, r.optimizer, r.lr) for m, r in RECIPES.items()},
        arguments=[a for a in sys.argv[1:] if a != "--no-write"], began=began,
        minutes=(time.time() - began) / 60,
        load=(load_before, os.getloadavg()), note=args.note, commit=commit, rounds=rounds)


def faster(best: dict[str, Any] | None, figures: dict[str, Any]) -> dict[str, Any]:
    """The round with the shorter epoch (a failed round loses); peak RSS is the largest seen, and
    ``round_seconds`` lists every round's epoch in order (None for a failed round)."""
    history = [] if best is None else best.get("round_seconds",
                                               [best.get("seconds_per_epoch")])
    history = [*history, figures.get("seconds_per_epoch")]
    if best is None or "error" in best:
        return figures | {"round_seconds": history}
    if "error" in figures:
        return best | {"round_seconds": history}
    peak = max(best.get("peak_rss_mb", 0.0), figures.get("peak_rss_mb", 0.0))
    chosen = figures if figures["seconds_per_epoch"] < best["seconds_per_epoch"] else best
    return chosen | {"peak_rss_mb": peak, "round_seconds": history}


def main() -> None:
    args = parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.models, epochs=args.epochs, batch=args.batch)))
        return
    if args.report_from:  # a saved run, rendered again (after a fix to the report)
        run = report.Run(**json.loads(Path(args.report_from).read_text(encoding="utf-8")))
    else:
        run = measure_all(args)
        saved = baseline.cache_root() / "last-run.json"
        saved.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(saved, json.dumps(asdict(run)), what="bench figures")
        print(f"figures saved in {saved} (--report-from renders them again)", flush=True)
    section = report.section(run)
    print(section)
    if not args.no_write:
        report.insert_section(ROOT / "bench" / "RESULTS.md", section)


if __name__ == "__main__":
    main()
