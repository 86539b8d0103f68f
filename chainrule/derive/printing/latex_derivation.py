"""LaTeX printing methods (``_print_<Node>``) for the derivation objects; mixed into
:class:`chainrule.derive.printing.latex.ChainruleLatexPrinter`."""

from __future__ import annotations


class DerivationLatexMixin:
    """``_print_<Node>`` methods for derivation objects."""
