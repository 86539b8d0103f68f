"""LaTeX printing methods (``_print_<Node>``) for the layers objects; mixed into
:class:`chainrule.derive.printing.latex.ChainruleLatexPrinter`.

Layer equations print their textbook matrix form, then the derived index form, then the steps,
each tagged with its rule. Symbols print with :data:`chainrule.derive.layers.notation.LATEX_NAMES`
(``w^{l+1}``, ``\\nabla_{a}C``). Prose goes through :func:`text_to_latex`, so the output stays
ASCII and compiles with pdflatex and texlive-latex-base only.
"""

from __future__ import annotations

from typing import Any

from chainrule.derive.layers.notation import LATEX_NAMES, latex_symbol_names

_UNICODE = {
    "∂": r"\partial ", "Σ": r"\Sigma ", "δ": r"\delta ", "σ": r"\sigma ", "⊙": r"\odot ",
    "→": r"\to ", "…": r"\ldots ", "·": r"\cdot ", "≤": r"\le ", "≥": r"\ge ", "−": "-",
    "λ": r"\lambda ", "η": r"\eta ", "μ": r"\mu ", "θ": r"\theta ", "×": r"\times ",
    "⋆": r"\star ", "∇": r"\nabla ", "∈": r"\in ", "²": "^2", "ᵀ": "^T", "′": "'", "₀": "_0",
    "ₐ": "_a", "ˡ": "^l", "⁺": "+", "¹": "1", "⁻": "-", "ᴸ": "^L", "₁": "_1", "₂": "_2",
    "√": r"\surd ", "≈": r"\approx ",
}
_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
            "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
            "^": r"\textasciicircum{}"}


def text_to_latex(text: str) -> str:
    """Prose with Unicode math signs → LaTeX text (math signs in ``$…$``), ASCII only."""
    out = []
    for char in text:
        if char == "§":
            out.append(r"\S{}")
        elif char in _UNICODE:
            out.append(f"${_UNICODE[char]}$")
        elif char in _SPECIAL:
            out.append(_SPECIAL[char])
        elif ord(char) < 128:
            out.append(char)
        else:
            out.append("?")
    return "".join(out).replace("$$", "")


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
        def matrix(rows: list[list[float]]) -> str:
            body = r" \\ ".join(" & ".join(_num(v) for v in row) for row in rows)
            return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"

        first = example.steps[-1]
        terms = (first.numeric or "").replace("·", r" \cdot ")
        return "\n\n".join([
            rf"\noindent Stride {example.stride}, padding {example.padding}.",
            rf"\[ x = {matrix(example.padded)}, \quad w = {matrix(example.kernel)} \]",
            r"\noindent First cell, the kernel on the top-left window:",
            rf"\[ z_{{0,0}} = {terms} \]",
            rf"\[ z = w \star x = {matrix(example.output)} \]",
        ])


def _shape(shape: tuple[int, ...]) -> str:
    return "$" + r" \times ".join(map(str, shape)) + "$"


def _thousands(value: int) -> str:
    return f"{value:,}".replace(",", "{,}")


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.4g}"
