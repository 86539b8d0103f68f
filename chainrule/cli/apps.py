"""The typer apps that command modules attach to, and the error handling they share.

Every command module in :mod:`chainrule.cli.commands` imports the app it belongs to from here and
registers itself with a decorator; :mod:`chainrule.cli.main` imports the ones a command line needs.
A :class:`~chainrule.errors.ChainruleError` raised anywhere below becomes one line on stderr and
exit status 2; Ctrl-C becomes exit status 130.
"""

from __future__ import annotations

import inspect
import os
import sys
from typing import Any

import typer
from typer import _click as click  # typer vendors click; its Context and exceptions live here
from typer.core import TyperGroup
from typer.exceptions import Abort, Exit, TyperException

from chainrule import __version__
from chainrule.errors import ChainruleError


class ChainruleGroup(TyperGroup):
    """A command group that turns bad input into one line on stderr and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ChainruleError as exc:
            typer.echo(f"error: {exc}", err=True)
            ctx.exit(2)
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            ctx.exit(130)
        except (Exit, Abort, TyperException):
            raise
        except BrokenPipeError:  # the reader left (`| head`): stop quietly, as cat does
            _silence_stdout()
            ctx.exit(141)
        except Exception as exc:  # a bug: reported in one line unless debugging
            if os.environ.get("CHAINRULE_DEBUG"):
                raise
            typer.echo(f"internal error: {type(exc).__name__}: {exc} "
                       "(set CHAINRULE_DEBUG=1 for a traceback)", err=True)
            ctx.exit(1)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (tests): nothing to flush
        pass


def reflow_help(text: str) -> str:
    """A docstring as help text: the lines of each prose paragraph joined, so that the terminal
    wraps them; paragraphs with indented lines (examples) keep their line breaks."""
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(paragraph if any(line[:1].isspace() for line in paragraph.splitlines())
                        else " ".join(line.strip() for line in paragraph.splitlines())
                        for paragraph in paragraphs)


def reflow_all_help(typer_app: typer.Typer) -> None:
    """Give every command of ``typer_app`` (and of its sub-apps) reflowed help text."""
    for info in typer_app.registered_commands:
        if info.help is None and info.callback is not None and info.callback.__doc__:
            info.help = reflow_help(info.callback.__doc__)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            reflow_all_help(group.typer_instance)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"chainrule {__version__}")
        raise typer.Exit()


app = typer.Typer(
    cls=ChainruleGroup,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    help="Derive neural-network mathematics symbolically, print the chain rule step by step, "
    "and train with kernels generated from the same expressions.\n\n"
    "The math you read is the math that runs.",
)
derive_app = typer.Typer(cls=ChainruleGroup, no_args_is_help=True,
                         help="Step-by-step derivations: expressions, graphs, neurons, layers.")
kernels_app = typer.Typer(cls=ChainruleGroup, no_args_is_help=True,
                          help="The Numba kernels generated from the derivations.")
gallery_app = typer.Typer(cls=ChainruleGroup, no_args_is_help=True,
                          help="The lecture worked examples, regenerated.")
app.add_typer(derive_app, name="derive")
app.add_typer(kernels_app, name="kernels")
app.add_typer(gallery_app, name="gallery")


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """chainrule: the math you read is the math that runs."""


def fail(message: str) -> None:
    """Raise the one-line error for bad input (exit status 2)."""
    raise ChainruleError(message)


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()
