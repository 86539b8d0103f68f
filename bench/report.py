"""The Markdown section that ``make bench`` adds to bench/RESULTS.md, and the issue-13 targets.

A section is dated and names the machine (``lscpu``'s model name, the core count), the load
average before and after the run, the versions, the commit, and the exact command. Its tables: the
seconds per epoch and test accuracy of every peer, each worker's peak RSS, chainrule's start-up,
the targets of issue 13 as ratios measured in this run (each met or missed), and issue 10's per-step
comparison against a baseline revision. :func:`insert_section` puts the new section first under the
title and keeps every section already in the file.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from chainrule.fsutil import atomic_write_text

ROOT = Path(__file__).resolve().parents[1]
TITLE = "# Benchmark results"
PEER_NAMES = {"chainrule": "chainrule", "torch": "PyTorch", "numpy": "NumPy",
              "products": "chainrule's gather and two products alone",
              "jax-step": "JAX, jit step", "jax-scan": "JAX, epoch as one `lax.scan`"}
MODEL_NAMES = {"mlp": "MLP", "lenet5": "LeNet-5", "cnn2": "two-conv net"}
# (model, peer, limit): chainrule's epoch ≤ limit × the peer's (issue 13's targets)
EPOCH_TARGETS = [("lenet5", "torch", 0.5), ("cnn2", "torch", 0.7), ("mlp", "jax-scan", 1.0),
                 ("mlp", "torch", 0.36), ("mlp", "numpy", 0.6)]
STARTUP_LIMIT_S, RSS_LIMIT_MB, ACCURACY_POINTS, UNCHANGED = 1.5, 600.0, 0.5, 1.05
QUIET_LOAD = 1.0  # the 1-minute load average above which the report warns

Results = dict[str, dict[str, dict[str, Any]]]  # model -> peer -> figures, or {"error": line}


@dataclass(frozen=True)
class Run:
    epochs: Results
    epoch_counts: dict[str, int]
    startup: dict[str, Any]
    steps: str  # bench/step_bench.py's output
    baseline: str
    batch: int
    recipes: dict[str, tuple[str, str, float]]  # model -> (spec, optimizer, lr)
    arguments: list[str]
    began: float
    minutes: float
    load: tuple[tuple[float, ...], tuple[float, ...]]
    note: str
    commit: str = ""  # the commit measured (report.commit() when the run began)
    rounds: dict[str, int] = field(default_factory=dict)  # model -> rounds of its workers


def measured(by_peer: dict[str, dict[str, Any]], peer: str) -> bool:
    return peer in by_peer and "error" not in by_peer[peer]


def cell(figures: dict[str, Any] | None, form: Callable[[dict[str, Any]], str]) -> str:
    if figures is None:
        return "—"
    return "failed" if "error" in figures else form(figures)


def failures(run: Run) -> list[str]:
    lines = [f"- {MODEL_NAMES.get(model, model)}, {PEER_NAMES[peer]}: `{figures['error']}`"
             for model, by_peer in run.epochs.items() for peer, figures in by_peer.items()
             if "error" in figures]
    return ["Failed runs (their last line of stderr):", "", *lines, ""] if lines else []


def verdict(met: bool, shared: bool = False) -> str:
    """Met or missed; a speed figure from a shared machine says so instead of standing as final."""
    if shared:
        return ("met" if met else "missed") + " (shared machine: not final)"
    return "**met**" if met else "**missed**"


def shared(run: Run) -> bool:
    """Whether another job held a core: a 1-minute load above QUIET_LOAD before the run, or above
    the bench's own (its workers keep every core busy, so a quiet 2-core machine ends a run near
    2) plus QUIET_LOAD after it."""
    return run.load[0][0] > QUIET_LOAD or run.load[1][0] > (os.cpu_count() or 1) + QUIET_LOAD


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines()
                    if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return "unknown CPU"


def versions() -> str:
    found = []
    for name in ("numpy", "numba", "torch", "jax", "jaxlib"):
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(found)


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *args], check=False, capture_output=True,
                              text=True).stdout.strip()
    dirty = " with uncommitted changes in chainrule/" if git("status", "--porcelain",
                                                             "chainrule") else ""
    return f"{git('rev-parse', '--short', 'HEAD')}{dirty}"


def header(run: Run) -> list[str]:
    import os
    import platform

    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(run.began))
    before, after = (" / ".join(f"{v:.2f}" for v in load) for load in run.load)
    args = shlex.join(run.arguments)
    make_args = f' BENCH_ARGS="{args}"' if args else ""
    return [
        f"## `make bench`, {when}" + (f" ({run.note})" if run.note else ""), "",
        (f"Machine: {cpu_model()}, {os.cpu_count()} cores; load average (1, 5, 15 min) {before} "
        f"before the run, {after} after. Python {platform.python_version()}, {versions()}. "
        f"chainrule at {run.commit or 'an unrecorded commit'}."), "",
        (f"Command: `make bench{make_args}` (= "
        f"`.venv-bench/bin/python bench/run.py{' ' + args if args else ''}`); "
        f"the run took {run.minutes:.1f} min."), "", *load_warning(run)]


def load_warning(run: Run) -> list[str]:
    """A warning when another job held a core: threaded runtimes then lose many times over."""
    if not shared(run):
        return []
    threads = ("every framework ran on one thread (`--one-thread`), which suffers least"
               if "--one-thread" in run.arguments else "compare only with care, or rerun with "
               "`--one-thread`, which suffers least")
    return [(f"**Shared machine** (a 1-minute load average above {QUIET_LOAD:g} before the run, or "
             f"above the cores plus {QUIET_LOAD:g} after it): PyTorch's OpenMP "
            "threads and Numba's parallel threads wait for a core another job holds, and lose many "
            f"times over on a 2-core machine; {threads}. Speed verdicts are therefore marked not final."), ""]


def rounds_note(run: Run) -> str:
    """How the epoch figures were picked, when a model's workers ran in several rounds."""
    several = {m: n for m, n in run.rounds.items() if n > 1}
    if not several:
        return ""
    counts = ", ".join(f"{MODEL_NAMES.get(m, m)} {n}" for m, n in several.items())
    return (f"; each figure is the fastest of the rounds ({counts}), in which the peers "
            "take turns, so that the machine's drift in speed falls on every peer alike")


def epoch_cell(figures: dict[str, Any]) -> str:
    """Seconds per epoch and the test accuracy (none for the products-only floor)."""
    accuracy = figures.get("test_acc")
    shown = "" if accuracy is None else f" ({100 * accuracy:.2f}%)"
    return f"{figures['seconds_per_epoch']:.3g} s{shown}"


def epoch_table(run: Run) -> list[str]:
    peers = [p for p in PEER_NAMES if any(p in by_peer for by_peer in run.epochs.values())]
    specs = ", ".join(f"{MODEL_NAMES.get(m, m)} `{run.recipes[m][0]}`" for m in run.epochs)
    lines = [(f"Fashion-MNIST, 60k training samples, batch {run.batch} ({specs}): seconds per "
              "epoch, training only (test accuracy after the run's epochs; PyTorch starts from "
              "chainrule's initial weights)" + rounds_note(run) + "."), "",
             "| model, optimiser, epochs | " + " | ".join(PEER_NAMES[p] for p in peers) + " |",
             "|---|" + "---:|" * len(peers)]
    for model, by_peer in run.epochs.items():
        _, optimizer, lr = run.recipes[model]
        cells = [cell(by_peer.get(p), epoch_cell) for p in peers]
        lines.append(f"| {MODEL_NAMES.get(model, model)}, {optimizer} {lr:g}, "
                     f"{run.epoch_counts[model]} | "
                     + " | ".join(cells) + " |")
    lines += ["", "Peak RSS of each worker process (MB; data set, framework and training):", "",
              "| model | " + " | ".join(PEER_NAMES[p] for p in peers) + " |",
              "|---|" + "---:|" * len(peers)]
    for model, by_peer in run.epochs.items():
        cells = [cell(by_peer.get(p), lambda f: f"{f['peak_rss_mb']:.0f}") for p in peers]
        lines.append(f"| {MODEL_NAMES.get(model, model)} | " + " | ".join(cells) + " |")
    return [*lines, "", *failures(run)]


def startup_lines(run: Run) -> list[str]:
    s = run.startup
    if not s:
        return []
    if "error" in s:
        return [f"Start-up (bench/startup.py): failed, `{s['error']}`.", ""]
    return [(f"Start-up (bench/startup.py; warm kernel cache; median of {s['runs']:.0f} fresh "
            "processes, each with the CLI's default threads): `chainrule train mlp:784-128-10 "
            "--data fashion-mnist --epochs 1 "
            f"--format json` took {s['wall_s']:.2f} s of wall time, of which its epoch reported "
            f"{s['epoch_s']:.2f} s ({s['train_s']:.2f} s training, the rest the test pass): "
            f"**start-up {s['startup_s']:.2f} s**. Peak RSS {s['peak_rss_mb']:.0f} MB (median; "
            f"largest {s['peak_rss_max_mb']:.0f} MB). `chainrule derive neuron --activation "
            f"sigmoid --loss mse`: {s['derive_neuron_s']:.2f} s wall (median of 5)."), ""]


def ratio_rows(run: Run) -> list[str]:
    rows = []
    for model, peer, limit in EPOCH_TARGETS:
        by_peer = run.epochs.get(model, {})
        what = f"{MODEL_NAMES[model]} epoch, chainrule / {PEER_NAMES[peer]}"
        if not (measured(by_peer, "chainrule") and measured(by_peer, peer)):
            rows.append(f"| {what} | not measured | ≤ {limit:g} | — |")
            continue
        ratio = by_peer["chainrule"]["seconds_per_epoch"] / by_peer[peer]["seconds_per_epoch"]
        rows.append(f"| {what} | {ratio:.2f} | ≤ {limit:g} | {verdict(ratio <= limit, shared(run))} |")
    return rows


def target_table(run: Run) -> list[str]:
    rows = ratio_rows(run)
    if run.startup and "error" not in run.startup:
        up, rss = run.startup["startup_s"], run.startup["peak_rss_max_mb"]
        rows += [(f"| start-up, warm cache | {up:.2f} s | ≤ {STARTUP_LIMIT_S} s | "
                 f"{verdict(up <= STARTUP_LIMIT_S, shared(run))} |"),
                 (f"| peak RSS, Fashion-MNIST MLP run (largest of the runs) | {rss:.0f} MB | "
                 f"≤ {RSS_LIMIT_MB:.0f} MB | {verdict(rss <= RSS_LIMIT_MB)} |")]
    for model, by_peer in run.epochs.items():
        if measured(by_peer, "chainrule") and measured(by_peer, "torch"):
            gap = 100 * (by_peer["chainrule"]["test_acc"] - by_peer["torch"]["test_acc"])
            rows.append(f"| {MODEL_NAMES.get(model, model)} accuracy, chainrule − PyTorch | "
                        f"{gap:+.2f} points | within ±{ACCURACY_POINTS} | "
                        f"{verdict(abs(gap) <= ACCURACY_POINTS)} |")
    return ["Issue 13's targets, each measured in this run:", "",
            "| target | figure | limit | |", "|---|---:|---:|---|", *rows, "",
            *round_lines(run), *floor_lines(run)]


def floor_lines(run: Run) -> list[str]:
    """The MLP's floor against NumPy: chainrule's batch gather and two big products alone
    (bench/products_ref.py), which NumPy's step does too with the same BLAS, as a fraction of
    NumPy's whole epoch."""
    by_peer = run.epochs.get("mlp", {})
    if not (measured(by_peer, "products") and measured(by_peer, "numpy")):
        return []
    floor = by_peer["products"]["seconds_per_epoch"]
    ratio = floor / by_peer["numpy"]["seconds_per_epoch"]
    return [(f"The MLP's floor (bench/products_ref.py): an epoch of chainrule's batch gather "
             "and two 784×128 products alone (the forward pass, and BP4 with the update) took "
             f"{floor:.3g} s, **{ratio:.2f} × NumPy's whole epoch**. NumPy's step gathers the "
             "same rows and makes the same two products with the same OpenBLAS, and every other "
             f"part of chainrule's step comes on top, so no MLP / NumPy ratio below {ratio:.2f} "
             "is reachable with these products on this machine."), ""]


def round_lines(run: Run) -> list[str]:
    """Each epoch target's ratio round by round (the peers take turns within a round), so that a
    reader sees how far the machine's drift moves it; nothing when every model ran one round."""
    rows = []
    for model, peer, _ in EPOCH_TARGETS:
        by_peer = run.epochs.get(model, {})
        ours = by_peer.get("chainrule", {}).get("round_seconds", [])
        theirs = by_peer.get(peer, {}).get("round_seconds", [])
        pairs = [f"{a / b:.2f}" if a and b else "failed" for a, b in zip(ours, theirs)]
        if len(pairs) > 1:
            rows.append(f"{MODEL_NAMES[model]} / {PEER_NAMES[peer]} " + ", ".join(pairs))
    if not rows:
        return []
    return ["The same ratios round by round (chainrule's and the peer's epoch of one round): "
            + "; ".join(rows) + ".", ""]


def step_medians(steps: str) -> dict[tuple[str, str], float]:
    """(model, framework) -> median ms per step, from step_bench.py's table."""
    found = {}
    for line in steps.splitlines():
        match = re.match(r"(\S+)\s+(\S+)\s+([0-9.]+)\s+\[", line)
        if match:
            found[(match[1], match[2])] = float(match[3])
    return found


def baseline_lines(run: Run) -> list[str]:
    if not run.steps:
        return []
    import baseline

    medians = step_medians(run.steps)
    verdicts = []
    for model in sorted({m for m, _ in medians}):
        if (model, "chainrule") in medians and (model, "baseline") in medians:
            ratio = medians[(model, "chainrule")] / medians[(model, "baseline")]
            verdicts.append(f"{MODEL_NAMES.get(model, model)} {ratio:.2f}×, "
                            f"{verdict(ratio <= UNCHANGED, shared(run))}")
    return [f"Issue 10, \"the CPU speed is unchanged\": per-step time of this tree (`chainrule`) "
            f"against `baseline` = {baseline.describe(run.baseline)}, in one run "
            f"(`bench/step_bench.py --baseline {run.baseline}`; ms per step, median of the "
            "rounds' medians). This tree / baseline: " + "; ".join(verdicts)
            + f". Met means at most {UNCHANGED:g}×.", "", "```", run.steps.strip(), "```", ""]


def section(run: Run) -> str:
    return "\n".join([*header(run), *epoch_table(run), *startup_lines(run), *target_table(run),
                      *baseline_lines(run)])


def insert_section(path: Path, text: str) -> None:
    """Put ``text`` before the file's first ``## `` section, keeping all that is there."""
    lines = (path.read_text(encoding="utf-8") if path.exists() else TITLE + "\n").splitlines()
    first = next((i for i, line in enumerate(lines) if line.startswith("## ")), len(lines))
    head = lines[:first]
    while head and not head[-1].strip():
        head.pop()
    atomic_write_text(path, "\n".join([*head, "", text.rstrip(), "", *lines[first:]]).rstrip()
                      + "\n", what="bench results")
