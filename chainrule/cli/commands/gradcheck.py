"""``chainrule gradcheck``: the kernels' gradients against float64 central differences."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Group
from rich.table import Table
from rich.text import Text

from chainrule import limits
from chainrule.cli.apps import app
from chainrule.cli.model_options import (
    ACTIVATION_OPTION,
    LOSS_OPTION,
    OUTPUT_ACTIVATION_OPTION,
)
from chainrule.cli.output import OUT_OPTION, REPORT_FORMAT_OPTION, ReportFormat, emit
from chainrule.errors import ChainruleError

if TYPE_CHECKING:  # numba loads only when the command runs
    from chainrule.train.gradcheck import GradcheckResult


@app.command("gradcheck")
def gradcheck_command(
    model: str = typer.Argument(..., help="Model spec: mlp:4-5-3, lenet5, cnn:1x8x8-..."),
    activation: str = ACTIVATION_OPTION,
    loss: str = LOSS_OPTION,
    output_activation: str = OUTPUT_ACTIVATION_OPTION,
    device: str = typer.Option("cpu", "--device", help="Backend whose kernels are checked."),
    seed: int = typer.Option(0, "--seed", min=0, max=2**32 - 1,
                             help="Seed for weights, inputs and targets (0 to 4294967295)."),
    samples: int = typer.Option(2, "--samples", help="Batch size of the random inputs."),
    coords: int = typer.Option(20, "--coords",
                               help="Random coordinates checked per large parameter."),
    fmt: ReportFormat = REPORT_FORMAT_OPTION,
    out: Path = OUT_OPTION,
) -> None:
    """Compare the compiled kernels' gradients for every parameter with central differences.

    The model may have at most 200,000 parameters (CHAINRULE_MAX_GRADCHECK_PARAMS raises it), and
    --samples × its largest layer at most 2,000,000 values (CHAINRULE_MAX_GRADCHECK_VALUES).
    The network runs in float64; each parameter passes when its relative error
    max|g − g_fd| / max(|g| + |g_fd|) is below 1e-6. Exit status 1 when a check fails.

    [bold]Examples[/bold]

      chainrule gradcheck mlp:4-5-3
      chainrule gradcheck mlp:4-5-3 --activation sigmoid --loss bce --format json
      chainrule gradcheck lenet5 --coords 10
      chainrule gradcheck cnn:1x8x8-conv3x3x2-maxpool2-dense3 --loss mse
    """
    if not 1 <= samples <= 256:
        raise ChainruleError(f"--samples must be from 1 to 256, got {samples}")
    if not 1 <= coords <= 10_000:
        raise ChainruleError(f"--coords must be from 1 to 10000, got {coords}")
    from chainrule.derive.params import layer_names  # loaded when the command runs, not for --help
    from chainrule.derive.spec import largest_layer, n_params, parse_spec

    spec = parse_spec(model)
    limits.GRADCHECK_PARAMS.check(n_params(spec), f"gradcheck of {spec.text}")
    limits.GRADCHECK_VALUES.check(samples * largest_layer(spec),
                                  f"gradcheck of {spec.text} with --samples {samples}")
    from chainrule.train.gradcheck import gradcheck

    result = gradcheck(spec, activation=activation, loss=loss,
                       output_activation=output_activation, seed=seed, samples=samples,
                       max_coords=coords, device=device)
    names = layer_names(spec)
    emit(fmt, out, text=lambda: _table(result, names), markdown=lambda: _markdown(result, names),
         json_payload=lambda: _payload(result, names))
    if not result.passed:
        raise typer.Exit(1)


def param_label(key: str, names: list[str]) -> str:
    """``layer0.weight`` (the network's key) as summary names the layer: ``dense_1.weight``,
    ``C1.weight`` for lenet5."""
    layer, _, kind = key.partition(".")
    index = layer.removeprefix("layer")
    return f"{names[int(index)]}.{kind}" if index.isdigit() and int(index) < len(names) else key


def _payload(result: GradcheckResult, names: list[str]) -> dict:
    """The result's JSON, each check named as summary names it, with the network's key beside."""
    payload = result.to_json()
    for check in payload["checks"]:
        check["key"] = check["param"]
        check["param"] = param_label(check["key"], names)
    return payload


def _table(result: GradcheckResult, names: list[str]) -> Group:
    table = Table("param", "size", "checked", "rel err", "ok", title="gradient check (float64)")
    for check in result.checks:
        ok = check.rel_err < result.tolerance
        table.add_row(param_label(check.param, names), str(check.size), str(check.checked), f"{check.rel_err:.2e}",
                      "✓" if ok else "✗")
    verdict = "passed" if result.passed else "FAILED"
    return Group(table, Text(f"{verdict}: max rel err {result.max_rel_err:.2e} "
                             f"(tolerance {result.tolerance:.0e})"))


def _markdown(result: GradcheckResult, names: list[str]) -> str:
    rows = [f"| {param_label(c.param, names)} | {c.size} | {c.checked} | {c.rel_err:.2e} |" for c in result.checks]
    verdict = "passed" if result.passed else "FAILED"
    return "\n".join(["| param | size | checked | rel err |", "|---|---|---|---|", *rows, "",
                      f"{verdict}: max rel err {result.max_rel_err:.2e}", ""])
