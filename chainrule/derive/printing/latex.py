"""chainrule's LaTeX printer: a subclass of SymPy's ``LatexPrinter``.

Named activations print as σ, ReLU, … ; chainrule's own objects (steps, derivations, graphs, layer
equations) print through ``_print_<Node>`` methods contributed by the mixins beside this file. All
options live in one settings dict. :func:`latex` prints one object; :func:`document` wraps a body in
a standalone document that pdflatex compiles.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import sympy as sp
from sympy.printing.latex import LatexPrinter

from chainrule.derive.printing.latex_derivation import DerivationLatexMixin
from chainrule.derive.printing.latex_graph import GraphLatexMixin
from chainrule.derive.printing.latex_layers import LayersLatexMixin

_UNSAFE_NAME = re.compile(r"[\\{}$%#&~^\s]|[^\x00-\x7f]")


class ChainruleLatexPrinter(DerivationLatexMixin, GraphLatexMixin, LayersLatexMixin, LatexPrinter):
    """SymPy's LaTeX printer, taught the names of neural-network functions and objects."""

    printmethod = "_chainrule_latex"
    _default_settings: ClassVar[dict[str, Any]] = {
        **LatexPrinter._default_settings,
        "decimals": 4,  # digits after the point for numbers shown in worked steps
        "environment": "align*",  # the environment a derivation is set in
    }

    def _print__ActivationBase(self, expr: sp.Expr, exp: str | None = None) -> str:
        """σ, ReLU, LeakyReLU, ELU, softplus, hardlim: the name the function class owns
        (chainrule.derive.functions). SymPy's printer skips a Function subclass's bases unless
        their names end in "Base", hence the base class's name."""
        return self._named(type(expr).latex_name, expr, exp)

    def _print_KroneckerDelta(self, expr: sp.Expr, exp: str | None = None) -> str:
        """The Kronecker delta as the indicator 1[i = j] (text: 𝟙[i = j]); δ is the error."""
        head = rf"\mathbf{{1}}[{self._print(expr.args[0])} = {self._print(expr.args[1])}]"
        return rf"\left({head}\right)^{{{exp}}}" if exp else head

    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        """SymPy's symbol, except that a name with a LaTeX special character in it (a user's
        ``--name '\\input{…}'``) prints as escaped text, never as a command."""
        if expr not in self._settings["symbol_names"] and _UNSAFE_NAME.search(expr.name):
            from chainrule.derive.printing.latex_layers import text_to_latex

            return rf"\text{{{text_to_latex(expr.name)}}}"
        return super()._print_Symbol(expr, style)  # type: ignore[no-any-return]

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        """SymPy's cases, with a long conjunction of conditions stacked one to a line."""
        pairs = []
        for value, cond in expr.args:
            if cond == sp.true and (value, cond) == expr.args[-1]:
                pairs.append(rf"{self._print(value)} & \text{{otherwise}}")
            else:
                pairs.append(rf"{self._print(value)} & \text{{for}}\: {self._condition(cond)}")
        return r"\begin{cases} " + r" \\".join(pairs) + r" \end{cases}"

    def _condition(self, cond: sp.Basic) -> str:
        printed = self._print(cond)
        if not isinstance(cond, sp.And) or len(printed) <= 80:
            return printed
        terms = [self._print(arg) for arg in cond.args]
        return r"\begin{array}[t]{@{}l@{}}" + r" \wedge \\ ".join(terms) + r"\end{array}"

    def _named(self, name: str, expr: sp.Expr, exp: str | None) -> str:
        args = ", ".join(self._print(arg) for arg in expr.args)
        head = rf"{name}^{{{exp}}}" if exp else name
        return rf"{head}\left({args}\right)"

    def number(self, value: float) -> str:
        """A number rounded to the ``decimals`` setting, trailing zeros kept off."""
        text = f"{value:.{self._settings['decimals']}f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text


def latex(obj: Any, **settings: Any) -> str:
    """Print a SymPy expression or a chainrule object as LaTeX."""
    return ChainruleLatexPrinter(settings).doprint(obj)


_FIGURE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*\.png")
PREAMBLE_PACKAGES = ("amsmath", "amssymb", "longtable", "array", "graphicx")
"""The packages every standalone document loads; all ship with Debian's texlive-latex-base."""


def document(body: str, *, title: str | None = None, figure: str | None = None) -> str:
    """A standalone LaTeX document around ``body`` that pdflatex compiles with texlive-latex-base.

    ``title`` is plain text (escaped here, so a user's string cannot run a LaTeX command). Long
    equations may break across pages (``\\allowdisplaybreaks``); derivations set with
    ``environment="longtable"`` break across lines and pages by themselves. ``figure`` names a
    PNG (relative to the .tex file) drawn under the title.
    """
    from chainrule.derive.printing.latex_layers import text_to_latex

    heading = f"\\section*{{{text_to_latex(title)}}}\n" if title else ""
    if figure is not None:  # a PNG beside the .tex file, drawn under the title
        if not _FIGURE_NAME.fullmatch(figure):
            raise ValueError(f"figure {figure!r}: expected a plain relative file name")
        heading += ("\\begin{center}\n\\includegraphics[width=\\linewidth,height=0.36\\textheight,"
                    f"keepaspectratio]{{{figure}}}\n\\end{{center}}\n")
    return (
        "\\documentclass[11pt]{article}\n"
        "\\usepackage[utf8]{inputenc}\n"
        f"\\usepackage{{{','.join(PREAMBLE_PACKAGES)}}}\n"
        "\\usepackage[margin=2cm]{geometry}\n"
        "\\allowdisplaybreaks\n"
        "\\setlength{\\emergencystretch}{3em}\n"
        "\\setlength{\\parindent}{0pt}\n"
        "\\setlength{\\parskip}{0.5ex plus 0.5ex}\n"
        "\\begin{document}\n"
        f"{heading}{body}\n"
        "\\end{document}\n"
    )
