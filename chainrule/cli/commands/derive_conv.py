"""``chainrule derive conv``: a worked convolution (E15), the first output cell term by term and the
whole map, computed from the same forward equation that ``derive net`` differentiates."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from chainrule.cli.apps import derive_app
from chainrule.cli.output import FORMAT_OPTION, OUT_OPTION, STANDALONE_OPTION, Format, emit
from chainrule.derive.values import parse_matrix
from chainrule.errors import ChainruleError
from chainrule.limits import MAX_IMAGE

if TYPE_CHECKING:  # heavy (SymPy): imported where used, so --help stays fast
    from chainrule.derive.conv_example import ConvExample


@derive_app.command("conv")
def derive_conv_command(
    image: str = typer.Option(..., "--image", help="The image as a matrix, [[..],[..],..]."),
    kernel: str = typer.Option(..., "--kernel", help="A square kernel, e.g. [[1,0,1],[0,1,0],"
                               "[1,0,1]]."),
    stride: int = typer.Option(1, "--stride", "-s", min=1, max=MAX_IMAGE,
                               help=f"Stride, 1 to {MAX_IMAGE}."),
    padding: int = typer.Option(0, "--padding", "-p", min=0, max=MAX_IMAGE,
                                help="Zero padding on every side, at most the kernel size."),
    fmt: Format = FORMAT_OPTION,
    out: Path = OUT_OPTION,
    standalone: bool = STANDALONE_OPTION,
) -> None:
    """Convolve (cross-correlate) an image with a kernel: the first output cell worked out term by
    term, and the whole output map. The image and the kernel are at most 64×64, and the padding
    is at most the kernel size. JSON: output (the map) and steps (the first cell).

    [bold]Examples[/bold]

      chainrule derive conv --image "[[18,54,51,239,244,188],[55,121,75,78,95,88],[35,24,204,113,109,221],[3,154,104,235,25,130],[15,253,225,159,78,233],[68,85,180,214,245,0]]" --kernel "[[1,0,1],[0,1,0],[1,0,1]]"
      chainrule derive conv --image "[[1,2,3],[4,5,6],[7,8,9]]" --kernel "[[1,0],[0,-1]]" --padding 1 --stride 2 --format json
    """
    from chainrule.derive.conv_example import convolve
    from chainrule.derive.printing.layers_json import conv_payload
    from chainrule.derive.printing.layers_markdown import conv_markdown
    from chainrule.derive.printing.layers_text import conv_renderable

    weights = parse_matrix(kernel, name="kernel")
    if len(weights) > MAX_IMAGE or len(weights[0]) > MAX_IMAGE:
        raise ChainruleError(f"--kernel is {len(weights)}×{len(weights[0])}; the limit is "
                             f"{MAX_IMAGE}×{MAX_IMAGE}")
    if padding > len(weights):
        raise ChainruleError(f"--padding {padding} is larger than the kernel size "
                             f"{len(weights)}; the limit is the kernel size")
    example = convolve(parse_matrix(image, name="image"), weights, stride=stride, padding=padding)
    emit(fmt, out, text=lambda: conv_renderable(example),
         latex=lambda: _latex(example, standalone), markdown=lambda: conv_markdown(example),
         json_payload=lambda: conv_payload(example))


def _latex(example: ConvExample, standalone: bool) -> str:
    from chainrule.derive.printing.latex import document, latex

    body = latex(example)
    return document(body, title="A worked convolution") if standalone else body + "\n"
