"""Each named function class owns how it is written and parsed (issue 10, part 1: no name tables
outside the registries): the parser, the text printer and the LaTeX printer all read the class, and
each activation entry's matrix-form names agree with its function class."""

from __future__ import annotations

import pytest
import sympy as sp

from chainrule.derive.activations import ACTIVATIONS, Z
from chainrule.derive.functions import NAMED_FUNCTIONS
from chainrule.derive.parser import parse_expression
from chainrule.derive.printing.latex import ChainruleLatexPrinter
from chainrule.derive.printing.text import TextPrinter


@pytest.mark.parametrize("function", NAMED_FUNCTIONS, ids=lambda f: f.__name__)
def test_parser_and_printers_read_the_class(function):
    assert function.parse_names and function.text_name and function.latex_name
    for name in function.parse_names:
        assert parse_expression(f"{name}(z)") == function(Z)
    assert TextPrinter().doprint(function(Z)) == f"{function.text_name}(z)"
    assert ChainruleLatexPrinter().doprint(function(Z)) == rf"{function.latex_name}\left(z\right)"


def test_a_new_function_class_is_printed_by_its_own_names():
    class swish_like(NAMED_FUNCTIONS[0].__mro__[1]):  # a subclass of the shared base
        nargs = 1
        text_name, latex_name, parse_names = "SW", r"\operatorname{SW}", ("sw",)

    assert TextPrinter().doprint(swish_like(Z)) == "SW(z)"
    assert ChainruleLatexPrinter().doprint(swish_like(Z)) == r"\operatorname{SW}\left(z\right)"


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_entries_name_their_function(name):
    entry = ACTIVATIONS[name]
    head = entry.expr.func
    if head in NAMED_FUNCTIONS:
        assert (entry.text_name, entry.latex_name) == (head.text_name, head.latex_name)
    else:  # tanh and the identity are SymPy's own: the entry names them
        assert entry.text_name and entry.latex_name
    assert isinstance(entry.expr, sp.Expr)
