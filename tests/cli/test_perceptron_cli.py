"""``chainrule perceptron`` through the CLI: E2 (custom patterns and CSV), E3 (OR), XOR."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import assert_compiles, needs_pdflatex

E2 = ["--patterns", "[[1,2],[-1,2],[0,-1]]", "--targets", "[1,0,0]", "--w", "1,-0.8", "--no-bias"]


def _check_e2(payload: dict) -> None:
    weights = [step["w"] for step in payload["steps"]]
    assert weights[:3] == [pytest.approx([2.0, 1.2]), pytest.approx([3.0, -0.8]),
                           pytest.approx([3.0, 0.2])]
    assert all(w == pytest.approx([3.0, 0.2]) for w in weights[3:])
    assert payload["converged"] is True
    assert payload["w"] == pytest.approx([3.0, 0.2]) and payload["b"] is None


def test_e2_patterns(cli) -> None:
    payload = cli.json(["perceptron", *E2])
    _check_e2(payload)
    first = payload["steps"][0]
    assert set(first) >= {"epoch", "p", "t", "a", "e", "w", "b"}
    assert (first["epoch"], first["p"], first["t"], first["a"], first["e"]) == (1, [1.0, 2.0],
                                                                                1.0, 0.0, 1.0)


def test_e2_csv(cli, tmp_path: Path) -> None:
    data = tmp_path / "e2.csv"
    data.write_text("p1,p2,t\n1,2,1\n-1,2,0\n0,-1,0\n")
    _check_e2(cli.json(["perceptron", "--data", str(data), "--w", "1,-0.8", "--no-bias"]))


def test_e3_or(cli) -> None:
    payload = cli.json(["perceptron", "--data", "or", "--w", "0.5,0.5", "--b", "-0.25"])
    assert payload["converged"] is True
    assert all(step["e"] == 0.0 for step in payload["steps"])
    assert len(payload["steps"]) == 4 and payload["b"] == -0.25


def test_xor_does_not_converge(cli) -> None:
    payload = cli.json(["perceptron", "--data", "xor", "--w", "0,0", "--epochs", "10"])
    assert payload["converged"] is False
    assert len(payload["steps"]) == 40


def test_text_table(cli) -> None:
    text = cli.run(["perceptron", *E2]).stdout
    assert "converged: w = [3, 0.2]" in text


@needs_pdflatex
def test_standalone_latex_compiles(cli, tmp_path: Path) -> None:
    target = tmp_path / "trace.tex"
    cli.run(["perceptron", "--data", "and", "--w", "0,0", "--format", "latex", "--standalone",
             "--out", str(target)])
    assert_compiles(target)


@pytest.mark.parametrize(("args", "message"), [
    (["--data", "xnor", "--w", "0,0"], "expected or, and, nand, xor or a CSV file"),
    (["--data", "or", "--w", "0,0,0"], "w has 3 values"),
    (["--data", "or", "--w", "0,x"], "cannot read --w"),
    (["--patterns", "[[1,2]]", "--w", "0,0"], "go together"),
    (["--patterns", "[[1,2],[3]]", "--targets", "[1,0]", "--w", "0,0"], "ragged"),
    (["--patterns", "[[1,2]]", "--targets", "[1,0]", "--w", "0,0"], "1 patterns but 2 targets"),
    (["--w", "0,0"], "no data"),
    (["--data", "or", "--w", "0,0", "--b", "1", "--no-bias"], "contradict"),
])
def test_bad_input_is_one_line(cli, args: list[str], message: str) -> None:
    line = cli.fails(["perceptron", *args])
    assert line.startswith("error: ") and message in line


def test_nested_weights_are_refused(cli) -> None:
    line = cli.fails(["perceptron", "--data", "or", "--w", "[1],[2]"])
    assert line == "error: --w must be a list of numbers such as \"0.5,-0.3\", got '[1],[2]'"
