"""Plain-text and rich renderings of layer equations, model derivations, summaries and the worked
convolution. Symbols print with their reader-facing names (w⁽ˡ⁺¹⁾, δ, ∇ₐC) from
:mod:`chainrule.derive.layers.notation`; index expressions print through chainrule's Unicode text printer.
"""

from __future__ import annotations

import sympy as sp
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from chainrule.derive.conv_example import ConvExample
from chainrule.derive.layers.equations import Equation
from chainrule.derive.layers.notation import TEXT_NAMES
from chainrule.derive.net import NetDerivation, NetLayer
from chainrule.derive.params import ParamSummary
from chainrule.derive.printing.text import TextPrinter


class _LayerStrPrinter(TextPrinter):
    """chainrule's Unicode text printer with the layer notation's reader-facing names."""

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return TEXT_NAMES.get(expr.name, expr.name)

    def _print_Sum(self, expr: sp.Sum) -> str:
        ranges = " ".join(f"Σ[{self._print(i)}={self._print(lo)}..{self._print(hi)}]"
                          for i, lo, hi in expr.limits)
        return f"{ranges} ({self._print(expr.function)})"

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        (value, condition), *rest = expr.args
        other = self._print(rest[0][0]) if rest else "undefined"
        return f"({self._print(value)} if {self._print(condition)} else {other})"


def expr_text(expr: sp.Basic) -> str:
    """An index expression in plain text, e.g. ``a⁽ˡ⁻¹⁾[k]*δ[j]``."""
    return _LayerStrPrinter().doprint(expr).replace("**", "^").replace("*", "·")


def equation_text(eq: Equation) -> str:
    """``lhs = rhs`` in index notation, then the matrix form."""
    return f"{expr_text(eq.lhs)} = {expr_text(eq.rhs)}"


def sizes_text(layer: NetLayer) -> str:
    return ", ".join(f"{TEXT_NAMES.get(k, k)}={v}" for k, v in layer.sizes.items())


def net_renderable(net: NetDerivation) -> RenderableType:
    """One table per layer: each equation's name, matrix form, index form and rules."""
    parts: list[RenderableType] = [Text(f"{net.model}: activation {net.activation}, "
                                        f"loss {net.loss}", style="bold")]
    for layer in net.layers:
        table = Table(title=Text(_layer_title(layer)), title_justify="left", show_lines=True,
                      expand=False)
        for column in ("equation", "matrix form", "index form (derived)", "rules"):
            table.add_column(column, overflow="fold")
        for eq in layer.derivation.equations:
            rules = " → ".join(step.rule for step in eq.steps)
            index_form = equation_text(eq) + (f"\n({eq.note})" if eq.note else "")
            table.add_row(*(Text(cell) for cell in (eq.name, eq.matrix_text, index_form, rules)))
        parts.append(table)
    return Group(*parts)


def _layer_title(layer: NetLayer) -> str:
    shapes = ""
    if layer.input_shape:
        shapes = f" {_shape(layer.input_shape)} → {_shape(layer.output_shape)}"
    sizes = f"  [{sizes_text(layer)}]" if layer.sizes else ""
    return f"{layer.name}: {layer.derivation.title}{shapes}{sizes}"


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(str(d) for d in shape)


def summary_renderable(summary: ParamSummary) -> RenderableType:
    """A Keras-like table: layer, output shape, parameters, formula, and the total. Notes are
    numbered footnotes under the table, so that the table fits 80 columns (lenet5 included)."""
    table = Table(title=f"{summary.model} (input {_shape(summary.input_shape)})",
                  title_justify="left")
    notes = [row.note for row in summary.layers if row.note]
    columns = ("layer", "type", "output shape", "params", "formula", *(("note",) if notes else ()))
    for column in columns:
        table.add_column(column, justify="right" if column == "params" else "left",
                         no_wrap=column != "formula")
    marks = iter(range(1, len(notes) + 1))
    for row in summary.layers:
        cells = [row.name, row.kind, _shape(row.output_shape), f"{row.params:,}", row.formula]
        if notes:
            cells.append(f"[{next(marks)}]" if row.note else "")
        table.add_row(*(Text(cell) for cell in cells))
    table.add_section()
    table.add_row("total", "", "", f"{summary.total:,}", "", *([""] if notes else []))
    footnotes = [Text(f"[{number}] {note}") for number, note in enumerate(notes, 1)]
    caption = Text(f"convention {summary.convention}: {summary.convention_note}", style="dim")
    return Group(table, *footnotes, caption)


def conv_renderable(example: ConvExample) -> RenderableType:
    """The first cell's steps, then the whole output map."""
    lines = [Text(f"stride {example.stride}, padding {example.padding}", style="bold")]
    for step in example.steps:
        shown = step.numeric or expr_text(step.after)
        lines.append(Text(f"[{step.rule}] {step.text}\n    {shown}"))
    grid = Table(title="output map", show_header=False)
    for _ in example.output[0]:
        grid.add_column(justify="right")
    for row in example.output:
        grid.add_row(*(_number(v) for v in row))
    return Group(*lines, grid)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.4g}"
