"""chainrule's start-up and peak memory on the issue-13 command, median of fresh processes.

``chainrule train mlp:784-128-10 --data fashion-mnist --epochs 1 --format json`` runs once to warm
the kernel cache (and any data cache), then ``runs`` more times, each a fresh process measured by
:func:`measure.run_measured`. The start-up of one run is its wall time minus the seconds its one
epoch reports (``epochs[0].seconds``: training and the test pass); the table gives the median over
the runs of each figure. ``--format json`` only changes what is printed at the end.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path

from measure import run_measured

COMMAND = ["train", "mlp:784-128-10", "--data", "fashion-mnist", "--epochs", "1"]


def chainrule_exe() -> str:
    """The console script of the interpreter running the bench (.venv-bench/bin/chainrule)."""
    return str(Path(sys.executable).parent / "chainrule")


def measure(runs: int = 5) -> dict[str, float]:
    """Median wall, epoch, start-up (s) and peak RSS (MB) over ``runs`` warm-cache runs."""
    command = [chainrule_exe(), *COMMAND, "--format", "json"]
    with tempfile.TemporaryDirectory() as folder:  # no current folder shadows the package
        run_measured(command, cwd=Path(folder))  # warm-up: kernel (and data) caches
        rows = []
        for _ in range(runs):
            run = run_measured(command, cwd=Path(folder))
            epoch = json.loads(run.stdout)["epochs"][0]
            rows.append({"wall_s": run.wall_s, "epoch_s": epoch["seconds"],
                         "train_s": 60000 / epoch["samples_per_s"],
                         "startup_s": run.wall_s - epoch["seconds"],
                         "peak_rss_mb": run.peak_rss_mb})
    medians = {key: statistics.median(row[key] for row in rows) for key in rows[0]}
    medians["peak_rss_max_mb"] = max(row["peak_rss_mb"] for row in rows)
    medians["runs"] = runs
    return medians


def derive_neuron_seconds(runs: int = 5) -> float:
    """Median wall time of ``chainrule derive neuron --activation sigmoid --loss mse``."""
    command = [chainrule_exe(), "derive", "neuron", "--activation", "sigmoid", "--loss", "mse"]
    return statistics.median(run_measured(command).wall_s for _ in range(runs))
