"""The CUDA kernels, run in Numba's simulator in a subprocess, agree with the CPU kernels (a network
on ``--device cuda``, its gradcheck and training steps: tests/kernels/cuda/test_network_sim.py).
Also: a CPU run never imports numba.cuda."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import modules_loaded_after

from chainrule.kernels.cuda.generated import activation_source, output_source

SCRIPT = Path(__file__).with_name("cuda_sim_check.py")


@pytest.fixture(scope="module")
def sim_lines() -> dict[str, float]:
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    done = subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True,
                          check=False,
                          cwd=Path(__file__).parents[2], timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in done.stdout.splitlines()}


def test_cuda_kernels_match_cpu_kernels(sim_lines: dict[str, float]) -> None:
    assert len(sim_lines) == 8 + 3 + 1  # activations, output layers, softmax-CE
    for name, value in sim_lines.items():
        assert value < 1e-12, name


def test_cuda_source_uses_the_same_printed_bodies() -> None:
    assert "@cuda.jit(device=True)\ndef g_prime(z, a):" in activation_source("sigmoid")
    assert "    return a*(1.0 - a)\n" in activation_source("sigmoid")
    assert "    return a - t\n" in output_source("sigmoid", "bce")


def test_cpu_runs_do_not_import_numba_cuda() -> None:
    script = ("import numpy as np\nfrom chainrule.derive.spec import parse_spec\n"
              "from chainrule.train.network import build_network\n"
              "import chainrule.cli.main\nchainrule.cli.main.load_commands()\n"
              "net = build_network(parse_spec('mlp:2-2'))\nnet.forward(np.zeros((1, 2)))")
    assert modules_loaded_after(script, ["numba", "numba.cuda"]) == ["numba"]
