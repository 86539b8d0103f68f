"""``chainrule derive expr`` through the CLI: the textbook numbers, every format, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chainrule.cli.commands.derive_expr import expression_last
from chainrule.derive.rules import RULES

E8 = ["derive", "expr", "-(t0*log(s0)+t1*log(s1)+t2*log(s2))", "--wrt", "s1",
      "--at", "t0=0,t1=1,t2=0,s0=0.228,s1=0.619,s2=0.153"]


def test_e1_sigmoid_forward_pass(cli) -> None:
    payload = cli.json(["derive", "expr", "sigmoid(z)", "--wrt", "z", "--at", "z=3.2"])
    assert round(payload["value"], 4) == 0.9608
    assert payload["expression"] == "sigmoid(z)"
    assert payload["steps"][0]["rule"] == "sigmoid"
    assert payload["steps"][0]["numeric"].startswith("σ(3.2) = 1/(1 + e^(-3.2)) = 0.9608")
    assert payload["steps"][0]["numeric_latex"][0] == \
        r"\sigma\left(3.2\right) = \frac{1}{1 + e^{- 3.2}} = 0.9608"
    assert round(payload["derivative_value"], 4) == round(0.9608342772 * (1 - 0.9608342772), 4)


@pytest.mark.parametrize(("wrt", "expected"), [("x", -4.0), ("y", -4.0), ("z", 3.0)])
def test_e6_chain_rule(cli, wrt: str, expected: float) -> None:
    payload = cli.json(["derive", "expr", "(x+y)*z", "--wrt", wrt, "--at", "x=-2,y=5,z=-4"])
    assert payload["value"] == -12.0
    assert payload["derivative_value"] == expected
    assert payload["values"] == {"x": -2.0, "y": 5.0, "z": -4.0}
    for step in payload["steps"]:
        assert set(step) >= {"rule", "text", "latex"} and step["rule"] in RULES


def test_e8_cross_entropy_with_a_leading_minus(cli) -> None:
    payload = cli.json(E8)
    assert round(payload["value"], 4) == 0.4797
    assert payload["derivative"] == "-t1/s1"
    assert payload["derivative_value"] == pytest.approx(-1 / 0.619)


def test_e9_mse_gradient_is_minus_two_t_minus_s_over_n(cli) -> None:
    payload = cli.json(["derive", "expr", "((t0-s0)^2+(t1-s1)^2)/2", "--wrt", "s0",
                        "--at", "t0=1,t1=0,s0=0.25,s1=0.5"])
    assert payload["value"] == pytest.approx((0.75**2 + 0.5**2) / 2)
    assert payload["derivative_value"] == pytest.approx(-2 * (1 - 0.25) / 2)


@pytest.mark.parametrize(("expr", "rule", "derivative"), [
    ("sigmoid(z)", "sigmoid", "(1 - sigmoid(z))*sigmoid(z)"),
    ("tanh(z)", "tanh", "1 - tanh(z)**2"),
    ("relu(z)", "relu", "Heaviside(z, 0)"),
    ("softplus(z)", "softplus", "sigmoid(z)"),
])
def test_e14_activation_identities(cli, expr: str, rule: str, derivative: str) -> None:
    payload = cli.json(["derive", "expr", expr, "--wrt", "z"])
    assert payload["steps"][0]["rule"] == rule
    assert payload["derivative"] == derivative
    assert "value" not in payload


def test_relu_derivative_is_step_in_text(cli) -> None:
    payload = cli.json(["derive", "expr", "relu(z)", "--wrt", "z"])
    assert payload["derivative_text"] == "step(z)"
    assert payload["derivative_latex"] == r"\theta\left(z\right)"


def test_variable_not_in_expression(cli) -> None:
    payload = cli.json(["derive", "expr", "y^2", "--wrt", "x", "--at", "y=3"])
    assert payload["derivative"] == "0" and payload["derivative_value"] == 0.0
    assert "does not depend on x" in payload["steps"][0]["text"]


@pytest.mark.parametrize("fmt", ["text", "latex", "markdown"])
def test_every_format_prints(cli, fmt: str) -> None:
    output = cli.run(["derive", "expr", "sigmoid(w*x+b)", "--wrt", "w", "--at",
                      "w=2,x=1.5,b=0.5", "--format", fmt]).stdout
    marker = {"text": "chain", "latex": r"\begin{align*}", "markdown": "**chain**"}[fmt]
    assert marker in output
    assert "0.0427" in output  # x·σ'(wx+b) at the point


def test_out_writes_the_file_atomically(cli, tmp_path: Path) -> None:
    out = tmp_path / "d.json"
    result = cli.run(["derive", "expr", "x^2", "--wrt", "x", "--at", "x=3", "--format", "json",
                      "--out", str(out)])
    assert json.loads(out.read_text())["derivative_value"] == 6.0
    assert result.stdout == ""
    assert [p.name for p in tmp_path.iterdir()] == ["d.json"]


def test_text_out_has_no_markup(cli, tmp_path: Path) -> None:
    out = tmp_path / "d.txt"
    cli.run(["derive", "expr", "x^2", "--wrt", "x", "--out", str(out)])
    text = out.read_text()
    assert "power" in text and "[dim]" not in text


def test_help_has_examples(cli) -> None:
    output = cli.run(["derive", "expr", "--help"]).stdout
    assert "Examples" in output and 'chainrule derive expr "sigmoid(z)"' in output


@pytest.mark.parametrize(("args", "message"), [
    (["x +", "--wrt", "x"], "malformed expression"),
    (["foo(x)", "--wrt", "x"], "unknown function 'foo'"),
    (["__import__('os').system('x')", "--wrt", "x"], "unsupported call"),
    (["x.real", "--wrt", "x"], "unsupported syntax"),
    (["lambda: x", "--wrt", "x"], "unsupported syntax"),
    (["[x for x in y]", "--wrt", "x"], "unexpected '['"),
    (["sum(x for x in y)", "--wrt", "x"], "unknown function 'sum'"),
    (["x" * 100_000, "--wrt", "x"], "the limit is 1000"),
    (["9**9**9**9", "--wrt", "x"], "too large"),
    (["x*y", "--wrt", "x", "--at", "x=1,y=oops"], "cannot read y"),
    (["x*y", "--wrt", "x", "--at", "x=1"], "no value for y"),
    (["x*y", "--wrt", "x", "--at", "x=[1,2],y=3"], "no value for x"),  # x=[..] gives x0, x1
    (["x*y", "--wrt", "x+1"], "--wrt expects one variable name"),
    (["log(x)", "--wrt", "x", "--at", "x=-1"], "not a finite real number"),
])
def test_bad_input_is_one_line_and_exit_2(cli, args: list[str], message: str) -> None:
    line = cli.fails(["derive", "expr", *args])
    assert line.startswith("error: ") and message in line


def test_leading_minus_expression_moves_behind_double_dash() -> None:
    moved = expression_last(["-x", "--wrt", "x", "-f", "json", "--at", "x=-1"],
                            valued={"--wrt", "-f", "--format", "--at"}, flags={"--help"})
    assert moved == ["--wrt", "x", "-f", "json", "--at", "x=-1", "--", "-x"]
    assert expression_last(["--wrt=x", "--", "-y"], valued={"--wrt"}, flags=set()) \
        == ["--wrt=x", "--", "-y"]


BCE = ["derive", "expr", "-t*log(sigmoid(w*x+b)) - (1-t)*log(1-sigmoid(w*x+b))", "--wrt", "w",
       "--at", "t=1,w=0.5,x=2,b=0.1"]


def test_issue_8_commands_print_true_and_short_steps(cli) -> None:
    """The issue's two commands: no -1^2, no "= -1 = -1", no x = x, σ′ worked out once."""
    payload = cli.json(["derive", "expr", "-t*log(s)", "--wrt", "s", "--at", "t=1,s=1"])
    assert [s["rule"] for s in payload["steps"]] == ["constant_multiple", "log"]
    assert payload["steps"][0]["numeric"] == "d/ds (-t·log(s)) = -1·1 = -1"  # was "-1^2 = -1"
    payload = cli.json(BCE)
    rules = [s["rule"] for s in payload["steps"]]
    assert rules.count("earlier_step") == 1 and len(rules) == 18
    cited = payload["steps"][rules.index("earlier_step")]
    assert cited["text"].startswith("by step 5:") and payload["steps"][4]["before"] == cited["before"]
    numbers = [s.get("numeric", "") for s in payload["steps"]]
    assert "d/dw (1 - σ(b + w·x)) = 0 + (-0.3747) = -0.3747" in numbers  # was "(-0.3747) + 0"
    assert "d/dw (-σ(b + w·x)) = -0.3747" in numbers  # was "-0.3747 = -0.3747"
    assert all(s["before"] != s["after"] for s in payload["steps"])
    markdown = cli.run([*BCE, "--format", "markdown"]).stdout
    assert "17. **earlier_step**" in markdown and "by step 5" in markdown
