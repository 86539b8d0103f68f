"""Run a check script of this folder in a subprocess under Numba's CUDA simulator.

Each ``check_<module>.py`` prints one line per comparison, ``name value`` (a relative error or a
count); the ``test_<module>_sim.py`` beside it runs the script once (module-scoped fixture) and
asserts on the lines it names, so a comparison that is missing fails too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[3]


def run_check(name: str, *, simulate: bool = True) -> dict[str, float]:
    """Run ``check_<name>.py`` (with NUMBA_ENABLE_CUDASIM=1 unless not ``simulate``) and return
    its ``name value`` lines."""
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    if simulate:
        env["NUMBA_ENABLE_CUDASIM"] = "1"
    script = Path(__file__).with_name(f"check_{name}.py")
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True,
                          check=False, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in done.stdout.splitlines() if line.strip()}
