"""``chainrule exercises``: files per format, Moodle XML structure, determinism, bad input."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest


def test_moodle_xml_has_moodles_numerical_question_structure(cli, tmp_path: Path) -> None:
    cli.run(["exercises", "--topic", "neuron", "--count", "2", "--seed", "4", "--format",
             "moodle", "--out", str(tmp_path)])
    root = ET.parse(tmp_path / "neuron-s4-d2.xml").getroot()
    assert root.tag == "quiz"
    questions = root.findall("question[@type='numerical']")
    assert len(questions) == 2 * 4  # four answers per neuron exercise
    for q in questions:
        assert q.findtext("name/text")
        text = q.find("questiontext")
        assert text is not None and text.get("format") == "html"
        assert r"\(" in text.findtext("text") and r"\)" in text.findtext("text")
        answer = q.find("answer")
        assert answer is not None and answer.get("fraction") == "100"
        float(answer.findtext("text"))
        assert float(answer.findtext("tolerance")) > 0
        assert "<ol>" in q.findtext("generalfeedback/text")


def test_json_lists_each_exercise_with_its_parts(cli) -> None:
    payload = cli.json(["exercises", "--topic", "graph", "--count", "3", "--seed", "2"])
    assert payload["count"] == payload["verified"] == 3
    for ex in payload["exercises"]:
        assert {"topic", "prompt", "expression", "wrt", "at", "answer", "solution"} <= set(ex)
        assert set(ex["prompt"]) == {"text", "latex"}


def test_same_seed_gives_byte_identical_files(cli, tmp_path: Path) -> None:
    for run in ("one", "two"):
        for fmt in ("json", "moodle", "markdown"):
            cli.run(["exercises", "--topic", "pooling", "--count", "4", "--seed", "9",
                     "--format", fmt, "--out", str(tmp_path / run)])
    files = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert len(files) == 4
    for name in files:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    other = tmp_path / "three"
    cli.run(["exercises", "--topic", "pooling", "--count", "4", "--seed", "10", "--format",
             "json", "--out", str(other)])
    assert (other / "pooling-s10-d2.json").read_bytes() != (tmp_path / "one" / "pooling-s9-d2.json").read_bytes()


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_latex_sheet_and_key_compile_without_overfull_boxes(cli, tmp_path: Path) -> None:
    cli.run(["exercises", "--topic", "backprop", "--count", "2", "--difficulty", "3",
             "--out", str(tmp_path)])
    for kind in ("sheet", "key"):
        assert (tmp_path / f"backprop-s1-d3-{kind}.pdf").is_file()
        log = (tmp_path / f"backprop-s1-d3-{kind}.log").read_text(errors="replace")
        widths = [float(line.split("(")[1].split("pt")[0]) for line in log.splitlines()
                  if line.startswith("Overfull")]
        assert all(w <= 2.0 for w in widths), (kind, widths)


def test_stdout_latex_has_sheet_then_key(cli) -> None:
    out = cli.run(["exercises", "--topic", "params", "--count", "1"]).stdout
    assert out.index(r"\begin{enumerate}") < out.index("answer key") < out.index(r"\end{document}")


@pytest.mark.parametrize("args", [
    ["--topic", "neuron", "--count", "101"],
    ["--topic", "neuron", "--count", "0"],
    ["--topic", "neuron", "--difficulty", "4"],
    ["--topic", "calculus"],
    ["--topic", "neuron", "--seed", "-1"],
    ["--topic", "neuron", "--format", "pdf"],
])
def test_bad_input_is_one_line_and_exit_2(cli, args: list[str]) -> None:
    cli.fails(["exercises", *args])


def test_out_that_is_a_file_is_refused(cli, tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    assert "not a folder" in cli.fails(["exercises", "--topic", "conv", "--format", "json",
                                        "--out", str(target)])


def test_json_is_one_object(cli) -> None:
    result = cli.run(["exercises", "--topic", "conv", "--count", "1", "--format", "json"])
    assert json.loads(result.stdout)["topic"] == "conv"


_needs_pdflatex = pytest.mark.skipif(shutil.which("pdflatex") is None,
                                     reason="pdflatex not installed")


@_needs_pdflatex
def test_pdf_link_in_out_folder_is_refused_before_work_and_its_target_untouched(
        cli, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.pdf"
    victim.write_bytes(b"keep")
    (out / "neuron-s1-d2-sheet.pdf").symlink_to(victim)
    line = cli.fails(["exercises", "--topic", "neuron", "--count", "1", "--out", str(out)])
    assert "symbolic link" in line
    assert victim.read_bytes() == b"keep"
    assert not (out / "neuron-s1-d2-sheet.tex").exists()  # refused before the sheet was written


@_needs_pdflatex
def test_compile_pdf_never_writes_through_a_link_beside_the_tex(tmp_path: Path) -> None:
    from chainrule.cli.handout import compile_pdf

    tex = tmp_path / "doc.tex"
    tex.write_text("\\documentclass{article}\\begin{document}Hi\\end{document}\n")
    victim = tmp_path / "victim"
    victim.write_bytes(b"\\relax\n")  # an .aux pdflatex can read, and would overwrite in place
    (tmp_path / "doc.aux").symlink_to(victim)  # pdflatex writes X.aux in its output folder
    pdf = compile_pdf(tex)
    assert pdf == tmp_path / "doc.pdf" and pdf.read_bytes().startswith(b"%PDF")
    assert victim.read_bytes() == b"\\relax\n"
    assert (tmp_path / "doc.aux").is_symlink()  # left as it was, not replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "doc.aux", "doc.log", "doc.pdf", "doc.tex", "victim"]


@_needs_pdflatex
def test_compile_pdf_refuses_a_link_at_the_pdf(tmp_path: Path) -> None:
    from chainrule.cli.handout import compile_pdf
    from chainrule.errors import ChainruleError

    tex = tmp_path / "doc.tex"
    tex.write_text("\\documentclass{article}\\begin{document}Hi\\end{document}\n")
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep")
    (tmp_path / "doc.pdf").symlink_to(victim)
    with pytest.raises(ChainruleError, match="symbolic link"):
        compile_pdf(tex)
    assert victim.read_bytes() == b"keep"
