"""``chainrule summary MODEL``: a Keras-like table of layers, output shapes and parameter counts,
each count with the formula that gives it, in the Keras or the LeCun (1998) convention."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from chainrule.cli.apps import app
from chainrule.cli.output import FORMAT_OPTION, OUT_OPTION, STANDALONE_OPTION, Format, emit

if TYPE_CHECKING:
    from chainrule.derive.params import ParamSummary


@app.command("summary")
def summary_command(
    model: str = typer.Argument(..., help="Model spec, e.g. mlp:784-128-10, lenet5, "
                                "cnn:1x28x28-conv5x5x6-maxpool2-dense10."),
    convention: str = typer.Option("keras", "--convention", "-c",
                                   help="keras (C3 dense, pooling 0 parameters) or paper "
                                   "(LeCun 1998: C3 partial table = 1,516; S2/S4 = 12 and 32)."),
    fmt: Format = FORMAT_OPTION,
    out: Path = OUT_OPTION,
    standalone: bool = STANDALONE_OPTION,
) -> None:
    r"""Layers, output shapes, parameters per layer with their formula, and the total.

    [bold]MODEL grammar[/bold] (no spaces, case-insensitive):

      perceptron:N            a Rosenblatt perceptron with N inputs
      linear:N\[-M]            one linear layer N → M
      mlp:N-N-...             dense layers, e.g. mlp:784-128-10
      lenet5                  LeNet-5 on a 28×28 image padded by 2 (so C1 sees 32×32),
                              tanh, average pooling, C5 = conv5x5x120, F6 = dense84
      cnn:CxHxW-LAYER-...     LAYER is convKxKxF\[sS]\[pP] (F filters, stride S, padding P),
                              maxpoolK\[sS] or avgpoolK\[sS], flatten, or denseN
                              (a dense layer after a conv or pool flattens implicitly)

    Sizes are ASCII digits; a padding P is at most the kernel size K. Units, filters and
    input dimensions are at most 100,000 (CHAINRULE_MAX_UNITS), parameters 10,000,000
    (CHAINRULE_MAX_PARAMS), values after any layer 4,000,000 per sample
    (CHAINRULE_MAX_LAYER_VALUES).

    [bold]Conventions[/bold]: keras (default) counts as Keras' model.summary() does: a dense
    layer n_out·(n_in+1), a convolution F·(K·K·C+1), so LeNet-5's C3 is fully connected
    (16·(5·5·6+1) = 2,416), and pooling has 0 parameters. paper follows LeCun et al. (1998):
    C3 uses the partial connection table ((6·3+9·4+1·6)·5·5+16 = 1,516) and each average-pooling
    map has a trainable coefficient and a bias (S2 = 12, S4 = 32).

    [bold]Examples[/bold]

      chainrule summary lenet5
      chainrule summary lenet5 --convention paper
      chainrule summary mlp:784-30 --format json
      chainrule summary "cnn:1x28x28-conv5x5x3-maxpool2-dense10" --format markdown
    """
    from chainrule.derive.params import count_params  # loaded when the command runs
    from chainrule.derive.printing.layers_json import summary_payload
    from chainrule.derive.printing.layers_markdown import summary_markdown
    from chainrule.derive.printing.layers_text import summary_renderable
    from chainrule.derive.spec import parse_spec

    summary = count_params(parse_spec(model), convention=convention)
    emit(fmt, out, text=lambda: summary_renderable(summary),
         latex=lambda: _latex(summary, standalone), markdown=lambda: summary_markdown(summary),
         json_payload=lambda: summary_payload(summary))


def _latex(summary: ParamSummary, standalone: bool) -> str:
    from chainrule.derive.printing.latex import document, latex

    body = latex(summary)
    return document(body, title="Parameter counts") if standalone else body + "\n"
