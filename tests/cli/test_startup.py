"""Start-up: ``chainrule --help``, ``--version`` and a bare ``chainrule`` load neither SymPy nor
NumPy, Numba or matplotlib (each command imports what it needs when it runs), a bare
``chainrule`` shows the help and exits 0, and shell completion is offered. Checked in fresh
processes through ``sys.modules``, never by timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chainrule.cli import commands

HEAVY = ("sympy", "numba", "matplotlib", "numpy")
RUNNER = """
import json, sys
sys.argv = ["chainrule", *json.loads(sys.argv[1])]
from chainrule.cli.main import main
try:
    main()
except SystemExit as exc:
    code = exc.code or 0
else:
    code = 0
heavy = sorted(name for name in {heavy!r} if name in sys.modules)
print("\\nRESULT " + json.dumps({{"code": code, "heavy": heavy}}))
"""
IMPORT_ONE = """
import sys
import {module}
print(sorted(name for name in {heavy!r} if name in sys.modules))
"""


def _run(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "80"}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                           env=env, timeout=120, check=False)


def _start(args: list[str]) -> tuple[dict, str]:
    result = _run(RUNNER.format(heavy=HEAVY), json.dumps(args))
    output, _, last = result.stdout.rpartition("\nRESULT ")
    assert last, result.stderr
    return json.loads(last), output + result.stderr


def _modules() -> list[str]:
    return sorted(path.stem for path in Path(commands.__path__[0]).glob("*.py")
                  if path.stem != "__init__")


@pytest.mark.parametrize("module", _modules())
def test_command_modules_import_nothing_heavy(module):
    result = _run(IMPORT_ONE.format(module=f"chainrule.cli.commands.{module}", heavy=HEAVY))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("args", [["--help"], []])
def test_help_loads_nothing_heavy_and_exits_0(args):
    result, output = _start(args)
    assert result == {"code": 0, "heavy": []}
    assert "Usage: chainrule" in output and "train" in output and "summary" in output


def test_version_loads_nothing_heavy():
    result, output = _start(["--version"])
    assert result == {"code": 0, "heavy": []}
    assert output.startswith("chainrule ")


def test_bare_chainrule_shows_the_help_and_exits_0():
    result, output = _start([])
    assert result["code"] == 0
    assert "Usage: chainrule" in output and "--install-completion" in output


def test_a_command_still_finds_its_heavy_imports(cli):
    """The imports moved into the command functions are there when the command runs."""
    assert "1 - tanh" in cli.run(["derive", "expr", "tanh(x)", "--wrt", "x"]).stdout
    assert "13" in cli.run(["summary", "mlp:2-3-1"]).stdout  # 3·(2+1) + 1·(3+1) parameters


def test_shell_completion_script():
    # typer finds the shell from the process tree: run under bash (make's sh is not one it knows)
    command = f'"{sys.executable}" -m chainrule.cli.main --show-completion; exit $?'
    shown = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120,
                           check=False)
    assert shown.returncode == 0 and "_chainrule_completion" in shown.stdout, shown.stderr
    env = {**os.environ, "_CHAINRULE_COMPLETE": "complete_bash", "COMP_WORDS": "chainrule derive n",
           "COMP_CWORD": "2"}
    completed = subprocess.run([sys.executable, "-m", "chainrule.cli.main"], capture_output=True,
                               text=True, env=env, timeout=120, check=False)
    assert completed.stdout.split() == ["net", "neuron"]
