"""Helpers of the GPU tests: whether a real CUDA GPU is here, and the simulator check scripts of
tests/kernels/cuda/ run on it instead.

The GPU tests (pytest marker ``gpu``; ``make gpu-check``) skip without a real GPU: the simulator
(``NUMBA_ENABLE_CUDASIM=1``) does not count. They reuse the kernel helper's and the integration's
check scripts and assertions, so that the same comparisons run in CI (simulated) and on a GPU.
"""

from __future__ import annotations

import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
CHECKS = ROOT / "tests" / "kernels" / "cuda"


@cache
def real_gpu() -> bool:
    """numba.cuda reaches a GPU, not the simulator."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0"):
        return False
    try:
        from numba import cuda
        return bool(cuda.is_available())
    except Exception:  # noqa: BLE001 - no driver, no numba-cuda: no GPU
        return False


GPU = [pytest.mark.gpu, pytest.mark.skipif(not real_gpu(), reason="needs a real CUDA GPU")]


def run_check_on_gpu(name: str) -> dict[str, float]:
    """Run ``tests/kernels/cuda/check_<name>.py`` on the GPU (no simulator); its ``name value``
    lines."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    done = subprocess.run([sys.executable, str(CHECKS / f"check_{name}.py")], env=env,
                          capture_output=True, text=True, check=False, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in done.stdout.splitlines() if line.strip()}
