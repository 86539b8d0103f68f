"""The typer apps that command modules attach to, and the error handling they share.

Every command module in :mod:`chainrule.cli.commands` imports the app it belongs to from here and
registers itself with a decorator; :mod:`chainrule.cli.main` imports the ones a command line needs.
A :class:`~chainrule.errors.ChainruleError` raised anywhere below becomes one line on stderr and
exit status 2; so does every usage error of click/typer (a bad option value, an unknown option, a
missing argument), written by :func:`usage_error_line` instead of click's boxed panel. Ctrl-C
becomes exit status 130.
"""

from __future__ import annotations

import inspect
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

import typer
from typer import _click as click  # typer vendors click; its Context and exceptions live here
from typer.core import TyperCommand, TyperGroup
from typer.exceptions import Abort, Exit, TyperException

from chainrule import __version__
from chainrule.errors import ChainruleError

COMPLETION_OPTIONS = ("install_completion", "show_completion")
COMPLETION_SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")  # typer's completion scripts


def _checking_shell(callback: Callable[..., Any]) -> Callable[..., Any]:
    """``callback`` (typer's --install-completion or --show-completion), run only for a shell
    typer writes completion for; any other is a usage error (one line, exit status 2)."""
    def checked(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value and not ctx.resilient_parsing:
            from typer.completion import _get_shell_name

            shell = value if isinstance(value, str) else _get_shell_name()
            if shell not in COMPLETION_SHELLS:
                covered = ", ".join(COMPLETION_SHELLS)
                raise click.exceptions.UsageError(f"shell completion covers {covered}; this "
                                                  f"shell is {shell or 'unknown'}")
        return callback(ctx, param, value)

    checked.checks_shell = True  # type: ignore[attr-defined]
    return checked


class ChainruleGroup(TyperGroup):
    """A command group that turns bad input into one line on stderr and exit status 2."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             windows_expand_args: bool = True, **extra: Any) -> Any:
        """Run the app; in standalone mode a usage error is one line on stderr, exit 2."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False,
                                windows_expand_args=windows_expand_args, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False,
                                windows_expand_args=windows_expand_args, **extra)
        except click.exceptions.NoArgsIsHelpError:  # a bare group: its help, printed, is the answer
            sys.exit(0)
        except click.exceptions.ClickException as exc:
            typer.echo(usage_error_line(exc), err=True)
            sys.exit(exc.exit_code)
        except Abort:
            typer.echo("aborted", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        """The group's options, with the completion options refusing a shell that typer has no
        script for (``sh``, say) as a usage error, instead of typer's exit status 1."""
        params = super().get_params(ctx)
        for param in params:
            if param.name in COMPLETION_OPTIONS and param.callback is not None \
                    and not getattr(param.callback, "checks_shell", False):
                param.callback = _checking_shell(param.callback)
        return params

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
        except MemoryError:  # a size no cap caught: still one line, not a traceback
            typer.echo("error: out of memory: the input needs more memory than this machine has "
                       "(see README, \"Limits\")", err=True)
            ctx.exit(2)
        except BrokenPipeError:  # the reader left (`| head`): stop quietly, as cat does
            _silence_stdout()
            ctx.exit(141)
        except Exception as exc:  # a bug: reported in one line unless debugging
            if os.environ.get("CHAINRULE_DEBUG"):
                raise
            typer.echo(f"internal error: {type(exc).__name__}: {exc} "
                       "(set CHAINRULE_DEBUG=1 for a traceback)", err=True)
            ctx.exit(1)


class ExpressionCommand(TyperCommand):
    """A command whose expression may start with a minus: ``derive expr "-(t*log(s))" --wrt s``
    (used by ``derive expr`` and ``derive graph``).

    Click would read ``-(t*log(s))`` as a cluster of short options; any argument that starts with
    '-' and is not one of the command's options (or an option's value) is moved behind ``--``.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        valued: set[str] = set()
        flags: set[str] = set(ctx.help_option_names)
        for param in self.get_params(ctx):
            if param.param_type_name == "option":
                names = [*param.opts, *param.secondary_opts]
                (flags if getattr(param, "is_flag", False) else valued).update(names)
        return super().parse_args(ctx, expression_last(args, valued=valued, flags=flags))


def expression_last(args: list[str], *, valued: set[str], flags: set[str]) -> list[str]:
    """``args`` with a leading-minus expression moved behind ``--`` (see ExpressionCommand)."""
    kept: list[str] = []
    moved: list[str] = []
    expect_value = False
    for index, arg in enumerate(args):
        name = arg.split("=", 1)[0]
        if expect_value or arg == "--":
            if arg == "--":
                kept.extend(args[index:])
                break
            kept.append(arg)
            expect_value = False
        elif name in valued:
            kept.append(arg)
            expect_value = "=" not in arg
        elif name in flags or arg.startswith("--") or not arg.startswith("-") or arg == "-":
            kept.append(arg)
        else:
            moved.append(arg)
    return [*kept, "--", *moved] if moved else kept


def usage_error_line(exc: click.exceptions.ClickException) -> str:
    """One line for a click/typer usage error: ``error: --batch: expected an integer ≥ 1, got 0``."""
    if isinstance(exc, click.exceptions.NoSuchOption):
        hint = f" (did you mean {', '.join(sorted(exc.possibilities)[:3])}?)" \
            if exc.possibilities else ""
        text = f"no such option {exc.option_name}{hint}"
    elif isinstance(exc, click.exceptions.MissingParameter):
        kind = "argument" if exc.param is not None and exc.param.param_type_name == "argument" \
            else "option"
        text = f"missing {kind} {_param_name(exc.param) if exc.param else ''}".rstrip()
    elif isinstance(exc, click.exceptions.BadParameter):
        name = _param_name(exc.param) if exc.param is not None else exc.param_hint or "value"
        text = f"{name}: {_bad_value(exc)}"
    else:
        text = exc.format_message().rstrip(".").replace("?.", "?")
        text = text[:1].lower() + text[1:]
    ctx: click.Context | None = getattr(exc, "ctx", None)
    path = ctx.command_path.split()[1:] if ctx is not None else []
    command = " ".join(["chainrule", *path])
    if not isinstance(exc, click.exceptions.BadParameter) \
            or isinstance(exc, click.exceptions.MissingParameter):
        text += f"; see '{command} --help'"
    return "error: " + " ".join(text.split())


def _param_name(param: click.Parameter) -> str:
    """``--batch`` for an option (its longest name), ``MODEL`` for an argument."""
    if param.param_type_name == "argument":
        return (param.name or "argument").upper()
    names = [*param.opts, *param.secondary_opts]
    return max(names, key=len) if names else (param.name or "value")


_BOUNDS = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}


def _bad_value(exc: click.exceptions.BadParameter) -> str:
    """What was expected and what was got, from the validation error behind ``exc``."""
    errors = getattr(exc.__cause__, "errors", None)
    details = errors()[0] if callable(errors) and errors() else None
    if details is None:
        return exc.format_message()
    got = details.get("input")
    bound = [f"{_BOUNDS[key]} {value}" for key, value in details.get("ctx", {}).items()
             if key in _BOUNDS]
    annotation = getattr(getattr(exc.param, "type_descriptor", None), "annotation", None)
    kind = "an integer" if annotation is int or details["type"].startswith("int") else "a number"
    if bound:
        return f"expected {kind} {bound[0]}, got {got}"
    if details["type"] in ("int_parsing", "float_parsing", "int_from_float"):
        return f"expected {kind}, got {got!r}"
    message = str(details.get("msg", exc.format_message()))
    return message.removeprefix("Value error, ").rstrip(".")


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
    return "\n\n".join("\n".join(map(fold_example, paragraph.splitlines()))
                        if any(line[:1].isspace() for line in paragraph.splitlines())
                        else " ".join(line.strip() for line in paragraph.splitlines())
                        for paragraph in paragraphs)


EXAMPLE_WIDTH = 76  # an example line fits an 80-column terminal inside the help's margins
_WORD = re.compile(r"""(?:[^\s"']+|"[^"]*"|'[^']*')+""")  # a shell word, quotes kept


def fold_example(line: str, width: int = EXAMPLE_WIDTH) -> str:
    """An example command longer than ``width`` as shell lines joined by `` \\``, each one
    word-aligned and indented, so that it can be copied from an 80-column terminal."""
    if len(line) <= width or not line.lstrip().startswith("chainrule "):
        return line
    indent = line[:len(line) - len(line.lstrip())]
    words: list[str] = []
    for word in _WORD.findall(line):  # an option stays on the line of its value
        glue = words and words[-1].startswith("-") and " " not in words[-1] \
            and not word.startswith("-")
        words[-1:] = [f"{words[-1]} {word}"] if glue else [*words[-1:], word]
    lines, current = [], indent
    for word in words:
        if current.strip() and len(current) + 1 + len(word) + 2 > width:
            lines.append(current + " \\")
            current = indent + "    " + word
        else:
            current = f"{current} {word}" if current.strip() else indent + word
    return "\n".join([*lines, current])


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
    add_completion=True,  # --install-completion, --show-completion (bash, zsh, fish, PowerShell)
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
