"""``chainrule evaluate FILE --data DATA``: a checkpoint's accuracy, loss and confusion matrix on a
data set's test (or train) split."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from chainrule.cli.apps import app
from chainrule.cli.output import OUT_OPTION, REPORT_FORMAT_OPTION, ReportFormat, emit
from chainrule.errors import ChainruleError

CHECKPOINT_ARGUMENT = typer.Argument(..., help="A checkpoint written by chainrule train --out.",
                                     dir_okay=False)


@app.command("evaluate")
def evaluate_command(
    checkpoint: Path = CHECKPOINT_ARGUMENT,
    data: str = typer.Option(..., "--data", "-d", help="Data set (as for chainrule train)."),
    split: str = typer.Option("test", "--split", help="test or train."),
    fmt: ReportFormat = REPORT_FORMAT_OPTION,
    out: Path = OUT_OPTION,
) -> None:
    """Evaluate a trained checkpoint on DATA: accuracy, mean loss and the confusion matrix.

    [bold]Examples[/bold]

      chainrule evaluate fm.npz --data fashion-mnist

      chainrule evaluate xor.npz --data xor --format json

    JSON is strict: a loss that overflows to NaN or ±inf (a diverged model) is written as null,
    and the field non_finite lists it (["loss"]).
    """
    from chainrule.cli.jsonsafe import finite_payload
    from chainrule.train.evaluation import evaluate

    if split not in ("test", "train"):
        raise ChainruleError(f"--split must be test or train, got {split!r}")
    result = evaluate(checkpoint, data, split=split)
    emit(fmt, out, text=lambda: _table(result), markdown=lambda: _markdown(result),
         json_payload=lambda: finite_payload(result))


def _acc(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def _table(result: dict[str, Any]) -> Table:
    table = Table("", "", title=f"{result['model']} on {result['data']} ({result['split']})",
                  show_header=False)
    for key in ("n", "accuracy", "loss"):
        value = result[key]
        table.add_row(key, str(value) if key == "n" else (_acc(value) if key == "accuracy"
                                                           else "—" if value is None
                                                           else f"{value:.6g}"))
    if result["confusion"] is not None:
        table.add_row("confusion (rows: true class)",
                      "\n".join(" ".join(f"{v:5d}" for v in row) for row in result["confusion"]))
    return table


def _markdown(result: dict[str, Any]) -> str:
    import numpy as np

    lines = [f"# {result['model']} on {result['data']} ({result['split']} split)", "",
             f"- samples: {result['n']}", f"- accuracy: {_acc(result['accuracy'])}",
             f"- loss: {result['loss']}"]
    if result["confusion"] is not None:
        k = len(result["confusion"])
        lines += ["", "| true \\ predicted | " + " | ".join(map(str, range(k))) + " |",
                  "|---" * (k + 1) + "|"]
        lines += [f"| {i} | " + " | ".join(map(str, row)) + " |"
                  for i, row in enumerate(np.asarray(result["confusion"]).tolist())]
    return "\n".join(lines) + "\n"
