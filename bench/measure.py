"""Run a command in a fresh process and measure its wall time and its peak resident set size.

The peak RSS is the ``ru_maxrss`` that ``os.wait4`` reports for that one child (kilobytes on
Linux; getrusage(2)), so no GNU ``time`` is needed and runs do not mix as they would in
``RUSAGE_CHILDREN``. Sizes are given in MB of 10^6 bytes. Linux carries the high-water mark of
the memory a process had before ``exec`` into its ``ru_maxrss`` (exec_mmap), and a child that
Python starts by vfork or fork had the parent's memory (a pytest worker, the bench's own arrays):
so the command is started by a small launcher (``python -I -S``, about 10 MB), which forks and
execs it and reports the grandchild's figure, which then counts only the launcher's few MB on
top of the command's own. The launcher adds about 10 ms of wall time.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# argv: RSS_FILE COMMAND...; writes the command's ru_maxrss (KB) to RSS_FILE, exits with its status
LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


@dataclass(frozen=True)
class Measured:
    wall_s: float
    peak_rss_mb: float
    stdout: str


def run_measured(command: list[str], *, env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> Measured:
    """Run ``command`` to the end; raise RuntimeError with its stderr's tail if it fails."""
    with tempfile.TemporaryFile() as errors, tempfile.TemporaryDirectory() as folder:
        rss_file = Path(folder) / "rss"
        begin = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-I", "-S", "-c", LAUNCHER, str(rss_file),
                                    *command], stdout=subprocess.PIPE, stderr=errors, env=env,
                                   cwd=cwd)
        out, _ = process.communicate()
        wall = time.perf_counter() - begin
        if process.returncode:
            errors.seek(0)
            tail = errors.read().decode("utf-8", "replace")[-2000:]
            raise RuntimeError(f"{' '.join(command)} exited {process.returncode}:\n{tail}")
        peak_kb = int(rss_file.read_text())
    return Measured(wall, peak_kb * 1024 / 1e6, out.decode("utf-8", "replace"))
