"""On a real GPU: every CUDA kernel against the CPU kernels, and a network on ``--device cuda``
(gradcheck, three steps against the CPU, no copies inside the steps), by the very check scripts and
assertions that run in the simulator in CI (tests/kernels/cuda/test_*_sim.py)."""

from __future__ import annotations

import importlib
import inspect
import re
import sys

import pytest
from gpu_helpers import CHECKS, GPU, run_check_on_gpu

pytestmark = GPU
SIM_TESTS = sorted(path.stem for path in CHECKS.glob("test_*_sim.py"))


def _load(module_name: str) -> object:
    """The simulator test module, its ``run_check`` bound to the GPU runner."""
    if str(CHECKS) not in sys.path:
        sys.path.insert(0, str(CHECKS))
    import sim_helpers
    sim_helpers.run_check = run_check_on_gpu  # type: ignore[assignment]
    sys.modules.pop(module_name, None)
    return importlib.import_module(module_name)


@pytest.mark.parametrize("module_name", SIM_TESTS)
def test_simulator_checks_pass_on_the_gpu(module_name: str) -> None:
    module = _load(module_name)
    source = inspect.getsource(module)  # type: ignore[arg-type]
    found = re.search(r'run_check\("(\w+)"\)', source)
    lines = run_check_on_gpu(found.group(1)) if found else None
    ran = 0
    for name, function in vars(module).items():
        if not name.startswith("test_") or not callable(function):
            continue
        parameters = list(inspect.signature(function).parameters)
        if parameters == ["lines"] and lines is not None:
            function(lines)
        elif not parameters:
            function()
        else:
            continue
        ran += 1
    assert ran, f"{module_name}: no test ran"
