"""The README's terminal samples are what the commands print at 80 columns, character for
character: a change to a table's layout or a derivation shows up here, not in a user's terminal."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chainrule.cli.main import load_commands

README = Path(__file__).parents[2] / "README.md"
SAMPLES = {  # the command as the README names it, and the title of its printed table
    'derive expr "sigmoid(z)" --wrt z --at "z=3.2"': "d/dz of σ(z)",
    'derive graph "(x+y)*z" --at "x=-2,y=5,z=-4"': "computation graph of z*(x + y)",
}


def readme_block(title: str) -> str:
    """The fenced block of the README whose first line is the table's title."""
    text = README.read_text(encoding="utf-8")
    at = text.index(title)
    start = text.rindex("```\n", 0, at) + len("```\n")
    return text[start:text.index("```", at)]


@pytest.mark.parametrize("command", SAMPLES)
def test_the_readme_sample_is_the_output_at_80_columns(command: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    assert f"`chainrule {command}`" in README.read_text(encoding="utf-8")
    monkeypatch.setenv("COLUMNS", "80")
    result = CliRunner().invoke(load_commands(), shlex.split(command))
    assert result.exit_code == 0
    assert result.stdout == readme_block(SAMPLES[command])
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
