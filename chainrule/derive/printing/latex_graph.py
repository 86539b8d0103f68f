"""LaTeX printing methods (``_print_<Node>``) for the graph objects; mixed into
:class:`chainrule.derive.printing.latex.ChainruleLatexPrinter`."""

from __future__ import annotations


class GraphLatexMixin:
    """``_print_<Node>`` methods for graph objects."""
