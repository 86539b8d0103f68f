"""Where the start-up of `chainrule train mlp:784-128-10 --data fashion-mnist` goes, step by step.

Run in a fresh process with warm kernel and data caches (issue 13):
``.venv/bin/python bench/startup_steps.py`` (add ``PYTHONPATH=TREE`` to time another checkout).
Each line gives the wall and CPU (``time.process_time``) seconds of one step, in the order the
``train`` command meets them; the last line says whether SymPy was imported.
"""

from __future__ import annotations

import sys
import time

MODEL, DATA = "mlp:784-128-10", "fashion-mnist"


def main() -> None:
    last = (time.perf_counter(), time.process_time())

    def mark(label: str) -> None:
        nonlocal last
        now = (time.perf_counter(), time.process_time())
        print(f"{label:48s} wall {now[0] - last[0]:6.3f} s  cpu {now[1] - last[1]:6.3f} s")
        last = now

    import numpy  # noqa: F401
    mark("import numpy")
    import numba  # noqa: F401
    mark("import numba")
    from chainrule.cli.main import load_commands  # noqa: F401
    mark("import typer, rich and the CLI")
    from chainrule.train.session import TrainOptions, start
    mark("import chainrule.train.session")
    from chainrule.kernels.registry import get_backend
    get_backend("cpu")
    mark("CPU backend (threads; scipy.linalg for BLAS)")
    from chainrule.train.data import load_dataset
    load_dataset(DATA)
    mark("load the data set (from its .npy cache)")
    session = start(MODEL, DATA, TrainOptions(epochs=1, batch=32))
    mark("start(): data, network, kernel modules")
    x, t = session.batches.x_train[:32], session.batches.t_train[:32]
    session.network.train_step(x, t, session.optimizer)
    mark("first step (Numba loads its cached code)")
    print(f"sympy imported: {'sympy' in sys.modules}")


if __name__ == "__main__":
    main()
