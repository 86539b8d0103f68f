"""kernels/cuda/step.py in Numba's CUDA simulator: BP3 fused with each rule (STORE, SGD, momentum,
Adam), BP2 + BP3 + rule, BP4 + rule (dense GEMM epilogue, conv per-weight blocks) and the rule
alone match kernels/update.py's CPU kernels (float32,
relative error < 1e-5), count the same non-finite results, launch once and copy nothing; the rule
is printed from derive/penalties.py."""

from __future__ import annotations

import pytest
from sim_helpers import run_check

from chainrule.kernels.cuda.step import step_source
from chainrule.kernels.update import Rule

KERNELS = [f"{name}_{kind.name}" for kind in Rule
           for name in ("bias_step_conv", "delta_bias_step_conv", "apply", "weight_step_dense",
                        "weight_step_conv")]


@pytest.fixture(scope="module")
def lines() -> dict[str, float]:
    return run_check("step")


def test_step_kernels_match_update_py(lines: dict[str, float]) -> None:
    for name in KERNELS:
        assert lines[name] < 1e-5, name
        assert lines[f"{name}_bad"] == 0, name  # the CPU's non-finite count (0) on finite data


def test_reductions_repeat_bit_for_bit(lines: dict[str, float]) -> None:
    assert lines["repeat_differs"] == 0


def test_a_non_finite_gradient_is_counted(lines: dict[str, float]) -> None:
    for kind in Rule:
        assert lines[f"apply_{kind.name}_bad_count"] == 1


def test_each_step_is_one_launch_and_no_copy(lines: dict[str, float]) -> None:
    for name in KERNELS:
        assert lines[f"{name}_launches"] == 1, name
        assert lines[f"{name}_transfers"] == 0, name


def test_step_source_prints_the_penalty_from_derive() -> None:
    text = step_source()
    assert "@cuda.jit(device=True)\ndef penalised(w, g, l2, l1):\n" in text
    assert "l2*w" in text and "np.dot" not in text and "to_device" not in text
