"""Shared fixtures: a CLI runner that invokes the real app, and a float64 finite-difference helper."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from chainrule.cli.main import load_commands

app = load_commands()  # every command, as `chainrule --help` sees them


class Cli:
    """Invoke ``chainrule`` in-process and read its result."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def run(self, args: Sequence[str], *, code: int = 0) -> Any:
        result = self.runner.invoke(app, list(args))
        assert result.exit_code == code, (result.exit_code, result.output, result.exception)
        return result

    def json(self, args: Sequence[str]) -> dict[str, Any]:
        result = self.run([*args, "--format", "json"])
        return json.loads(result.stdout)

    def fails(self, args: Sequence[str]) -> str:
        """Assert bad input: exit 2, one line on stderr, no traceback. Return that line."""
        result = self.runner.invoke(app, list(args))
        assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, result.stderr
        assert "Traceback" not in result.output
        return lines[0]


@pytest.fixture(scope="session")
def cli() -> Cli:
    return Cli()


def central_difference(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """∂f/∂x by central differences in float64, one coordinate at a time."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        up = f(x)
        x[idx] = old - h
        down = f(x)
        x[idx] = old
        grad[idx] = (up - down) / (2 * h)
    return grad


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(1e-12, float(np.max(np.abs(a) + np.abs(b)))))


needs_pdflatex = pytest.mark.skipif(shutil.which("pdflatex") is None,
                                    reason="pdflatex not installed (apt-get install texlive-latex-base)")


def assert_compiles(tex: Path) -> None:
    """pdflatex turns ``tex`` into a PDF beside it, without errors."""
    result = subprocess.run(["pdflatex", "-halt-on-error", "-interaction=nonstopmode", tex.name],
                            cwd=tex.parent, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stdout[-2000:]
    assert tex.with_suffix(".pdf").is_file()


class InterruptAt:
    """Training callbacks that press Ctrl-C (a real SIGINT) after a given epoch and batch."""

    def __init__(self, epoch: int, batch: int) -> None:
        self.at = (epoch, batch)

    def on_epoch_start(self, epoch: int, n_batches: int, done: int) -> None:
        pass

    def on_batch_end(self, epoch: int, batch: int, loss: float, acc: float | None,
                     samples_per_s: float) -> None:
        if (epoch, batch) == self.at:
            os.kill(os.getpid(), signal.SIGINT)

    def on_epoch_end(self, stats: object) -> None:
        pass


def modules_loaded_after(script: str, modules: Sequence[str]) -> list[str]:
    """Which of ``modules`` a fresh interpreter has imported after running ``script``."""
    probe = f"{script}\nimport sys\nprint(','.join(m for m in {list(modules)!r} if m in sys.modules))\n"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    return [name for name in done.stdout.strip().split(",") if name]


def write_tiny_checkpoint(path: Path, *, optimizer: str = "sgd") -> dict[str, np.ndarray]:
    """A valid ``mlp:2-3-2`` checkpoint (weights 0.5, biases 0, trained on xor) written to
    ``path`` without training; returns its arrays, for tests that tamper with a copy."""
    from chainrule.train.checkpoint import save_checkpoint
    from chainrule.train.loop import new_state
    from chainrule.train.optim import make_optimizer

    params = {"layer0.weight": np.full((3, 2), 0.5, np.float32),
              "layer0.bias": np.zeros(3, np.float32),
              "layer1.weight": np.full((2, 3), 0.5, np.float32),
              "layer1.bias": np.zeros(2, np.float32)}
    meta = {"model": {"spec": "mlp:2-3-2", "activation": "relu", "output_activation": "softmax",
                      "loss": "softmax_ce", "dropout": 0.0, "dtype": "float32"},
            "seed": 0, "data": {"name": "xor", "task": "classification", "n_classes": 2,
                                "input_shape": [2], "input_norm": None}}
    save_checkpoint(path, params=params, state=new_state(0), meta=meta,
                    optimizer=make_optimizer(optimizer, params, lr=0.1))
    with np.load(path) as archive:
        return {key: archive[key] for key in archive.files}
