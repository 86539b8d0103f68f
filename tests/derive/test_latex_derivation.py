"""LaTeX of derivations: exact raw strings, and every --standalone document compiles."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import assert_compiles, needs_pdflatex

from chainrule.derive.parser import parse_expression, symbol
from chainrule.derive.printing.latex import document, latex
from chainrule.derive.steps import derive_expression


def derive(text: str, wrt: str, **values: float) -> object:
    return derive_expression(parse_expression(text), symbol(wrt), values=values or None)


def test_sigmoid_derivation_exact() -> None:
    assert latex(derive("sigmoid(z)", "z")) == (
        "\\begin{align*}\n"
        r"\frac{d}{d z} \sigma\left(z\right) &= \left(1 - \sigma\left(z\right)\right) "
        r"\sigma\left(z\right) && \text{sigmoid} \\" "\n"
        r"\frac{d}{d z} \sigma\left(z\right) &= \left(1 - \sigma\left(z\right)\right) "
        r"\sigma\left(z\right) && \text{result}" "\n"
        "\\end{align*}"
    )


def test_power_rule_with_numbers_exact() -> None:
    assert latex(derive("x**3", "x", x=2)) == (
        "\\begin{align*}\n"
        r"\frac{d}{d x} \left(x^{3}\right) &= 3 x^{2} && \text{power} \\" "\n"
        r"&\quad \frac{d}{d x} \left(x^{3}\right) = 3 \cdot 2^{2} = 12 \\" "\n"
        r"\frac{d}{d x} \left(x^{3}\right) &= 3 x^{2} && \text{result} \\" "\n"
        r"x^{3} &= 8 && \text{at } x = 2 \\" "\n"
        r"\frac{d}{d x} \left(x^{3}\right) &= 12" "\n"
        "\\end{align*}"
    )


def test_e1_step_shows_sigmoid_definition_with_numbers_exact() -> None:
    step = derive("sigmoid(z)", "z", z=3.2).steps[0]
    assert latex(step) == (
        r"\frac{d}{d z} \sigma\left(z\right) &= \left(1 - \sigma\left(z\right)\right) "
        r"\sigma\left(z\right) && \text{sigmoid} \\" "\n"
        r"&\quad \sigma\left(3.2\right) = \frac{1}{1 + e^{- 3.2}} = 0.9608 \\" "\n"
        r"&\quad \frac{d}{d z} \sigma\left(z\right) = \left(1 - \sigma\left(3.2\right)\right) "
        r"\cdot \sigma\left(3.2\right) = 0.0376"
    )


def test_e6_product_step_with_negative_numbers_exact() -> None:
    step = derive("(x+y)*z", "x", x=-2, y=5, z=-4).steps[0]
    assert latex(step) == (
        r"\frac{\partial}{\partial x} \left(z \left(x + y\right)\right) &= z \frac{\partial}"
        r"{\partial x} \left(x + y\right) && \text{constant multiple} \\" "\n"
        r"&\quad \frac{\partial}{\partial x} \left(z \cdot \left(x + y\right)\right) = "
        r"\left(-4\right) \cdot 1 = -4"
    )


def test_decimals_setting_controls_the_numbers() -> None:
    step = derive("sigmoid(z)", "z", z=3.2).steps[0]
    assert r"= 0.96 \\" in latex(step, decimals=2)


def test_environment_setting_is_used() -> None:
    assert latex(derive("x", "x"), environment="align").startswith("\\begin{align}\n")


STANDALONE_CASES = [
    ("sigmoid(z)", "z", "z=3.2"),
    ("(x+y)*z", "x", "x=-2,y=5,z=-4"),
    ("-(t0*log(s0)+t1*log(s1)+t2*log(s2))", "s1", "t0=0,t1=1,t2=0,s0=0.228,s1=0.619,s2=0.153"),
    ("abs(x)+relu(x)+leaky_relu(x)+elu(x)+max(x,2)+hardlim(x)+softplus(x)", "x", "x=0.5"),
    ("x**x + sqrt(x)/(1+exp(-x)) + tanh(x)^2 + sin(x)*cos(x)", "x", None),
    ("lambda_1*w**2/2", "w", None),
]


@needs_pdflatex
@pytest.mark.parametrize(("text", "wrt", "at"), STANDALONE_CASES)
def test_standalone_output_compiles(cli, tmp_path: Path, text: str, wrt: str,
                                    at: str | None) -> None:
    out = tmp_path / "derivation.tex"
    args = ["derive", "expr", text, "--wrt", wrt, "--format", "latex", "--standalone",
            "--out", str(out)]
    cli.run([*args, *(["--at", at] if at else [])])
    assert out.read_text().startswith("\\documentclass")
    assert_compiles(out)


def test_document_wraps_a_derivation() -> None:
    text = document(latex(derive("x**2", "x")))
    assert "\\begin{align*}" in text and text.rstrip().endswith("\\end{document}")


def test_jupyter_renders_a_derivation_as_its_latex() -> None:
    derivation = derive("x**3", "x", x=2)
    assert derivation._repr_latex_() == latex(derivation)


def test_longtable_layout_numbers_steps_and_keeps_each_rule_in_its_column() -> None:
    derivation = derive("sigmoid(w*x+b)", "w", w=0.5, x=2, b=0.1)
    table = latex(derivation, environment="longtable")
    assert table.startswith("\\begin{longtable}") and table.endswith("\\end{longtable}")
    for number, step in enumerate(derivation.steps, start=1):
        rule = re.escape(step.rule.replace("_", " "))
        assert re.search(rf"^{number}\. & .* & {rule} \\\\", table, re.MULTILINE), (number, rule)
    assert "\\left(" not in table  # every equation may break at + and − inside parentheses
