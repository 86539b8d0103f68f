"""``chainrule handout``: one PDF with the gallery figures, no overfull box over 2 pt, no blank
page; the TOML plan; bad input."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

needs_tex = pytest.mark.skipif(shutil.which("pdflatex") is None or shutil.which("pdfimages") is None,
                               reason="pdflatex/poppler-utils not installed")


def _overfull_pt(log: str) -> list[float]:
    return [float(m) for m in re.findall(r"^Overfull \\[hv]box \((\d+(?:\.\d+)?)pt too",
                                         log, re.MULTILINE)]


@needs_tex
def test_handout_of_e1_e7_e10_e15_has_figures_and_fits_the_page(cli, tmp_path: Path) -> None:
    out = tmp_path / "lecture"
    cli.run(["handout", "--examples", "E1,E7,E10,E15", "--exercises", "graph:2", "--out", str(out)])
    pdf = out / "handout.pdf"
    assert pdf.is_file()
    assert all(w <= 2.0 for w in _overfull_pt((out / "handout.log").read_text(errors="replace")))
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True,
                            check=True).stdout.splitlines()[2:]
    assert len([line for line in images if " image " in line]) >= 2
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(
        ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout).group(1))
    for page in range(1, pages + 1):  # no blank page: every page has words or a figure
        words = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
                               capture_output=True, text=True, check=True).stdout.split()
        assert len(words) > 3 or any(line.split()[0] == str(page) for line in images), page
    tex = (out / "handout.tex").read_text()
    assert tex.count(r"\section{") == 6  # four examples, exercises, key
    assert r"\includegraphics" in tex and "e07/" in tex


def test_toml_plan(cli, tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text('title = "Lecture 4"\nexamples = ["E16"]\n'
                    '[[exercises]]\ntopic = "params"\ncount = 2\ndifficulty = 1\n')
    cli.run(["handout", "--plan", str(plan), "--out", str(tmp_path / "h"), "--no-pdf"])
    tex = (tmp_path / "h" / "handout.tex").read_text()
    assert "Lecture 4" in tex and r"\section{Answer key}" in tex and "E16" in tex
    assert not (tmp_path / "h" / "handout.pdf").exists()


@pytest.mark.parametrize("args", [
    ["--examples", "E99"],
    ["--examples", "X1"],
    ["--exercises", "neuron"],
    ["--exercises", "neuron:many"],
    ["--exercises", "calculus:2"],
    ["--exercises", "neuron:50"],
    [],
])
def test_bad_input_is_one_line_and_exit_2(cli, tmp_path: Path, args: list[str]) -> None:
    cli.fails(["handout", *args, "--out", str(tmp_path / "x"), "--no-pdf"])


@pytest.mark.parametrize("text", ['title = 3\n', 'colour = "red"\n', 'examples = [\n',
                                  '[[exercises]]\ntopic = "neuron"\ncount = "two"\n'])
def test_bad_plan_is_one_line_and_exit_2(cli, tmp_path: Path, text: str) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(text)
    cli.fails(["handout", "--plan", str(plan), "--out", str(tmp_path / "x"), "--no-pdf"])


def test_exercise_blocks_over_100_exercises_are_refused_before_work(cli, tmp_path: Path) -> None:
    out = tmp_path / "h"
    line = cli.fails(["handout", *["--exercises", "graph:20"] * 6, "--no-pdf", "--out", str(out)])
    assert "120 exercises" in line and "100" in line
    assert not (out / "handout.tex").exists()


@pytest.mark.parametrize("blocks", [
    '[[exercises]]\ntopic = "graph"\ncount = 1\n' * 31,  # was cut to 31 blocks, silently
    '[[exercises]]\ntopic = "graph"\ncount = 1\nseed = -1\n',  # failed only after the examples
])
def test_plan_blocks_are_bounded_before_work(cli, tmp_path: Path, blocks: str) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text('examples = ["E1"]\n' + blocks)
    out = tmp_path / "h"
    cli.fails(["handout", "--plan", str(plan), "--no-pdf", "--out", str(out)])
    assert not (out / "e01").exists()  # the example's script did not run


def test_link_at_handout_tex_is_refused_before_work(cli, tmp_path: Path) -> None:
    out = tmp_path / "h"
    out.mkdir()
    victim = tmp_path / "victim.tex"
    victim.write_text("keep")
    (out / "handout.tex").symlink_to(victim)
    assert "symbolic link" in cli.fails(["handout", "--examples", "E1", "--no-pdf",
                                         "--out", str(out)])
    assert victim.read_text() == "keep"
    assert not (out / "e01").exists()


@needs_tex
def test_link_at_handout_pdf_is_refused_and_its_target_untouched(cli, tmp_path: Path) -> None:
    out = tmp_path / "h"
    out.mkdir()
    victim = tmp_path / "victim.pdf"
    victim.write_bytes(b"keep")
    (out / "handout.pdf").symlink_to(victim)
    assert "symbolic link" in cli.fails(["handout", "--exercises", "graph:1", "--out", str(out)])
    assert victim.read_bytes() == b"keep"
    assert not (out / "handout.tex").exists()


def test_help_shows_the_plan_schema_as_typed(cli) -> None:
    """rich reads [[...]] as markup: the TOML table header must survive into the help."""
    assert "[[exercises]]" in cli.run(["handout", "--help"]).stdout
