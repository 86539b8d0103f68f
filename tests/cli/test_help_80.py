"""Every example in the CLI's --help texts runs and exits 0, at COLUMNS=80, in a scratch folder
that holds the small files the examples name (a checkpoint trained on xor, two CSV files).
Examples that need Fashion-MNIST, a CUDA GPU, or that build the whole gallery or a handout are
listed with the reason they are skipped here (the gallery and handout have their own tests)."""

from __future__ import annotations

import itertools
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main

from chainrule.cli.main import load_commands

SKIP = {  # a word of the example: why it does not run here
    "fashion-mnist": "downloads or reads Fashion-MNIST",
    "fm.npz": "a Fashion-MNIST checkpoint",
    "fm-cnn.npz": "a Fashion-MNIST checkpoint",
    "cuda": "needs a CUDA GPU",
    "gallery": "builds gallery entries (tests/gallery)",
    "handout": "runs the gallery scripts and pdflatex (tests/cli/test_handout*)",
}


def _commands(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))
    if not hasattr(command, "commands"):
        yield path, command


def examples() -> list[pytest.param]:
    root = typer.main.get_command(load_commands())
    params = []
    for path, command in _commands(root):
        text = (getattr(command, "help", None) or "").replace(" \\\n", " ")  # folded lines
        for line in text.splitlines():
            if line.startswith("  ") and line.strip().startswith("chainrule "):
                argv = shlex.split(line.strip())[1:]
                reason = next((why for word, why in SKIP.items() if word in argv), None)
                marks = [pytest.mark.skip(reason=reason)] if reason else []
                params.append(pytest.param(argv, marks=marks, id=" ".join(argv)[:70]))
    return params


EXAMPLES = examples()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory, cli) -> Path:
    folder = tmp_path_factory.mktemp("examples")
    cli.run(["train", "mlp:2-4-1", "--data", "xor", "--epochs", "1", "--out",
             str(folder / "xor.npz"), "--quiet"])
    (folder / "patterns.csv").write_text("0,0\n0,1\n1,0\n1,1\n")
    (folder / "points.csv").write_text("x1,x2,label\n0,0,0\n1,0,1\n0,1,1\n1,1,1\n")
    return folder


def test_example_lines_fit_80_columns(monkeypatch):
    """Long examples are folded into shell lines joined by `` \\`` (one word longer than the
    line, such as derive conv's 6×6 image, is the only exception)."""
    from typer.testing import CliRunner

    monkeypatch.setenv("COLUMNS", "80")
    app = load_commands()
    for command in (["train"], ["gradcheck"], ["kernels", "show"], ["summary"], ["rules"],
                    ["derive", "graph"], ["perceptron"]):
        output = CliRunner().invoke(app, [*command, "--help"]).stdout
        examples = output.split("Examples")[1].split("╭")[0].splitlines()
        assert [line for line in examples if line.strip() and not
                (line.startswith(("   chainrule ", "       ")))] == [], command
        assert all(line.rstrip().endswith("\\") for line, after in itertools.pairwise(examples)
                   if after.strip() and after.startswith("       ")), command


def test_there_are_examples_and_most_run():
    assert len(EXAMPLES) >= 40
    skipped = [p for p in EXAMPLES if p.marks]
    assert len(skipped) <= len(EXAMPLES) // 4


@pytest.mark.parametrize("argv", EXAMPLES)
def test_help_example_exits_0(argv, cli, scratch, monkeypatch):
    monkeypatch.chdir(scratch)
    monkeypatch.setenv("COLUMNS", "80")
    cli.run(argv)
