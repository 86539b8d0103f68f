"""Fuzz properties of the three text parsers: the expression parser, the model-spec parser and the
``--at`` values parser. Random text and mutated valid inputs only ever give a result or raise
:class:`~chainrule.errors.ChainruleError`, never another exception (``make fuzz`` runs the
expression parser under atheris for longer)."""

from __future__ import annotations

import warnings

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule import limits
from chainrule.derive.parser import parse_expression
from chainrule.derive.spec import largest_layer, n_params, parse_spec
from chainrule.derive.values import parse_assignments, parse_matrix, scalar_assignments
from chainrule.errors import ChainruleError

EXPRESSIONS = ["sigmoid(w*x+b)", "-(t0*log(s0)+t1*log(s1))", "(x+y)*z", "max(0, x)**2",
               "leaky_relu(z, 0.1) - elu(z)", "σ(w·x + b) − t", "x^2 + 3.5e-2*x", "sqrt(x)/y"]
SPECS = ["mlp:784-128-10", "lenet5", "perceptron:2", "linear:3-1",
         "cnn:1x28x28-conv5x5x6p2-maxpool2s2-conv3x3x4s2p1-avgpool2-flatten-dense10"]
VALUES = ["x=-2,y=5,z=-4", "w=[2,-3,-3],x=[-1,-2]", "W=[[1,2],[3,4]],b=0.5", "t=1e-3,s=+0.25"]
# Characters a mutation inserts: digits of other scripts, lookalikes, brackets, operators.
ALPHABET = "0123456789xyzw+-*/^()[],.=e " "²٣х×−·σπ𝑥\x00\n'\"_:"

_SETTINGS = settings(max_examples=300, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw: st.DrawFn, seeds: list[str]) -> str:
    """A valid input with a few characters inserted, deleted, replaced or a slice repeated."""
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "replace", "repeat"]))
        char = draw(st.sampled_from(ALPHABET))
        if kind == "insert":
            text = text[:at] + char + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + 1:]
        elif kind == "replace":
            text = text[:at] + char + text[at + 1:]
        else:
            end = draw(st.integers(at, len(text)))
            text = text[:at] + text[at:end] * draw(st.integers(2, 40)) + text[end:]
    return text


def _inputs(seeds: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(mutated(seeds), st.text(max_size=80), st.text(ALPHABET, max_size=80))


@_SETTINGS
@given(_inputs(EXPRESSIONS))
def test_the_expression_parser_only_raises_its_own_error(text: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            result = parse_expression(text)
    except ChainruleError:
        return
    assert isinstance(result, sp.Basic)
    assert not result.has(sp.oo, -sp.oo, sp.zoo, sp.nan, sp.I)


@_SETTINGS
@given(st.one_of(_inputs(SPECS), mutated(["mlp:9-99999-99999", "cnn:9x999x999-conv9x9x999p9"])))
def test_the_spec_parser_only_raises_its_own_error_and_keeps_its_caps(text: str) -> None:
    try:
        model = parse_spec(text)
    except ChainruleError:
        return
    assert n_params(model) <= limits.PARAMS.value
    assert largest_layer(model) <= limits.LAYER_VALUES.value


@_SETTINGS
@given(_inputs(VALUES))
def test_the_values_parser_only_raises_its_own_error(text: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            values = parse_assignments(text)
            scalars = scalar_assignments(values)
    except ChainruleError:
        return
    assert all(isinstance(v, float) for v in scalars.values())


@_SETTINGS
@given(_inputs(["[[1,2],[3,4]]", "[[0.5,-1e3,2]]", "[[1]]"]))
def test_the_matrix_parser_only_raises_its_own_error(text: str) -> None:
    try:
        rows = parse_matrix(text, name="image")
    except ChainruleError:
        return
    assert len({len(row) for row in rows}) == 1


@pytest.mark.parametrize("text", ["[" * 5000, "x=" + "[" * 3000 + "]" * 3000, "x=-" * 20000,
                                  "x=1" + "0" * 5000])
def test_deep_or_huge_values_are_refused(text: str) -> None:
    with pytest.raises(ChainruleError):
        scalar_assignments(parse_assignments(text))
