"""``chainrule derive graph``: the staged computation graph of an expression, CS231n style."""

from __future__ import annotations

from pathlib import Path

import typer

from chainrule.cli.apps import derive_app
from chainrule.cli.output import FORMAT_OPTION, OUT_OPTION, STANDALONE_OPTION, Format, emit
from chainrule.derive.graph import ComputationGraph, build_graph
from chainrule.derive.parser import parse_expression
from chainrule.derive.printing.graph_json import graph_payload
from chainrule.derive.printing.graph_markdown import graph_markdown
from chainrule.derive.printing.graph_text import graph_text
from chainrule.derive.printing.latex import document, latex
from chainrule.derive.values import parse_assignments

PLOT_OPTION = typer.Option(None, "--plot", help="Draw the graph to this PNG file.", dir_okay=False)


@derive_app.command("graph")
def derive_graph(
    expression: str = typer.Argument(..., help="A scalar expression, e.g. \"(x+y)*z\"."),
    at: str = typer.Option(..., "--at", help="Values of every variable: \"x=-2,y=5,z=-4\"; "
                           "a vector w=[2,-3] stands for w0, w1."),
    plot: Path = PLOT_OPTION,
    expand_sigmoid: bool = typer.Option(False, "--expand-sigmoid",
                                        help="Stage sigmoid(x) as 1/(1+exp(-x)), node by node."),
    name: str = typer.Option(None, "--name", help="Name of the output node (default: the first "
                             "of z, f, out, y that is not a variable)."),
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
    graph = build_graph(parse_expression(expression), parse_assignments(at),
                        expand_sigmoid=expand_sigmoid, output=name)
    if plot is not None:
        from chainrule.cli.graph_plot import plot_graph  # matplotlib only when asked for

        plot_graph(graph, plot)
        typer.echo(f"wrote {plot}", err=True)
    emit(fmt, out, text=lambda: graph_text(graph), latex=lambda: _latex(graph, standalone),
         markdown=lambda: graph_markdown(graph), json_payload=lambda: graph_payload(graph))


def _latex(graph: ComputationGraph, standalone: bool) -> str:
    body = latex(graph)
    return document(body, title="Computation graph") if standalone else body + "\n"
