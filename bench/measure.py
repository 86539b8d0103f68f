"""Run a command in a fresh process and measure its wall time and its peak resident set size.

The peak RSS is the ``ru_maxrss`` that ``os.wait4`` reports for that one child (kilobytes on
Linux; getrusage(2)), so no GNU ``time`` is needed and runs do not mix as they would in
``RUSAGE_CHILDREN``. Sizes are given in MB of 10^6 bytes.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measured:
    wall_s: float
    peak_rss_mb: float
    stdout: str


def run_measured(command: list[str], *, env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> Measured:
    """Run ``command`` to the end; raise RuntimeError with its stderr's tail if it fails."""
    with tempfile.TemporaryFile() as errors:
        begin = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, env=env,
                                   cwd=cwd)
        assert process.stdout is not None
        out = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - begin
        process.stdout.close()
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            errors.seek(0)
            tail = errors.read().decode("utf-8", "replace")[-2000:]
            raise RuntimeError(f"{' '.join(command)} exited {process.returncode}:\n{tail}")
    return Measured(wall, usage.ru_maxrss * 1024 / 1e6, out.decode("utf-8", "replace"))
