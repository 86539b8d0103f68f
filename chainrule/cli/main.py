"""The console entry point: import the command modules a command line needs, then run the app.

Each command lives in its own module of :mod:`chainrule.cli.commands` and registers itself when
imported. ``chainrule derive neuron ...`` imports only ``derive_neuron`` (and what it needs), so
that a derivation does not pay for the layers, kernels and training code of the other commands:
measured on a 2-core Xeon, importing every command module took 1.03-1.19 s against 0.77-0.94 s
for ``derive_neuron`` alone. A command line that names no known command (``--help``, a group's
help, a typo that click should answer with its list) imports them all.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Sequence

import typer

from chainrule.cli import commands
from chainrule.cli.apps import app, reflow_all_help
from chainrule.cli.deferred_rich import defer_rich_imports

COMMAND_MODULES: dict[tuple[str, ...], str] = {
    ("derive", "expr"): "derive_expr",
    ("derive", "graph"): "derive_graph",
    ("derive", "neuron"): "derive_neuron",
    ("derive", "net"): "derive_net",
    ("derive", "conv"): "derive_conv",
    ("perceptron",): "perceptron",
    ("summary",): "summary",
    ("rules",): "rules",
    ("train",): "train",
    ("evaluate",): "evaluate",
    ("predict",): "predict",
    ("gradcheck",): "gradcheck",
    ("kernels", "show"): "kernels_show",
    ("gallery", "build"): "gallery_build",
    ("show", "filters"): "show",
    ("show", "features"): "show",
    ("exercises",): "exercises",
    ("handout",): "handout",
}


def modules_for(argv: Sequence[str]) -> list[str]:
    """The command modules a command line needs: its command's, or all of them."""
    if list(argv[:1]) == ["--version"]:
        return []  # the version needs no command
    words = [word for word in argv[:2] if not word.startswith("-")]
    for length in (1, 2):
        if "--help" not in argv[:length] and tuple(words[:length]) in COMMAND_MODULES:
            return [COMMAND_MODULES[tuple(words[:length])]]
    return sorted(info.name for info in pkgutil.iter_modules(commands.__path__))


def load_commands(argv: Sequence[str] | None = None) -> typer.Typer:
    """Import the command modules ``argv`` needs (every one when ``argv`` is None) and return
    the app with their help text reflowed."""
    names = (sorted(info.name for info in pkgutil.iter_modules(commands.__path__))
             if argv is None else modules_for(argv))
    for name in names:
        importlib.import_module(f"{commands.__name__}.{name}")
    reflow_all_help(app)
    return app


def main() -> None:
    defer_rich_imports()
    load_commands(sys.argv[1:])(prog_name="chainrule")


if __name__ == "__main__":
    main()
