"""``chainrule derive neuron``: one neuron's forward pass, loss and gradient, derived step by step."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from chainrule.cli.apps import derive_app
from chainrule.cli.output import FORMAT_OPTION, OUT_OPTION, STANDALONE_OPTION, Format, emit
from chainrule.derive.values import parse_assignments

if TYPE_CHECKING:  # heavy (SymPy): imported where used, so --help stays fast
    from chainrule.derive.neuron import NeuronReport


@derive_app.command("neuron")
def derive_neuron_command(
    activation: str = typer.Option(None, "--activation", "-a",
                                   help="relu (the default, as in every command), sigmoid, "
                                   "tanh, leaky_relu, elu, softplus, linear, hardlim (leaky_relu:0.1 sets the slope α, "
                                   "default 0.01; elu:0.5 ELU's α); with --loss softmax_ce the "
                                   "activation is the softmax, and no other is accepted."),
    loss: str = typer.Option("half_mse", "--loss", "-l",
                             help="mse, half_mse, bce, softmax_ce (w is then a K×n matrix), none."),
    at: str = typer.Option(None, "--at", help="x=[..],w=[..],b=..,t=..; x=[[..],[..]] (or x as "
                           "a list with one weight) is a batch, and the loss is its mean."),
    fmt: Format = FORMAT_OPTION,
    out: Path = OUT_OPTION,
    standalone: bool = STANDALONE_OPTION,
) -> None:
    """Derive ∂L/∂w, ∂L/∂b and ∂L/∂x for z = Σ wᵢxᵢ + b, a = g(z), L = loss(a, t).

    Each factor of ∂L/∂w = ∂L/∂a · ∂a/∂z · ∂z/∂w is a step that cites its rule (σ' = σ(1−σ),
    the power rule, …); with --at every step gets its number. Without --at the derivation is
    symbolic only.

    [bold]Examples[/bold]

      chainrule derive neuron --activation sigmoid --loss bce
      chainrule derive neuron -a sigmoid -l half_mse --at "x=[1,2],w=[0.5,-0.3],b=0.1,t=1"
      chainrule derive neuron -a linear -l half_mse --at "x=[1,2,3,4,5,6,7,8],w=3,b=2,t=[6,8,10,12,14,16,18,20]"
      chainrule derive neuron -l softmax_ce --at "x=[1,2],w=[[1,0],[0,1],[1,1]],b=[0,0,0],t=[0,1,0]" --format json
    """
    from chainrule.derive.neuron import derive_neuron
    from chainrule.derive.printing.graph_json import neuron_payload
    from chainrule.derive.printing.graph_markdown import neuron_markdown
    from chainrule.derive.printing.graph_text import neuron_text

    values = parse_assignments(at) if at is not None else None
    report = derive_neuron(activation, loss, values)
    emit(fmt, out, text=lambda: neuron_text(report), latex=lambda: _latex(report, standalone),
         markdown=lambda: neuron_markdown(report), json_payload=lambda: neuron_payload(report))


def _latex(report: NeuronReport, standalone: bool) -> str:
    from chainrule.derive.printing.latex import document, latex

    body = latex(report, environment="longtable") if standalone else latex(report)
    title = f"One neuron: {report.activation}, {report.loss}".replace("_", " ")
    return document(body, title=title) if standalone else body + "\n"
