"""The safe parser: what it accepts, what it refuses, and that no input ever runs code."""

from __future__ import annotations

import os
import subprocess
import warnings
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule.derive.functions import relu, sigmoid
from chainrule.derive.parser import MAX_LENGTH, ParseError, parse_expression, symbol
from chainrule.errors import ChainruleError

x, y, z = symbol("x"), symbol("y"), symbol("z")


@pytest.mark.parametrize(("text", "expected"), [
    ("(x+y)*z", (x + y) * z),
    ("sigmoid(z)", sigmoid(z)),
    ("σ(z)", sigmoid(z)),
    ("relu(x) - 2", relu(x) - 2),
    ("x^2 + x**3", x**2 + x**3),
    ("2·x − 1", 2 * x - 1),
    ("ln(x) + log(y)", sp.log(x) + sp.log(y)),
    ("max(x, y, 0)", sp.Max(x, y, 0)),
    ("-x", -x),
    ("pi*x", sp.pi * x),
    ("0.5*x", sp.Float("0.5") * x),
])
def test_accepts_arithmetic_and_known_functions(text: str, expected: sp.Expr) -> None:
    assert parse_expression(text) == expected


def test_symbols_are_real() -> None:
    assert parse_expression("x").is_real


@pytest.mark.parametrize(("text", "message"), [
    ("x +", "malformed expression"),
    ("foo(x)", "unknown function 'foo'"),
    ("__import__('os').system('x')", "unsupported call"),
    ("x.real", "unsupported syntax"),
    ("lambda: 1", "unsupported syntax"),
    ("[i for i in x]", r"unexpected '\['"),
    ("(i for i in (1, 2))", "unsupported syntax"),
    ("x" * 100_000, "the limit is"),
    ("9**9**9**9", "too large"),
    ("'text'", "unsupported literal"),
    ("x if y else z", "unsupported syntax"),
    ("x // y", "unsupported operator '//'"),
    ("sigmoid", "used without arguments"),
    ("sigmoid(x, y)", "takes 1 argument"),
    ("exp(x=1)", "keyword arguments"),
    ("_secret", "unsupported name"),
    ("", "empty"),
    ("exp(" * 61 + "x" + ")" * 61, "nests more than"),
])
def test_refuses_everything_else_with_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message) as info:
        parse_expression(text)
    assert isinstance(info.value, ChainruleError)
    assert "\n" not in str(info.value)


def test_length_limit_is_enforced_exactly() -> None:
    assert parse_expression("x" + " " * (MAX_LENGTH - 1)) == x
    with pytest.raises(ParseError, match=f"{MAX_LENGTH + 1} characters"):
        parse_expression("x" + " " * MAX_LENGTH)


class _RanCode(BaseException):
    """Raised by the sentinels below; a BaseException so no `except Exception` can hide it."""


_TOKENS = [
    "x", "y", "z", "1", "2.5", "0", "9", "+", "-", "*", "/", "**", "^", "(", ")", ",", " ",
    "sigmoid(", "exp(", "log(", "max(", "relu(", "__import__", "('os')", ".system", "('touch ",
    "CANARY')", "open(", "eval(", "exec(", "lambda", ":", "[", "]", "for", " in ", "if", "else",
    "'", '"', ".", "__class__", "__subclasses__()", "globals()", "=", "@", "%", "//", "~", "not ",
    "1e308", "9**9**9", "π", "σ(", "−", "·", "\\", "#", "\n", "{", "}", "yield", "await ",
]


@settings(max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.lists(st.sampled_from(_TOKENS), max_size=25).map("".join),
    st.text(max_size=60),
))
def test_random_text_raises_only_parse_errors_and_runs_nothing(text: str) -> None:
    canary = Path(os.environ.get("TMPDIR", "/tmp")) / "CANARY"
    saved = (os.system, subprocess.Popen, os.popen)

    def refuse(*args: object, **kwargs: object) -> None:
        raise _RanCode(f"parser ran code for {text!r}")

    os.system, subprocess.Popen, os.popen = refuse, refuse, refuse  # type: ignore[assignment]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)  # Python's own, for "1e308in"
            result = parse_expression(text)
    except ParseError:
        result = None
    finally:
        os.system, subprocess.Popen, os.popen = saved
    assert result is None or isinstance(result, sp.Basic)
    assert not canary.exists() and not Path("CANARY").exists()


def test_a_long_flat_sum_is_one_level_deep() -> None:
    terms = [symbol(f"x{i}") for i in range(100)]
    assert parse_expression("+".join(t.name for t in terms)) == sp.Add(*terms)
    assert parse_expression("x" + "*x" * 63) == x**64


def test_chains_keep_their_meaning() -> None:
    assert parse_expression("2**3**2 - 3 - 4/2*3 + x") == x + 503
    assert parse_expression("x - y - z") == x - y - z
    assert parse_expression("x / y / z") == x / (y * z)


@pytest.mark.parametrize(("text", "message"), [
    ("1e309*x", "not finite in double precision"),
    ("x/0", "not a finite number"),
    ("log(0)*x", "not a finite number"),
    ("0**-1 + x", "not a finite number"),
    ("sqrt(-1)*x", "complex constant"),
    ("log(-1)*x", "complex constant"),
])
def test_refuses_non_finite_and_complex_constants(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_expression(text)


@pytest.mark.parametrize(("text", "char", "ascii_char"), [
    ("х + 1", "х", "x"),        # Cyrillic ha
    ("w*ｘ", "ｘ", "x"),         # fullwidth x
    ("𝑥**2", "𝑥", "x"),         # mathematical italic x
    ("a×b", "×", "*"),
    ("sigmoid(ο)", "ο", "o"),    # Greek omicron looks like o
])
def test_refuses_lookalike_characters_and_names_the_ascii_one(text: str, char: str,
                                                               ascii_char: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_expression(text)
    assert repr(char) in str(info.value) and f"write {ascii_char!r}" in str(info.value)
    assert parse_expression(text.replace(char, ascii_char)) is not None


def test_greek_letters_that_look_like_no_latin_one_stay_names() -> None:
    assert parse_expression("θ*η") == symbol("θ") * symbol("η")


def test_depth_is_the_syntax_trees_not_the_bracket_count() -> None:
    siblings = "+".join(["exp(x)"] * 61)  # 61 '(' side by side: one level deep
    assert parse_expression(siblings) == 61 * sp.exp(x)
    assert parse_expression("(" * 70 + "x" + ")" * 70) == x  # redundant brackets add no depth
    assert parse_expression("exp(" * 59 + "x" + ")" * 59) is not None
    with pytest.raises(ParseError, match="nests more than 60"):
        parse_expression("exp(" * 61 + "x" + ")" * 61)


@pytest.mark.parametrize(("text", "message"), [
    ("((9**999)**999)**999", "too large"),
    ("(9**99)**99*x", "too large"),          # was Python's 4300-digit ValueError
    ("9**40*9**40*9**40*x", "more than 100 digits"),
    ("1e300*1e300*x", "larger than 1e100"),
    ("(x+1)**999", "the limit is 64"),
    ("(x+1)**65", "the limit is 64"),
    ("x**-65", "the limit is 64"),
    ("*".join(["x"] * 65), "the limit is 64"),  # a power built by repeated products
    ("+".join(["x"] * 101), "201 terms .* the limit is 200"),
])
def test_refuses_big_constants_powers_and_expressions_before_computing(text: str,
                                                                        message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_expression(text)


def test_the_limits_accept_what_the_lectures_use() -> None:
    assert parse_expression("(x+1)**64") == (x + 1)**64
    assert parse_expression("9**99*x") == sp.Integer(9)**99 * x
    assert parse_expression("x**0.5 + 2**-10") == x**sp.Float("0.5") + sp.Rational(1, 1024)


def test_an_invalid_escape_in_a_literal_is_one_parse_error_and_no_warning() -> None:
    """Python warns of "\\*" in a string literal while parsing (a SyntaxWarning from 3.12): the
    user should see the one error line, not the warning too."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ParseError, match="unsupported literal"):
            parse_expression('x + "a\\*b"')
