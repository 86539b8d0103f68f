"""glibc's malloc thresholds: set for the CPU backend, and a step's buffers no longer fault."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from chainrule.kernels.cpu import heap

_FAULTS = """
import resource, sys
import numpy as np
from chainrule.kernels.cpu import heap
print(heap.keep_heap())
for _ in range(3):  # large buffers allocated, written, freed (40 MB is above
    # the adaptive threshold's 32 MiB ceiling: a large batch's patches)
    for size in (40 << 20, 3 << 20):
        np.ones(size // 4, dtype=np.float32)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    for size in (40 << 20, 3 << 20):
        np.ones(size // 4, dtype=np.float32)
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) // 20)
"""


def faults_per_round(keep: str) -> tuple[str, int]:
    env = {**os.environ, "CHAINRULE_KEEP_HEAP": keep}
    run = subprocess.run([sys.executable, "-c", _FAULTS], env=env, capture_output=True, text=True,
                         timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    kept, faults = run.stdout.split()
    return kept, int(faults)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt's numbers are glibc's")
def test_kept_heap_reuses_large_buffers_without_page_faults() -> None:
    kept, faults = faults_per_round("1")
    left_alone, default_faults = faults_per_round("0")
    assert (kept, left_alone) == ("True", "False")
    # 43 MB a round: thousands of fresh pages with malloc's defaults (fewer with transparent huge
    # pages: 532 on the EPYC), a handful when the heap keeps them
    assert faults * 10 < default_faults, (faults, default_faults)


def test_keep_heap_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINRULE_KEEP_HEAP", "0")
    assert heap.keep_heap() is False
