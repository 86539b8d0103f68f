"""The console entry point: import every command module, then run the typer app."""

from __future__ import annotations

import importlib
import pkgutil

from chainrule.cli import commands
from chainrule.cli.apps import app, reflow_all_help


def load_commands() -> None:
    """Import each module of :mod:`chainrule.cli.commands` so that its commands register."""
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        importlib.import_module(f"{commands.__name__}.{info.name}")
    reflow_all_help(app)


load_commands()


def main() -> None:
    app(prog_name="chainrule")


if __name__ == "__main__":
    main()
