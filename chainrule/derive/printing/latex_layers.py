"""LaTeX printing methods (``_print_<Node>``) for the layers objects; mixed into
:class:`chainrule.derive.printing.latex.ChainruleLatexPrinter`.

Layer equations print their textbook matrix form, then the derived index form, then the steps,
each tagged with its rule. Symbols print with :data:`chainrule.derive.layers.notation.LATEX_NAMES`
(``w^{l+1}``, ``\\nabla_{a}C``). Prose goes through :func:`text_to_latex`, so the output stays
ASCII and compiles with pdflatex and texlive-latex-base only.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from chainrule.derive.layers.notation import LATEX_NAMES, latex_symbol_names
from chainrule.derive.printing.latex_derivation import math_cell, step_table

_UNICODE = {
    "∂": r"\partial ", "Σ": r"\Sigma ", "∑": r"\sum ", "⊙": r"\odot ", "→": r"\to ",
    "←": r"\leftarrow ", "…": r"\ldots ", "⋯": r"\cdots ", "·": r"\cdot ", "∙": r"\cdot ",
    "≤": r"\le ", "≥": r"\ge ", "≠": r"\ne ", "−": "-", "×": r"\times ", "⋆": r"\star ",
    "∗": "*", "∇": r"\nabla ", "∈": r"\in ", "√": r"\surd ", "≈": r"\approx ",
    "±": r"\pm ", "∞": r"\infty ", "⊛": r"\circledast ", "⊗": r"\otimes ", "∘": r"\circ ",
    "′": "'", "″": "''",
    "⅓": r"\tfrac13 ",
    "𝟙": r"\mathbf{1}", "ℝ": r"\mathbb{R}", "⌊": r"\lfloor ", "⌋": r"\rfloor ",
    "⌈": r"\lceil ", "⌉": r"\rceil ", "⟨": r"\langle ", "⟩": r"\rangle ", "∀": r"\forall ",
}
_TEXT_UNICODE = {"§": r"\S{}", "–": "--", "—": "---", "‘": "`", "’": "'", "“": "``", "”": "''",
                 "é": r"\'e", "è": r"\`e", "ü": r'\"u', "ö": r'\"o', "ä": r'\"a', "ç": r"\c{c}", "ß": r"\ss{}",
                 "½": r"\textonehalf{}", "¼": r"\textonequarter{}", "¾": r"\textthreequarters{}",
                 "\u00a0": "~", "✓": r"$\checkmark$", "✗": r"$\times$", "°": r"$^\circ$"}
_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ˡᴸᵀᴷˣⁿⁱ", "0123456789+-=()lLTKxni", strict=True))
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ᵢⱼₖₐₓₙₘₒₗ", "0123456789+-=()ijkaxnmol", strict=True))
_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
            "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
            "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}",
            "|": r"\textbar{}"}


def text_to_latex(text: str) -> str:
    """Prose with Unicode math signs → LaTeX text (math signs in ``$…$``), ASCII only.

    Every character is kept: LaTeX's specials are escaped (so a user's string can never run a
    command), Unicode math signs, Greek letters, superscripts and subscripts become math, and any
    other character is spelt out as its Unicode name rather than dropped.
    """
    out: list[str] = []
    chars = list(text)
    i = 0
    while i < len(chars):
        char = chars[i]
        for table, mark in ((_SUPERSCRIPTS, "^"), (_SUBSCRIPTS, "_")):
            if char in table:  # a run of ⁽ˡ⁺¹⁾ becomes one ^{(l+1)}
                run = []
                while i < len(chars) and chars[i] in table:
                    run.append(table[chars[i]])
                    i += 1
                out.append(f"${mark}{{{''.join(run)}}}$")
                break
        else:
            out.append(_char_to_latex(char))
            i += 1
    return re.sub(r"(?<!\\)\$\$", "", "".join(out))


def _char_to_latex(char: str) -> str:
    if char in _SPECIAL:
        return _SPECIAL[char]
    if ord(char) < 128:
        return char
    if char in _TEXT_UNICODE:
        return _TEXT_UNICODE[char]
    if char in _UNICODE:
        return f"${_UNICODE[char]}$"
    name = unicodedata.name(char, "")
    if name.startswith(("GREEK SMALL LETTER ", "GREEK CAPITAL LETTER ")):
        return f"${_greek(name)}$"
    plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
    if plain:
        return "".join(_char_to_latex(c) for c in plain)
    return rf"\texttt{{[{text_to_latex(name.lower()) or hex(ord(char))}]}}"


def _greek(name: str) -> str:
    letter = name.split()[-1].lower()
    letter = {"lamda": "lambda"}.get(letter, letter)
    if name.startswith("GREEK CAPITAL"):
        capital = letter.capitalize()
        return f"\\{capital} " if capital in _CAPITAL_GREEK else f"\\mathrm{{{capital[0]}}}"
    if letter in ("omicron",):
        return "o"
    return f"\\{letter} "


_CAPITAL_GREEK = {"Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi",
                  "Psi", "Omega"}


class LayersLatexMixin:
    """``_print_<Node>`` methods for layers objects."""

    _settings: dict[str, Any]

    def _layer_expr(self, expr: Any) -> str:
        names = {**latex_symbol_names(expr), **(self._settings.get("symbol_names") or {})}
        known = {k: v for k, v in self._settings.items()
                 if k in type(self)._default_settings}  # type: ignore[attr-defined]
        printer = type(self)({**known, "symbol_names": names})  # type: ignore[call-arg]
        return printer.doprint(expr)  # type: ignore[attr-defined]

    def _print_Equation(self, eq: Any) -> str:
        if self._settings.get("environment") == "longtable":
            return self._equation_table(eq)
        lines = [rf"\text{{{text_to_latex(eq.name)}:}} \quad & {eq.matrix_latex} \\",
                 rf"{self._layer_expr(eq.lhs)} &= {self._layer_expr(eq.rhs)}"]
        previous = None
        for step in eq.steps:
            lines[-1] += r" \\"
            start = "" if step.before == previous else self._layer_expr(step.before)
            lines.append(rf"{start} &= {self._layer_expr(step.after)} && "
                         rf"\text{{({text_to_latex(step.rule)})}}")
            previous = step.after
        body = "\n".join(lines)
        note = f"\n\n\\noindent\\emph{{{text_to_latex(eq.note)}}}" if eq.note else ""
        return f"\\begin{{align*}}\n{body}\n\\end{{align*}}{note}"

    def _equation_table(self, eq: Any) -> str:
        """The equation as a :func:`step_table`: matrix form, index form, then each step with its
        rule in the right-hand column; long lines wrap, and the table breaks across pages."""
        rows = [("", math_cell(eq.matrix_latex), "matrix form"),
                ("", math_cell(f"{self._layer_expr(eq.lhs)} = {self._layer_expr(eq.rhs)}"),
                 "index form")]
        previous = None
        for step in eq.steps:
            start = "" if step.before == previous else self._layer_expr(step.before)
            rows.append(("", math_cell(f"{start} = {self._layer_expr(step.after)}",
                                       indent=not start),
                         text_to_latex(step.rule.replace("_", " "))))
            previous = step.after
        if eq.note:
            rows.append(("", rf"\small\emph{{{text_to_latex(eq.note)}}}", ""))
        return step_table(rows, heading=text_to_latex(eq.name))

    def _print_LayerDerivation(self, layer: Any) -> str:
        parts = [rf"\subsection*{{{text_to_latex(layer.title)}}}",
                 rf"\noindent\emph{{{text_to_latex(layer.citation)}}}"]
        parts += [self._print_Equation(eq) for eq in layer.equations]
        return "\n\n".join(parts)

    def _print_NetLayer(self, layer: Any) -> str:
        sizes = ", ".join(f"{LATEX_NAMES.get(k, k)} = {v}" for k, v in layer.sizes.items())
        shapes = ""
        if layer.input_shape:
            shapes = (r" $(" + r"\times ".join(map(str, layer.input_shape)) + r") \to ("
                      + r"\times ".join(map(str, layer.output_shape)) + ")$")
        head = rf"\subsection*{{{text_to_latex(layer.name)}: " \
               rf"{text_to_latex(layer.derivation.title)}{shapes}}}"
        parts = [head, rf"\noindent\emph{{{text_to_latex(layer.derivation.citation)}}}"
                 + (rf"\quad sizes: ${sizes}$" if sizes else "")]
        parts += [self._print_Equation(eq) for eq in layer.derivation.equations]
        return "\n\n".join(parts)

    def _print_NetDerivation(self, net: Any) -> str:
        head = (rf"\noindent Model \texttt{{{text_to_latex(net.model)}}}, activation "
                rf"\texttt{{{text_to_latex(net.activation)}}}, loss "
                rf"\texttt{{{text_to_latex(net.loss)}}}. Every backward equation below is "
                r"derived by SymPy from the forward equation in index notation; the matrix form "
                r"is the textbook's name for the same contraction.")
        return "\n\n".join([head, *(self._print_NetLayer(layer) for layer in net.layers)])

    def _print_ParamSummary(self, summary: Any) -> str:
        rows = [" & ".join([text_to_latex(r.name), text_to_latex(r.kind), _shape(r.output_shape),
                            _thousands(r.params), text_to_latex(r.formula).replace(",", "{,}")])
                + r" \\" for r in summary.layers]
        table = "\n".join([r"\begin{tabular}{llrrl}", r"layer & type & output & params & formula \\",
                           r"\hline", *rows, r"\hline",
                           rf"total & & & {_thousands(summary.total)} & \\",
                           r"\end{tabular}"])
        note = text_to_latex(f"Convention {summary.convention}: {summary.convention_note}.")
        return f"\\noindent\\texttt{{{text_to_latex(summary.model)}}}\n\n{table}\n\n{note}"

    def _print_ConvExample(self, example: Any) -> str:
        def matrix(rows: list[list[float]]) -> str:  # an array: no 10-column cap as in bmatrix
            body = r" \\ ".join(" & ".join(_num(v) for v in row) for row in rows)
            columns = "r" * max((len(row) for row in rows), default=1)
            return rf"\left[\begin{{array}}{{{columns}}} {body} \end{{array}}\right]"

        first = example.steps[-1]
        terms = (first.numeric or "").replace("·", r" \cdot ")
        padded = (f", zero-padded by {example.padding} on every side" if example.padding else "")
        return "\n\n".join([
            (rf"\noindent Stride {example.stride}, padding {example.padding}. The image $x${padded},"
             r" and the kernel $w$:"),
            _fit(rf"x = {matrix(example.padded)}, \quad w = {matrix(example.kernel)}"),
            r"\noindent First cell, the kernel on the top-left window:",
            step_table([("", math_cell(rf"z_{{0,0}} = {terms}"), "")]),
            r"\noindent The whole map:",
            _fit(rf"z = w \star x = {matrix(example.output)}"),
        ])


def _fit(math: str) -> str:
    """A centred display, scaled down to the line's width when it is wider."""
    return (r"\begin{center}\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}"
            rf"{{$\displaystyle {math}$}}\end{{center}}")


def _shape(shape: tuple[int, ...]) -> str:
    return "$" + r" \times ".join(map(str, shape)) + "$"


def _thousands(value: int) -> str:
    return f"{value:,}".replace(",", "{,}")


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.4g}"
