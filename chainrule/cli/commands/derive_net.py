"""``chainrule derive net MODEL``: every layer's forward and backward equations for a model,
derived in index notation by SymPy and shown with the textbook's matrix form."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from chainrule.cli.apps import derive_app
from chainrule.cli.output import FORMAT_OPTION, OUT_OPTION, Format, emit

if TYPE_CHECKING:  # heavy (SymPy): imported where used, so --help stays fast
    from chainrule.derive.net import NetDerivation


def _rate(value: str) -> str:
    """--dropout's value must be a number (the rate); the old bare switch gets a hint. Checked
    as the option is read, so that ``--dropout --format json`` fails on --dropout itself."""
    from chainrule.cli.apps import click

    try:
        float(value)
    except ValueError:
        raise click.exceptions.UsageError(
            f"--dropout takes the rate, as train does (0 = off; keep probability p = 1 − rate), "
            f"e.g. --dropout 0.2; got {value!r}") from None
    return value


@derive_app.command("net")
def derive_net_command(
    model: str = typer.Argument(..., help="Model spec (see chainrule summary --help): "
                                "perceptron:N, mlp:N-N-..., lenet5, cnn:CxHxW-LAYER-..."),
    activation: str = typer.Option(None, "--activation", "-a",
                                   help="Hidden activation: relu (default, as in train; tanh "
                                   "for lenet5), sigmoid, tanh, leaky_relu, elu, softplus, linear; "
                                   "leaky_relu:0.1 sets the slope α (default 0.01), elu:0.5 "
                                   "ELU's α (default 1)."),
    loss: str = typer.Option(None, "--loss", "-l",
                             help="half_mse (default for mlp), mse, bce, or softmax_ce (default "
                             "for cnn and lenet5)."),
    l2: float = typer.Option(0.0, "--l2", metavar="λ",
                             help="L2 weight penalty λ, as in train (0 = off): adds C = C₀ + λ/2 Σ "
                             "w² and its gradient, with λ's value stated beside them."),
    l1: float = typer.Option(0.0, "--l1", metavar="λ",
                             help="L1 weight penalty λ, as in train (0 = off): C = C₀ + λ Σ |w|."),
    dropout: str = typer.Option("0", "--dropout", metavar="RATE", callback=_rate,
                                help="Dropout rate of hidden dense layers, as in train (0 = off): "
                                "inverted dropout with keep probability p = 1 − rate, its value "
                                "stated beside the equations."),
    penalty: str = typer.Option(None, "--penalty",
                                help="Older form: l2 or l1 with λ left symbolic."),
    fmt: Format = FORMAT_OPTION,
    out: Path = OUT_OPTION,
    standalone: bool = typer.Option(False, "--standalone/--body-only",
                                    help="With --format latex: a whole document that pdflatex "
                                    "compiles (default: the body only, as in every command)."),
) -> None:
    r"""BP1–BP4 for dense layers, conv / pooling / flatten / softmax backward passes, the mini-batch
    update: derived once per layer type, in index notation, instantiated with the model's sizes.

    MODEL grammar: perceptron:N, linear:N\[-M], mlp:N-N-..., lenet5, or cnn:CxHxW-LAYER-... with
    LAYER = convKxKxF\[sS]\[pP], maxpoolK\[sS], avgpoolK\[sS], flatten or denseN
    (details in chainrule summary --help).

    [bold]Examples[/bold]

      chainrule derive net mlp:784-30-10
      chainrule derive net mlp:4-3-2 --activation tanh --loss bce --l2 0.01 --dropout 0.2
      chainrule derive net "cnn:1x28x28-conv5x5x3-maxpool2-dense10" --format markdown
      chainrule derive net lenet5 --format latex --standalone --out lenet5.tex
    """
    from chainrule.derive.net import derive_net
    from chainrule.derive.printing.layers_json import net_payload
    from chainrule.derive.printing.layers_markdown import net_markdown
    from chainrule.derive.printing.layers_text import net_renderable

    net = derive_net(model, activation=activation, loss=loss, penalty=penalty,
                     dropout=float(dropout), l2=l2, l1=l1)
    emit(fmt, out, text=lambda: net_renderable(net), latex=lambda: _latex(net, standalone),
         markdown=lambda: net_markdown(net), json_payload=lambda: net_payload(net))


def _latex(net: NetDerivation, standalone: bool) -> str:
    from chainrule.derive.printing.latex import document, latex

    if not standalone:
        return latex(net) + "\n"
    body = latex(net, environment="longtable")  # breaks across lines and pages
    return document(body, title=f"Layer equations of {net.model}")
