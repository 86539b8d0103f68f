"""Markdown renderings (with ``$$…$$`` math) of model derivations, summaries and the worked
convolution, for notebooks, READMEs and handouts."""

from __future__ import annotations

from chainrule.derive.conv_example import ConvExample
from chainrule.derive.layers.equations import Equation
from chainrule.derive.net import NetDerivation
from chainrule.derive.params import ParamSummary
from chainrule.derive.printing.latex import ChainruleLatexPrinter
from chainrule.derive.printing.layers_text import sizes_text

_PRINTER = ChainruleLatexPrinter()


def _tex(expr: object) -> str:
    return _PRINTER._layer_expr(expr)


def equation_markdown(eq: Equation) -> str:
    lines = [f"**{eq.name}** (matrix form): $${eq.matrix_latex}$$",
             f"Derived, in index notation: $${_tex(eq.lhs)} = {_tex(eq.rhs)}$$"]
    if eq.note:
        lines.append(f"*{eq.note}*")
    for number, step in enumerate(eq.steps, 1):
        lines.append(f"{number}. `{step.rule}`: {step.text} $${_tex(step.after)}$$")
    return "\n\n".join(lines)


def net_markdown(net: NetDerivation) -> str:
    parts = [f"# `{net.model}`: layer equations",
             (f"Activation `{net.activation}`, loss `{net.loss}`. Each backward equation is derived "
             "by SymPy from the forward equation in index notation.")]
    for layer in net.layers:
        shapes = ""
        if layer.input_shape:
            shapes = f" ({_shape(layer.input_shape)} → {_shape(layer.output_shape)})"
        parts.append(f"## {layer.name}: {layer.derivation.title}{shapes}")
        parts.append(f"*{layer.derivation.citation}*"
                     + (f" — sizes: {sizes_text(layer)}" if layer.sizes else ""))
        parts += [equation_markdown(eq) for eq in layer.derivation.equations]
    return "\n\n".join(parts) + "\n"


def summary_markdown(summary: ParamSummary) -> str:
    rows = [f"| {r.name} | {r.kind} | {_shape(r.output_shape)} | {r.params:,} | {r.formula} | "
            f"{r.note} |" for r in summary.layers]
    return "\n".join([
        f"# `{summary.model}` (input {_shape(summary.input_shape)})", "",
        "| layer | type | output shape | params | formula | note |",
        "|---|---|---|---:|---|---|", *rows, f"| **total** | | | **{summary.total:,}** | | |", "",
        f"Convention `{summary.convention}`: {summary.convention_note}.", ""])


def conv_markdown(example: ConvExample) -> str:
    first = example.steps[-1]
    rows = ["| " + " | ".join(_num(v) for v in row) + " |" for row in example.output]
    header = "|" + " |" * len(example.output[0])
    rule = "|" + "---:|" * len(example.output[0])
    return "\n".join([
        f"# Worked convolution (stride {example.stride}, padding {example.padding})", "",
        f"First cell: {first.numeric}", "", "Output map:", "", header, rule, *rows, ""])


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(str(d) for d in shape)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.4g}"
