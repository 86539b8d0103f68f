"""``chainrule derive graph``: the staged computation graph of an expression, CS231n style."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from chainrule.cli.apps import ExpressionCommand, derive_app
from chainrule.cli.output import (
    FORMAT_OPTION,
    OUT_OPTION,
    STANDALONE_OPTION,
    Format,
    emit,
    output_option,
)
from chainrule.derive.values import parse_assignments
from chainrule.errors import ChainruleError
from chainrule.fsutil import Kind, check_output

if TYPE_CHECKING:  # heavy (SymPy): imported where used, so --help stays fast
    from chainrule.derive.graph import ComputationGraph

PLOT_OPTION = output_option("--plot", binary=True,  # checked before the work, and against --out
                            help="Draw the graph to this PNG file. A --format latex --standalone "
                            "document includes the drawing; written to --out with .png when "
                            "--plot is not given.")
_NODE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
_INCLUDABLE = re.compile(r"[A-Za-z0-9_./-]+")  # a figure path LaTeX reads as it is


@derive_app.command("graph", cls=ExpressionCommand)
def derive_graph(
    expression: str = typer.Argument(..., help="A scalar expression, e.g. \"(x+y)*z\"."),
    at: str = typer.Option(..., "--at", help="Values of every variable: \"x=-2,y=5,z=-4\"; "
                           "a vector w=[2,-3] stands for w0, w1."),
    plot: Path = PLOT_OPTION,
    expand_sigmoid: bool = typer.Option(False, "--expand-sigmoid",
                                        help="Stage sigmoid(x) as 1/(1+exp(-x)), node by node."),
    name: str = typer.Option(None, "--name", help="Name of the output node, an identifier "
                             "(default: the first of z, f, out, y that is not a variable)."),
    fmt: Format = FORMAT_OPTION,
    out: Path = OUT_OPTION,
    standalone: bool = STANDALONE_OPTION,
) -> None:
    """Break EXPRESSION into named stages, run it forward at --at, and backpropagate.

    Each stage shows its forward value and its gradient d output / d stage; each input shows
    the chain of local derivatives that gives its gradient (CS231n, "Backpropagation,
    Intuitions"). Sums and products become binary stages; negation is its own stage.

    [bold]Examples[/bold]

      chainrule derive graph "(x+y)*z" --at "x=-2,y=5,z=-4"
      chainrule derive graph "1/(1+exp(-(w0*x0+w1*x1+w2)))" --at "w=[2,-3,-3],x=[-1,-2]" --plot e07.png
      chainrule derive graph "sigmoid(w0*x0+w1*x1+w2)" --at "w=[2,-3,-3],x=[-1,-2]" --expand-sigmoid
      chainrule derive graph "(x+y)*z" --at "x=-2,y=5,z=-4" --format latex --standalone --out e06.tex
    """
    from chainrule.derive.graph import build_graph
    from chainrule.derive.parser import parse_expression
    from chainrule.derive.printing.graph_json import graph_payload
    from chainrule.derive.printing.graph_markdown import graph_markdown
    from chainrule.derive.printing.graph_text import graph_text

    if name is not None and not _NODE_NAME.fullmatch(name):
        raise ChainruleError(f"--name: expected an identifier such as z or out (a letter, then "
                             f"letters, digits or _; at most 32), got {name!r}")
    graph = build_graph(parse_expression(expression), parse_assignments(at),
                        expand_sigmoid=expand_sigmoid, output=name)
    if plot is None and fmt is Format.latex and standalone and out is not None \
            and check_output(out, probe=False).kind is not Kind.STREAM:
        plot = out.with_suffix(".png")  # the document draws the graph
    if plot is not None:
        from chainrule.cli.graph_plot import plot_graph  # matplotlib only when asked for

        plot_graph(graph, plot)
        typer.echo(f"wrote {plot}", err=True)
    figure = _figure(plot, out) if plot is not None else None
    emit(fmt, out, text=lambda: graph_text(graph), latex=lambda: _latex(graph, standalone, figure),
         markdown=lambda: graph_markdown(graph), json_payload=lambda: graph_payload(graph))


def _latex(graph: ComputationGraph, standalone: bool, figure: str | None) -> str:
    from chainrule.derive.printing.latex import document, latex

    if not standalone:
        return latex(graph) + "\n"
    body = latex(graph, environment="longtable")
    if figure is not None:
        drawing = ("\\begin{center}\n\\includegraphics[width=\\linewidth,height=0.4\\textheight,"
                   f"keepaspectratio]{{{figure}}}\n\\end{{center}}\n"
                   "Forward values above each wire, gradients below it.\n\n")
    else:
        drawing = "(Write the document with --out FILE.tex, or give --plot, to draw the graph.)\n\n"
    return document(drawing + body, title="Computation graph")


def _figure(plot: Path, out: Path | None) -> str | None:
    """The PNG's path as the .tex file reads it (relative to --out's folder), or None when the
    path has a character LaTeX would interpret."""
    base = out.resolve().parent if out is not None else Path.cwd()
    try:
        text = os.path.relpath(plot.resolve(), base)
    except ValueError:
        text = str(plot.resolve())
    return text if _INCLUDABLE.fullmatch(text) else None
