"""kernels/cuda/generated.py in Numba's CUDA simulator: every generated kernel on device arrays
matches the CPU kernel (float32, relative error < 1e-5), launches once and copies nothing; its
source holds the same printed bodies as the CPU's and never calls np.dot."""

from __future__ import annotations

import pytest
from sim_helpers import run_check

from chainrule.derive.activations import ACTIVATIONS
from chainrule.kernels.cuda.generated import (
    activation_source,
    dropout_source,
    output_source,
    softmax_ce_source,
)

OUTPUTS = ["out_sigmoid_bce", "out_linear_mse", "out_tanh_half_mse"]
KERNELS = ([f"act_{name}" for name in ACTIVATIONS] + OUTPUTS
           + ["softmax_ce", "softmax", "dropout"])
VALUES = (KERNELS + [f"act_infer_{name}" for name in ACTIVATIONS]
          + [f"{name}_loss" for name in [*OUTPUTS, "softmax_ce"]])


@pytest.fixture(scope="module")
def lines() -> dict[str, float]:
    return run_check("generated")


def test_generated_kernels_match_cpu_kernels(lines: dict[str, float]) -> None:
    for name in VALUES:
        assert lines[name] < 1e-5, name


def test_each_wrapper_is_one_launch_and_no_copy(lines: dict[str, float]) -> None:
    for name in KERNELS:
        assert lines[f"{name}_launches"] == 1, name
        assert lines[f"{name}_transfers"] == 0, name


def test_sources_print_the_cpu_bodies_and_no_host_code() -> None:
    sources = [activation_source("sigmoid"), output_source("sigmoid", "bce"), softmax_ce_source(),
               dropout_source()]
    assert "@cuda.jit(device=True)\ndef g_prime(z, a):\n" in sources[0]
    assert "    return a*(1.0 - a)\n" in sources[0]
    assert "    return a - t\n" in sources[1]
    assert "def softmax_ce_delta(" in sources[2]
    assert "def dropout_forward(" in sources[3]
    for text in sources:
        assert "np.dot" not in text and "copy_to_host" not in text and "to_device" not in text
