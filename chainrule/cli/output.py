"""Output formats and the one place that writes a command's result to stdout or ``--out``.

A command builds its result in every format it supports and hands it to :func:`emit`. Files are
written atomically; JSON is one object on stdout with plain floats. Every output option checks its
path when the command line is parsed, before any work (:func:`output_option`): a folder that does
not exist, a read-only mount, a folder or a symlink at the path, or two outputs that are the same
file end the command with one line before it starts (policy: :mod:`chainrule.fsutil`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console, RenderableType

from chainrule.errors import ChainruleError
from chainrule.fsutil import Kind, OutputTarget, atomic_write_text, check_distinct, check_output


class Format(str, Enum):
    text = "text"
    latex = "latex"
    markdown = "markdown"
    json = "json"


FORMAT_OPTION = typer.Option(Format.text, "--format", "-f", help="Output format.",
                             case_sensitive=False)


class ReportFormat(str, Enum):
    """The formats of a command whose result is a report, not mathematics (no LaTeX)."""

    text = "text"
    markdown = "markdown"
    json = "json"


REPORT_FORMAT_OPTION = typer.Option(ReportFormat.text, "--format", "-f", help="Output format.",
                                    case_sensitive=False)
OUTPUTS_KEY = "chainrule.outputs"  # ctx.meta: the outputs checked so far on this command line


def check_output_option(ctx: typer.Context, option: str, value: Path | None, *, binary: bool,
                        what: str) -> Path | None:
    """Check an output path before the command runs, and that no other output is the same file."""
    if value is None:
        return None
    target = check_output(value, what=what, binary=binary)
    outputs: list[tuple[str, OutputTarget]] = ctx.meta.setdefault(OUTPUTS_KEY, [])
    outputs.append((option, target))
    check_distinct(outputs)
    return value


def output_option(*names: str, help: str, binary: bool = False, what: str = "") -> Any:
    """A typer option for an output file, checked at parse time (:func:`check_output_option`)."""
    def callback(ctx: typer.Context, value: Path | None) -> Path | None:
        return check_output_option(ctx, names[0], value, binary=binary, what=what or names[0])

    return typer.Option(None, *names, help=help, callback=callback)


OUT_OPTION = output_option("--out", "-o", help="Write the output to this file (atomically; `-`, "
                           "/dev/stdout or a device is written to, never replaced).")
STANDALONE_OPTION = typer.Option(False, "--standalone",
                                 help="With --format latex: a whole document that pdflatex compiles.")


def to_json_text(payload: dict[str, Any]) -> str:
    """One JSON object with plain floats (numpy and SymPy numbers converted)."""
    return json.dumps(_plain(payload), indent=2, ensure_ascii=False) + "\n"


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def render_text(renderable: RenderableType, *, width: int = 100) -> str:
    """Render a rich object to plain text, as it would appear in a terminal without colour."""
    console = Console(width=width, record=True, file=open("/dev/null", "w"),  # noqa: SIM115
                      color_system=None, force_terminal=False)
    console.print(renderable, crop=False)
    return console.export_text()


def emit(
    fmt: Format | ReportFormat,
    out: Path | None,
    *,
    text: Callable[[], RenderableType] | None = None,
    latex: Callable[[], str] | None = None,
    markdown: Callable[[], str] | None = None,
    json_payload: Callable[[], dict[str, Any]] | None = None,
) -> None:
    """Produce the result in ``fmt`` (a Format or a ReportFormat) and print it, or write it to
    ``out``."""
    fmt = Format(fmt.value)
    producers: dict[Format, Callable[[], Any] | None] = {
        Format.text: text, Format.latex: latex, Format.markdown: markdown,
        Format.json: json_payload,
    }
    producer = producers[fmt]
    if producer is None:
        supported = ", ".join(f.value for f, p in producers.items() if p is not None)
        raise ChainruleError(f"--format {fmt.value} is not supported here: expected {supported}")
    result = producer()
    if fmt is Format.json:
        result = to_json_text(result)
    if out is not None:
        body = render_text(result) if fmt is Format.text else result
        atomic_write_text(out, body, what="--out")
        if check_output(out, probe=False).kind is not Kind.STREAM:
            typer.echo(f"wrote {out}", err=True)
    elif fmt is Format.text:
        Console().print(result, crop=False)  # a line marked overflow="ignore" stays whole
    else:
        typer.echo(result, nl=not str(result).endswith("\n"))
