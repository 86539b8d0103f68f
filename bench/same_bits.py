"""Whether this tree trains to the same parameters, bit for bit, as another revision.

Each model takes ``--steps`` training steps on the same Fashion-MNIST batches (the batches of
bench/step_bench.py, batch 64, from seed 0's initial weights), in a fresh process per tree: this
tree, then the ``--baseline`` revision unpacked by bench/baseline.py. Each prints the SHA-256 of
its parameters (sorted by name, raw bytes), and the script says whether they match. A kernel
change that keeps every sum's order keeps the digest; one that reorders a sum changes it, and the
closing note has to say so (issue 13: "Rounding stays honest").

Run: ``.venv-bench/bin/python bench/same_bits.py --baseline 44c7a1e [--models cnn2,lenet5,mlp]``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import baseline

RECIPES = {"mlp": ("sgd", 0.1), "lenet5": ("sgd", 0.1), "cnn2": ("adam", 0.001)}  # as make bench


def digest(model: str, steps: int) -> str:
    """The parameters' SHA-256 (first 16 hex digits) after ``steps`` steps, in this process."""
    from step_bench import SPECS, batches

    from chainrule.derive.spec import parse_spec
    from chainrule.train.data import load_dataset
    from chainrule.train.network import build_network
    from chainrule.train.optim import make_optimizer

    work = batches(load_dataset("fashion-mnist"), model, 8, 64)
    net = build_network(parse_spec(SPECS[model]), seed=0)
    name, lr = RECIPES[model]
    optimizer = make_optimizer(name, net.params, lr=lr)
    for step in range(steps):
        x, _, onehot = work[step % len(work)]
        net.train_step(x, onehot, optimizer)
    params = b"".join(net.params[key].tobytes() for key in sorted(net.params))
    return hashlib.sha256(params).hexdigest()[:16]


def digest_in(tree: Path | None, model: str, steps: int) -> str:
    """:func:`digest` in a fresh process, importing chainrule from ``tree`` (None: this tree)."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tree), env.get("PYTHONPATH", "")]))
    command = [sys.executable, __file__, "--worker", model, "--steps", str(steps)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parent)
    return done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="HEAD", help="a git revision or a folder")
    parser.add_argument("--models", default="cnn2,lenet5,mlp")
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--worker", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(digest(args.worker, args.steps))
        return
    before = baseline.resolve(args.baseline)
    print(f"| model | steps | this tree | {args.baseline} | same bits |\n|---|---:|---|---|---|")
    for model in args.models.split(","):
        now, then = digest_in(None, model, args.steps), digest_in(before, model, args.steps)
        print(f"| {model} | {args.steps} | {now} | {then} | {'yes' if now == then else 'NO'} |")


if __name__ == "__main__":
    main()
