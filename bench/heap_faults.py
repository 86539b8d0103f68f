"""Minor page faults and time per training step of the two-conv net, with chainrule's malloc
thresholds (kernels/cpu/heap.py) and without (``CHAINRULE_KEEP_HEAP=0``), each in a fresh process.

Run: ``.venv/bin/python bench/heap_faults.py [--steps 40] [--rounds 2] [--other MMAP,TRIM ...]``
(about a minute). ``--other`` adds processes that leave chainrule's setting off and call
``mallopt`` themselves with those thresholds in MiB (0: that one not set), e.g. ``0,128`` for the
trim threshold alone or ``64,32`` for a smaller trim threshold. Each
process builds the net (seed 0), takes 5 warm-up steps on one random batch (SGD 0.1), then counts
``getrusage`` minor faults over ``--steps`` steps and reports the median step in ms (wall clock).
The processes alternate, so that the machine's drift falls on both alike.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

SPEC = "cnn:1x28x28-conv3x3x32p1-maxpool2-conv3x3x64p1-maxpool2-dense128-dense10"

WORKER = """
import ctypes, resource, sys, time
import numpy as np
for option, mib in ((-3, int(sys.argv[3])), (-1, int(sys.argv[4]))):  # M_MMAP_, M_TRIM_THRESHOLD
    if mib:
        ctypes.CDLL(None).mallopt(option, mib << 20)
from chainrule.derive.spec import parse_spec
from chainrule.train.network import build_network
from chainrule.train.optim import Optimizer
net = build_network(parse_spec(sys.argv[1]), seed=0)
optimizer, rng = Optimizer(lr=0.1), np.random.default_rng(0)
x = rng.random((64, 784), dtype=np.float32)
t = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 64)]
for _ in range(5):
    net.train_step(x, t, optimizer)
steps, seconds = int(sys.argv[2]), []
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(steps):
    start = time.perf_counter()
    net.train_step(x, t, optimizer)
    seconds.append(time.perf_counter() - start)
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(faults / steps, float(np.median(seconds)) * 1e3)
"""


def measure(keep: str, steps: int, mmap_mib: int = 0, trim_mib: int = 0) -> tuple[float, float]:
    """(faults per step, median ms per step) of one fresh process."""
    env = {**os.environ, "CHAINRULE_KEEP_HEAP": keep}
    run = subprocess.run([sys.executable, "-c", WORKER, SPEC, str(steps), str(mmap_mib),
                          str(trim_mib)], env=env,
                         capture_output=True, text=True, check=True, timeout=600)
    faults, ms = run.stdout.split()
    return float(faults), float(ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--other", nargs="*", default=[], metavar="MMAP,TRIM")
    args = parser.parse_args()
    settings = [("1", "chainrule's thresholds", 0, 0), ("0", "glibc's defaults", 0, 0)]
    for pair in args.other:
        mmap_mib, trim_mib = (min(max(int(v), 0), 4096) for v in pair.split(","))
        settings.append(("0", f"mmap {mmap_mib or 'default'} MiB, trim {trim_mib or 'default'} MiB",
                         mmap_mib, trim_mib))
    print("| round | malloc | minor faults per step | ms per step |\n|---|---|---:|---:|")
    for round_ in range(1, args.rounds + 1):
        for keep, label, mmap_mib, trim_mib in settings:
            faults, ms = measure(keep, args.steps, mmap_mib, trim_mib)
            print(f"| {round_} | {label} | {faults:.0f} | {ms:.2f} |")


if __name__ == "__main__":
    main()
