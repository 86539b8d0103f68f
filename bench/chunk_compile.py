"""How long the first chunk of a compiled epoch takes: compiled, then loaded from the cache.

Each model's chunk trainer runs one batch of 64 random samples in a fresh process, twice, with
``CHAINRULE_CACHE`` pointing at a new empty folder: the first process prints (and Numba
compiles) every generated module the model needs (activations, update rules, the output layer,
the epoch function), the second loads them from that folder. Numba's cache of the static
kernels (conv.py, pool.py, dense.py, in the package's ``__pycache__``) is as this checkout has
it, warm after any earlier run. The folder is removed afterwards.

Run: ``.venv/bin/python bench/chunk_compile.py [--models lenet5,cnn2,mlp]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

SPECS = {"mlp": "mlp:784-128-10", "lenet5": "lenet5",
         "cnn2": "cnn:1x28x28-conv3x3x32p1-maxpool2-conv3x3x64p1-maxpool2-dense128-dense10"}


def first_chunk(model: str) -> None:
    """One batch through this process's chunk trainer; prints the seconds it took as JSON."""
    import numpy as np

    from chainrule.derive.spec import parse_spec
    from chainrule.kernels.registry import get_backend
    from chainrule.train.network import build_network
    from chainrule.train.optim import make_optimizer

    net = build_network(parse_spec(SPECS[model]), seed=0)
    x = np.random.default_rng(0).standard_normal((64, *net.spec.input_shape)).astype(np.float32)
    labels = np.arange(64) % net.spec.n_outputs
    t = np.eye(net.spec.n_outputs, dtype=np.float32)[labels]
    request = net.chunk_request(x, t, labels, make_optimizer("sgd", net.params, lr=0.01))
    begin = time.perf_counter()
    trainer = get_backend("cpu").chunk_trainer(request)
    assert trainer is not None, model
    trainer.train_chunk(np.arange(64), 64, 0, 1, np.ones(1))
    print(json.dumps({"seconds": time.perf_counter() - begin}))


def measure(model: str, cache: str) -> float:
    env = {**os.environ, "CHAINRULE_CACHE": cache}
    done = subprocess.run([sys.executable, __file__, "--worker", model], env=env,
                          capture_output=True, text=True, check=True)
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="lenet5,cnn2,mlp")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        first_chunk(args.worker)
        return
    print("| model | first chunk, compiled (s) | first chunk, from the cache (s) |")
    print("|---|---:|---:|")
    for model in args.models.split(","):
        with tempfile.TemporaryDirectory(prefix="chainrule-compile-") as cache:
            cold, warm = measure(model, cache), measure(model, cache)
        print(f"| {model} | {cold:.1f} | {warm:.1f} |", flush=True)


if __name__ == "__main__":
    main()
