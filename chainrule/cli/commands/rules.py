"""``chainrule rules``: every rule a derivation may cite (the table of
:mod:`chainrule.derive.rules`), with its formula, its name and where it comes from."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from chainrule.cli.apps import app
from chainrule.cli.output import OUT_OPTION, REPORT_FORMAT_OPTION, ReportFormat, emit

if TYPE_CHECKING:  # the rule table holds SymPy expressions: it loads when the command runs
    from rich.table import Table

    from chainrule.derive.rules import Rule


@app.command("rules")
def rules_command(
    name: str = typer.Argument(None, help="Show this rule only (e.g. constant_multiple)."),
    fmt: ReportFormat = REPORT_FORMAT_OPTION,
    out: Path = OUT_OPTION,
) -> None:
    """List the rules that derivations cite: name, formula and source.

    Each step of a derivation names the rule it applies (the "rule" column of derive expr). The
    formula column is the rule as the steps print it; --format json and markdown add its LaTeX.

    [bold]Examples[/bold]

      chainrule rules
      chainrule rules constant_multiple
      chainrule rules --format markdown
    """
    from chainrule.derive.rules import RULES, get_rule

    rules = [get_rule(name)] if name is not None else list(RULES.values())
    emit(fmt, out, text=lambda: _table(rules), markdown=lambda: _markdown(rules),
         json_payload=lambda: _payload(rules))


def _table(rules: list[Rule]) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table("rule", "formula and source", title="differentiation rules",
                  title_justify="left", show_lines=True)
    for rule in rules:
        cell = Text(rule.description)
        if rule.source:
            cell.append("\n" + rule.source, style="dim")
        table.add_row(Text(rule.name, style="bold", overflow="fold"), cell)
    return table


def _markdown(rules: list[Rule]) -> str:
    lines = ["# Differentiation rules", "", "| rule | formula | source |", "|---|---|---|"]
    lines += [f"| `{rule.name}` | ${_escape(rule.formula)}$ ({_escape(rule.description)}) | "
              f"{_escape(rule.source)} |" for rule in rules]
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def _payload(rules: list[Rule]) -> dict[str, Any]:
    return {"rules": [{"name": rule.name, "formula": rule.description, "latex": rule.formula,
                       "source": rule.source} for rule in rules]}
