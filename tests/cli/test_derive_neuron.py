"""``chainrule derive neuron`` through the CLI: E5, the chain of factors, bad input."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_compiles, needs_pdflatex

E5_AT = "x=[1,2,3,4,5,6,7,8],w=3,b=2,t=[6,8,10,12,14,16,18,20]"


def test_e5_quadratic_cost(cli) -> None:
    payload = cli.json(["derive", "neuron", "--activation", "linear", "--loss", "half_mse",
                        "--at", E5_AT])
    assert payload["forward"]["L"] == pytest.approx(5.75)
    assert payload["forward"]["a"] == [5.0, 8.0, 11.0, 14.0, 17.0, 20.0, 23.0, 26.0]


def test_sigmoid_neuron_json(cli) -> None:
    payload = cli.json(["derive", "neuron", "--activation", "sigmoid", "--loss", "bce",
                        "--at", "x=[1,2],w=[0.5,-0.3],b=0.4,t=1"])
    a = 1 / (1 + np.exp(-0.3))
    assert payload["forward"]["a"] == pytest.approx(a)
    assert payload["gradients"]["w"] == pytest.approx([a - 1, 2 * (a - 1)])
    assert payload["gradients"]["b"] == pytest.approx(a - 1)
    assert payload["gradients"]["x"] == pytest.approx([0.5 * (a - 1), -0.3 * (a - 1)])
    rules = [step["rule"] for step in payload["steps"]]
    assert rules[:3] == ["log", "sigmoid", "sigmoid_bce"]
    assert all({"rule", "text", "latex"} <= set(step) for step in payload["steps"])
    assert payload["steps"][2]["value"] == pytest.approx(a - 1)


def test_softmax_layer(cli) -> None:
    payload = cli.json(["derive", "neuron", "--loss", "softmax_ce", "--at",
                        "x=[1,2],w=[[1,0],[0,1],[1,1]],b=[0,0,0],t=[0,1,0]"])
    z = np.array([1.0, 2.0, 3.0])
    s = np.exp(z) / np.exp(z).sum()
    assert payload["gradients"]["b"] == pytest.approx((s - [0, 1, 0]).tolist())
    assert payload["forward"]["L"] == pytest.approx(-np.log(s[1]))


def test_symbolic_only_without_values(cli) -> None:
    payload = cli.json(["derive", "neuron", "--activation", "tanh", "--loss", "mse"])
    assert payload["forward"] == {} and payload["gradients"] == {}
    assert payload["steps"][1]["rule"] == "tanh"
    assert payload["steps"][1]["after"] == "1 - tanh(z)**2"


def test_text_and_markdown(cli) -> None:
    text = cli.run(["derive", "neuron", "-a", "sigmoid", "-l", "bce"]).stdout
    assert "∂L/∂a·∂a/∂z" in text and "sigmoid_bce" in text
    markdown = cli.run(["derive", "neuron", "-a", "sigmoid", "-l", "bce", "--format",
                        "markdown"]).stdout
    assert ("| `sigmoid_bce` | $\\frac{\\partial L}{\\partial a} \\frac{\\partial a}{\\partial z} "
            "= a - t$ |  |") in markdown


@needs_pdflatex
def test_standalone_latex_compiles(cli, tmp_path: Path) -> None:
    target = tmp_path / "neuron.tex"
    cli.run(["derive", "neuron", "-a", "elu", "-l", "half_mse", "--at",
             "x=[1,2],w=[0.5,-0.3],b=0.4,t=1", "--format", "latex", "--standalone",
             "--out", str(target)])
    assert_compiles(target)


@pytest.mark.parametrize(("args", "message"), [
    (["--activation", "swish"], "unknown activation 'swish'"),
    (["--loss", "hinge"], "unknown loss 'hinge'"),
    (["--at", "x=[1,2,3],w=[1,2],b=0,t=1"], "x has 3 values but w has 2"),
    (["--at", "x=[1,2],w=[1,2],b=0,t=[1,0,1]"], "t has 3 values"),
    (["--at", "x=[1,2],w=[1,2],b=zero,t=1"], "cannot read b"),
    (["--at", "x=[1,2],w=[1,2],t=1"], "missing values for b"),
    (["--at", "x=[1,,2],w=[1,2],b=0,t=1"], "cannot read x"),
])
def test_bad_input_is_one_line(cli, args: list[str], message: str) -> None:
    line = cli.fails(["derive", "neuron", *args])
    assert line.startswith("error: ") and message in line


LEAKY_AT = "x=[0.5,-1],w=[0.4,0.3],b=-0.2,t=0.7"  # z = −0.3: the slope α is used


@pytest.mark.parametrize(("activation", "stated"), [
    ("leaky_relu:0.1", "α = 0.1, the slope for z < 0"), ("leaky_relu", "α = 0.01, the slope"),
    ("elu", "α = 1, the scale for z < 0"), ("elu:0.5", "α = 0.5, the scale")])
def test_alpha_is_shown_and_stated_in_every_format(cli, activation: str, stated: str) -> None:
    args = ["derive", "neuron", "-a", activation, "--at", LEAKY_AT]
    text = cli.run(args).stdout
    assert "α" in text and stated in text and "1/10" not in text and "1/100" not in text
    markdown = cli.run([*args, "--format", "markdown"]).stdout
    assert "\\alpha" in markdown and stated in markdown
    latex = cli.run([*args, "--format", "latex"]).stdout
    assert "\\alpha" in latex and stated.split(",")[0].replace("α", "$\\alpha $") in latex
    payload = cli.json([*args, "--format", "json"])
    assert payload["note"].startswith(stated)
    assert "alpha" in payload["steps"][1]["after"] and stated in payload["steps"][1]["text"]
    alpha = float(stated.split()[2].rstrip(","))
    z = -0.3
    slope = alpha if activation.startswith("leaky") else alpha * np.exp(z)  # g'(z), z < 0
    a = alpha * z if activation.startswith("leaky") else alpha * np.expm1(z)
    assert payload["forward"]["a"] == pytest.approx(a, rel=1e-12)
    assert payload["forward"]["da_dz"] == pytest.approx(slope, rel=1e-12)
    assert payload["gradients"]["b"] == pytest.approx((a - 0.7) * slope, rel=1e-12)


@needs_pdflatex
def test_standalone_latex_with_alpha_fits_the_page(cli, tmp_path: Path) -> None:
    target = tmp_path / "leaky.tex"
    cli.run(["derive", "neuron", "-a", "leaky_relu:0.1", "--at", LEAKY_AT, "--format", "latex",
             "--standalone", "--out", str(target)])
    assert "\\alpha" in target.read_text()
    assert_compiles(target)
    log = target.with_suffix(".log").read_text(errors="replace")
    overfull = [float(m) for m in re.findall(r"Overfull \\[hv]box \((\d+(?:\.\d+)?)pt", log)]
    assert all(width <= 2 for width in overfull), overfull
