"""LaTeX printing methods (``_print_<Node>``) for the layers objects; mixed into
:class:`chainrule.derive.printing.latex.ChainruleLatexPrinter`."""

from __future__ import annotations


class LayersLatexMixin:
    """``_print_<Node>`` methods for layers objects."""
