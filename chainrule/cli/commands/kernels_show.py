"""``chainrule kernels show``: the kernel source a model runs, printed from its derivations."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Group
from rich.text import Text

from chainrule.cli.apps import kernels_app
from chainrule.cli.model_options import (
    ACTIVATION_OPTION,
    LOSS_OPTION,
    OUTPUT_ACTIVATION_OPTION,
)
from chainrule.cli.output import OUT_OPTION, REPORT_FORMAT_OPTION, ReportFormat, emit

if TYPE_CHECKING:  # numba loads only when the command runs
    from chainrule.kernels.source import KernelSource


@kernels_app.command("show")
def show(
    model: str = typer.Argument(..., help="Model spec: mlp:784-128-10, lenet5, cnn:1x28x28-..."),
    activation: str = ACTIVATION_OPTION,
    loss: str = LOSS_OPTION,
    output_activation: str = OUTPUT_ACTIVATION_OPTION,
    device: str = typer.Option("cpu", "--device", help="Backend whose kernels to show."),
    generated_only: bool = typer.Option(False, "--generated-only",
                                        help="Only the modules printed from SymPy."),
    fmt: ReportFormat = REPORT_FORMAT_OPTION,
    out: Path = OUT_OPTION,
) -> None:
    """Print the Numba kernel source that training MODEL runs.

    Generated modules are printed from the derivations (activation g and g', the output delta of
    BP1, the penalty gradient); their comments name the step each line implements. The update
    module holds BP2-BP4's reductions, each fused with the optimiser's step. Structural templates
    (BLAS calls, conv and pool loops) cite the derivation they implement. On the CPU the last
    two modules are the compiled epoch that training runs, printed for the model's layers: a
    chunk of steps, each calling those kernels in the order of BP1-BP4.

    [bold]Examples[/bold]

      chainrule kernels show mlp:4-5-3 --activation sigmoid --loss bce --generated-only
      chainrule kernels show lenet5 --format markdown --out lenet5_kernels.md
      chainrule kernels show cnn:1x8x8-conv3x3x2-maxpool2-dense3 --format json
      chainrule kernels show mlp:4-5-3 --device cuda --generated-only
    """
    from chainrule.derive.spec import parse_spec  # loaded when the command runs

    spec = parse_spec(model)
    from chainrule.kernels.registry import devices, get_backend
    from chainrule.kernels.source import KernelSource, kernel_sources
    from chainrule.train.loop_source import loop_sources
    from chainrule.train.network import resolve_choices

    if device not in devices():
        get_backend(device)  # the one-line error that names the known devices
    act, out_act, loss_name = resolve_choices(spec, activation, loss, output_activation)
    sources = [s for s in kernel_sources(spec, activation=act, output_activation=out_act,
                                         loss=loss_name, device=device)
               if s.generated or not generated_only]
    if not generated_only:  # the compiled epoch that calls them, printed for this model
        loop = loop_sources(spec, activation=act, output_activation=out_act, loss=loss_name,
                            device=device)
        sources += [KernelSource(name, role, False, text, loop=True) for name, role, text in loop]
    emit(fmt, out,
         text=lambda: Group(*[_module(s) for s in sources]),
         markdown=lambda: _markdown(spec.text, sources),
         json_payload=lambda: {"model": spec.text, "activation": act,
                               "output_activation": out_act, "loss": loss_name, "device": device,
                               "modules": [{"name": s.name, "role": s.role,
                                            "generated": s.generated, "loop": s.loop,
                                            "source": s.source}
                                           for s in sources]})


def _module(source: KernelSource) -> Group:
    """A module as Python that can be copied: a comment line naming it, then its source,
    highlighted, each line whole (never wrapped or cropped at the terminal's width)."""
    from rich.syntax import Syntax  # Pygments: only when a kernel is shown, not for --help

    comment = textwrap.wrap(f"{source.name}: {source.role} ({source.kind})", width=76)
    header = Text("\n".join(f"# {line}" for line in comment), style="bold", no_wrap=True,
                  overflow="ignore")
    code = Syntax(source.source.rstrip(), "python", theme="ansi_light").highlight(
        source.source.rstrip())
    code.no_wrap, code.overflow = True, "ignore"
    return Group(header, code, Text(""))


def _markdown(model: str, sources: list[KernelSource]) -> str:
    parts = [f"# Kernels for `{model}`\n"]
    for s in sources:
        parts.append(f"## {s.name}\n\n{s.role} ({s.kind}).\n\n"
                     f"```python\n{s.source.rstrip()}\n```\n")
    return "\n".join(parts)
