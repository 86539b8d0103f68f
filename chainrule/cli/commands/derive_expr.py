"""``chainrule derive expr``: the derivative of a scalar expression, step by step with named rules.

A thin shell over :func:`chainrule.derive.steps.derive_expression` and the derivation printers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from chainrule.cli.apps import ExpressionCommand, derive_app, expression_last  # noqa: F401
from chainrule.cli.output import FORMAT_OPTION, OUT_OPTION, STANDALONE_OPTION, Format, emit
from chainrule.derive.values import parse_assignments, scalar_assignments
from chainrule.errors import ChainruleError

if TYPE_CHECKING:  # heavy (SymPy): imported where used, so --help stays fast
    import sympy as sp

    from chainrule.derive.derivation import Derivation


@derive_app.command("expr", cls=ExpressionCommand)
def derive_expr(
    expression: str = typer.Argument(..., help="A scalar expression, e.g. 'sigmoid(w*x+b)'."),
    wrt: str = typer.Option(..., "--wrt", help="The variable to differentiate with respect to."),
    at: str | None = typer.Option(None, "--at", help="Values, e.g. 'x=-2,y=5,z=-4'; a vector "
                                  "w=[2,-3] stands for w0, w1."),
    fmt: Format = FORMAT_OPTION,
    out: Path | None = OUT_OPTION,
    standalone: bool = STANDALONE_OPTION,
) -> None:
    """Differentiate EXPRESSION with respect to --wrt, one named rule per step.

    Functions: exp, log (ln), sqrt, abs, sin, cos, tanh, sigmoid (σ), relu, leaky_relu, elu, softplus, hardlim, max, min; operators + - * / ** (or ^).

    With --at every step shows its numbers, in the order the step prints its terms, and the result gives the value and the derivative's value.

    Limits: 1,000 characters, 60 levels of nesting, integer exponents up to 64 in magnitude, constants up to 100 digits; names are ASCII letters and digits (or Greek letters no Latin one resembles). An expression may start with a minus.

    A derivative already worked out is cited by its step number (rule earlier_step), a step that changes nothing is left out, and an assumption is its own step (rule kink: ReLU' and |x|' assume their argument is not 0).

    [bold]Examples[/bold]

      chainrule derive expr "sigmoid(z)" --wrt z --at "z=3.2"
      chainrule derive expr "(x+y)*z" --wrt x --at "x=-2,y=5,z=-4" --format json
      chainrule derive expr "tanh(w*x+b)" --wrt w --format latex --standalone --out tanh.tex
      chainrule derive expr "-(t0*log(s0)+t1*log(s1)+t2*log(s2))" --wrt s1 --format markdown
    """
    from chainrule.derive.parser import parse_expression
    from chainrule.derive.printing.jsonout import derivation_to_json
    from chainrule.derive.printing.markdown import derivation_markdown
    from chainrule.derive.printing.text import derivation_table
    from chainrule.derive.steps import derive_expression

    values = scalar_assignments(parse_assignments(at)) if at is not None else None
    try:
        derivation = derive_expression(parse_expression(expression), _variable(wrt), values=values)
    except OverflowError:  # SymPy's evaluation of, say, exp(exp(exp(1000)))
        raise ChainruleError(f"{expression[:60]!r} overflows at --at {at!r}: a value is too large "
                             "to evaluate") from None
    emit(fmt, out,
         text=lambda: derivation_table(derivation),
         latex=lambda: _latex(derivation, standalone=standalone),
         markdown=lambda: derivation_markdown(derivation),
         json_payload=lambda: derivation_to_json(derivation))


def _variable(name: str) -> sp.Symbol:
    """The --wrt variable: a single name, parsed by the same safe parser."""
    import sympy as sp

    from chainrule.derive.parser import parse_expression

    parsed = parse_expression(name)
    if not isinstance(parsed, sp.Symbol):
        raise ChainruleError(f"--wrt expects one variable name such as x, got {name!r}")
    return parsed


def _latex(derivation: Derivation, *, standalone: bool) -> str:
    from chainrule.derive.printing.latex import document, latex

    if standalone:  # a step/rule table that breaks across lines and pages
        return document(latex(derivation, environment="longtable"))
    return latex(derivation) + "\n"
