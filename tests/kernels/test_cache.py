"""Generated modules: named by the hash of their source, written once, warm in a second process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chainrule.kernels.cache import cache_dir, load_source, module_name

SOURCE = "import math\nfrom numba import njit\n\n\n@njit(cache=True)\ndef twice(x):\n    return 2.0 * x\n"


def test_module_name_is_a_hash_of_the_source() -> None:
    assert module_name("t", SOURCE) == module_name("t", SOURCE)
    assert module_name("t", SOURCE) != module_name("t", SOURCE + "\n")
    assert module_name("t", SOURCE).startswith("chainrule_k_t_")


def test_load_writes_once_and_registers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINRULE_CACHE", str(tmp_path))
    source = SOURCE + "# test_load_writes_once\n"
    module = load_source("t", source)
    path = tmp_path / f"{module_name('t', source)}.py"
    assert path.read_text() == source
    assert sys.modules[module.__name__] is module
    assert load_source("t", source) is module
    assert module.twice(2.5) == 5.0


def test_cache_dir_defaults_to_user_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CHAINRULE_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() == tmp_path / ".cache" / "chainrule" / "kernels"


def test_numba_cache_is_written_beside_the_module(tmp_path: Path) -> None:
    script = ("from chainrule.kernels.cache import load_source\n"
              f"m = load_source('warm', {SOURCE!r})\nprint(m.twice(1.5))\n")
    env = {**os.environ, "CHAINRULE_CACHE": str(tmp_path)}
    env.pop("NUMBA_CACHE_DIR", None)  # numba's own override would put the index elsewhere
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                              text=True, check=True)
        assert done.stdout.strip() == "3.0"
    index_files = list(tmp_path.rglob("*.nbi"))
    assert index_files, "numba wrote no cache index beside the generated module"
