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


@pytest.mark.parametrize(("text", "message"), [
    ("p1,p2,t\n0,0,0\nnan,1,1\n", "nan is not finite"),
    ("p1,p2,t\n0,0,0\n1,inf,1\n", "inf is not finite"),
    ("p1,p2,t\n0,0,0\n1e38,1,1\n", "magnitude 1e+38, over the limit of 1e+06"),
])
def test_non_finite_or_huge_csv_values_are_refused(cli, tmp_path: Path, text: str,
                                                   message: str) -> None:
    data = tmp_path / "nan.csv"
    data.write_text(text)
    assert message in cli.fails(["perceptron", "--data", str(data), "--w", "0,0"])
    assert message in cli.fails(["train", "perceptron:2", "--data", str(data), "--epochs", "1"])


def test_epochs_times_patterns_is_capped_before_the_run(cli) -> None:
    line = cli.fails(["perceptron", "--data", "xor", "--w", "0,0", "--epochs", "100000000"])
    assert line == ("error: the trace of --epochs 100000000 × 4 patterns: 400,000,000 steps "
                    "(epochs × patterns) is over the limit of 200,000 (raise it with "
                    "CHAINRULE_MAX_PERCEPTRON_STEPS=N)")
    assert "CHAINRULE_MAX_PERCEPTRON_STEPS" in cli.fails(
        ["train", "perceptron:2", "--data", "xor", "--epochs", "100000000"])


def test_the_steps_cap_is_raisable(cli, monkeypatch) -> None:
    monkeypatch.setenv("CHAINRULE_MAX_PERCEPTRON_STEPS", "8")
    assert "over the limit of 8" in cli.fails(["perceptron", "--data", "xor", "--w", "0,0",
                                                "--epochs", "3"])
    assert len(cli.json(["perceptron", "--data", "xor", "--w", "0,0", "--epochs", "2"])["steps"]) \
        == 8


def test_trace_values_cap(cli, monkeypatch) -> None:
    monkeypatch.setenv("CHAINRULE_MAX_TRACE_VALUES", "10")
    assert "× 2 inputs: 16 values" in cli.fails(["perceptron", "--data", "xor", "--w", "0,0",
                                                   "--epochs", "2"])


@pytest.mark.parametrize("args", [["--lr", "nan"], ["--lr", "inf"], ["--b", "-inf"],
                                  ["--w", "1e300,0"]])
def test_non_finite_or_huge_numbers_are_refused(cli, args: list[str]) -> None:
    base = {"--lr": "1", "--b": "0", "--w": "0,0"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    line = cli.fails(["perceptron", "--data", "or", *[x for kv in base.items() for x in kv]])
    assert "--w, --b and --lr holds" in line


def test_strict_json_trace(cli) -> None:
    import json

    def refuse(name: str) -> None:
        raise ValueError(name)

    text = cli.run(["perceptron", "--data", "xor", "--w", "0,0", "--epochs", "3", "--lr", "1e6",
                    "--format", "json"]).stdout
    assert json.loads(text, parse_constant=refuse)["converged"] is False


# --at "w=[..],b=.." as in derive neuron (issue 11); --w/--b stay as aliases.

def test_at_gives_the_same_trace_as_w_and_b(cli) -> None:
    at = cli.json(["perceptron", "--data", "or", "--at", "w=[0.5,0.5],b=-0.25"])
    assert at == cli.json(["perceptron", "--data", "or", "--w", "0.5,0.5", "--b", "-0.25"])
    _check_e2(cli.json(["perceptron", *E2[:4], "--at", "w=[1,-0.8]", "--no-bias"]))


def test_at_without_b_starts_at_zero_and_a_scalar_w_is_one_weight(cli) -> None:
    payload = cli.json(["perceptron", "--patterns", "[[1],[-1]]", "--targets", "[1,0]",
                        "--at", "w=0.5"])
    assert payload["steps"][0]["w"] == [0.5] and payload["steps"][0]["b"] == 0.0
    assert payload["converged"] is True


@pytest.mark.parametrize(("args", "message"), [
    (["--at", "w=[0,0]", "--w", "0,0"], "give --at or --w/--b, not both"),
    (["--at", "w=[0,0]", "--b", "1"], "give --at or --w/--b, not both"),
    (["--at", "b=1"], "--at has no w"),
    (["--at", "w=[0,0],x=[1,2]"], "unknown name 'x' in --at: perceptron takes w and b"),
    (["--at", "w=[[0],[0]]"], "--at w must be a number or a list of numbers"),
    (["--at", "w=[0,0],b=[1,2]"], "--at b must be a number"),
    (["--at", "w=[0,0],b=1", "--no-bias"], "contradict"),
    (["--at", "w=[0,0"], "cannot read"),
    (["--at", "w=[1e300,0]"], "--at and --lr holds a value of magnitude 1e+300"),
    ([], "no initial weights: give --at \"w=[..],b=..\" or --w"),
])
def test_bad_at_is_one_line(cli, args: list[str], message: str) -> None:
    line = cli.fails(["perceptron", "--data", "or", *args])
    assert line.startswith("error: ") and message in line


def test_help_documents_at_and_the_aliases(cli) -> None:
    text = " ".join(cli.run(["perceptron", "--help"]).stdout.replace("│", " ").split())
    assert '--at "w=[1,-0.8],b=0"' in text or "w=[..],b=.." in text
    assert "alias" in text
