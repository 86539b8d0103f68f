"""``chainrule derive graph`` through the CLI: E6 and E7 from the JSON, plots, LaTeX, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import assert_compiles, needs_pdflatex

E7 = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
E7_AT = "w0=2,w1=-3,w2=-3,x0=-1,x1=-2"


def _nodes(payload: dict) -> dict[str, dict]:
    return {node["name"]: node for node in payload["nodes"]}


def test_e6_json(cli) -> None:
    payload = cli.json(["derive", "graph", "(x+y)*z", "--at", "x=-2,y=5,z=-4"])
    nodes = _nodes(payload)
    assert payload["output"] == -12.0 and payload["output_name"] == "f"
    assert nodes["q"]["value"] == 3.0 and nodes["q"]["expr"] == "x + y"
    assert nodes["f"]["value"] == -12.0
    assert (nodes["x"]["grad"], nodes["y"]["grad"], nodes["z"]["grad"]) == (-4.0, -4.0, 3.0)
    assert set(nodes["q"]) >= {"name", "op", "expr", "value", "grad"}


def test_e7_json(cli) -> None:
    payload = cli.json(["derive", "graph", E7, "--at", E7_AT])
    nodes = _nodes(payload)
    assert payload["output_name"] == "z"
    assert payload["output"] == pytest.approx(0.7311, abs=5e-5)
    assert nodes["v"]["grad"] == pytest.approx(-0.5344, abs=5e-5)
    assert [nodes[f"w{i}"]["grad"] for i in range(3)] == pytest.approx([-0.1966, -0.3932, 0.1966],
                                                                        abs=5e-5)
    assert [nodes[f"x{i}"]["grad"] for i in range(2)] == pytest.approx([0.3932, -0.5898], abs=5e-5)
    factors = [f["value"] for f in payload["chains"]["w0"][0]]
    assert factors == pytest.approx([-0.5344, 1, 0.3679, -1, 1, 1, -1], abs=5e-5)


def test_vector_values_and_sigmoid_node(cli) -> None:
    kept = cli.json(["derive", "graph", "sigmoid(w0*x0+w1*x1+w2)", "--at", "w=[2,-3,-3],x=[-1,-2]"])
    expanded = cli.json(["derive", "graph", "sigmoid(w0*x0+w1*x1+w2)", "--at",
                         "w=[2,-3,-3],x=[-1,-2]", "--expand-sigmoid"])
    assert "sigmoid" in {n["op"] for n in kept["nodes"]}
    assert "sigmoid" not in {n["op"] for n in expanded["nodes"]}
    assert kept["gradients"] == pytest.approx(expanded["gradients"])


def test_plot_writes_a_png(cli, tmp_path: Path) -> None:
    target = tmp_path / "graph.png"
    cli.run(["derive", "graph", E7, "--at", E7_AT, "--plot", str(target)])
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in tmp_path.iterdir() if p.name != "graph.png"]  # no temp files left


def test_text_and_markdown(cli) -> None:
    text = cli.run(["derive", "graph", "(x+y)*z", "--at", "x=-2,y=5,z=-4"]).stdout
    assert "∂f/∂x = ∂f/∂q·∂q/∂x = (-4)·1 = -4" in text
    markdown = cli.run(["derive", "graph", "(x+y)*z", "--at", "x=-2,y=5,z=-4",
                        "--format", "markdown"]).stdout
    assert "| $q$ | add | $x + y$ | 3 | -4 |" in markdown


def test_out_file(cli, tmp_path: Path) -> None:
    target = tmp_path / "g.json"
    cli.run(["derive", "graph", "x*y", "--at", "x=2,y=3", "--format", "json", "--out", str(target)])
    assert '"output": 6.0' in target.read_text()


@needs_pdflatex
def test_standalone_latex_compiles(cli, tmp_path: Path) -> None:
    target = tmp_path / "e7.tex"
    cli.run(["derive", "graph", E7, "--at", E7_AT, "--format", "latex", "--standalone",
             "--out", str(target)])
    assert_compiles(target)


@pytest.mark.parametrize(("args", "message"), [
    (["x*y", "--at", "x=1"], "missing values for y"),
    (["x*y", "--at", "x=1,y=oops"], "cannot read y"),
    (["x*y", "--at", "x=1,y=2,k=3"], "does not use"),
    (["x*", "--at", "x=1"], ""),
    (["log(x)", "--at", "x=-1"], "not a finite real number"),
    (["x*y", "--at", "x=1,y=2", "--plot", "graph.pdf"], "expected a .png"),
])
def test_bad_input_is_one_line(cli, args: list[str], message: str) -> None:
    line = cli.fails(["derive", "graph", *args])
    assert line.startswith("error: ") and message in line
