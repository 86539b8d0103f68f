"""An atheris (libFuzzer) harness for the expression parser: ``make fuzz`` runs it for 60 s.

Property: for any bytes, :func:`chainrule.derive.parser.parse_expression` returns a finite real
SymPy expression or raises :class:`~chainrule.errors.ChainruleError`; any other exception is a
crash that libFuzzer reports with the input that caused it. The seed corpus is ``fuzz/corpus``;
``make fuzz`` fuzzes from a copy, so the committed corpus changes only when someone adds a file.

    python fuzz/expr_parser.py -max_total_time=60 WORKDIR fuzz/corpus
"""

from __future__ import annotations

import sys
import warnings

import atheris
import sympy as sp  # imported before instrumenting: coverage is measured in chainrule only

with atheris.instrument_imports(include=["chainrule"]):
    from chainrule.derive.parser import parse_expression
    from chainrule.errors import ChainruleError


def test_one_input(data: bytes) -> None:
    """Parse ``data`` (decoded as UTF-8, replacing bad bytes); only ChainruleError may escape."""
    text = data.decode("utf-8", errors="replace")
    try:
        result = parse_expression(text)
    except ChainruleError:
        return
    if not isinstance(result, sp.Basic) or result.has(sp.oo, -sp.oo, sp.zoo, sp.nan, sp.I):
        raise AssertionError(f"parse_expression({text!r}) gave {result!r}")


def main() -> None:
    warnings.simplefilter("ignore", SyntaxWarning)  # Python's own, for inputs such as "1e308in"
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
