"""``chainrule evaluate FILE --data DATA``: a checkpoint's accuracy, loss, confusion matrix and
per-class precision and recall on a data set's test (or train) split, with class names, a
warning when the data are not the ones it was trained on, and ``--plot`` for a figure."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from chainrule.cli.apps import app
from chainrule.cli.output import (
    OUT_OPTION,
    REPORT_FORMAT_OPTION,
    ReportFormat,
    emit,
    output_option,
)
from chainrule.errors import ChainruleError

CHECKPOINT_ARGUMENT = typer.Argument(..., help="A checkpoint written by chainrule train --out.",
                                     dir_okay=False)
CLASSES_OPTION = typer.Option(None, "--classes", dir_okay=False,
                              help="Text file with one class name per line, in label order "
                              "(default: the names stored in the checkpoint at training time, "
                              "Fashion-MNIST's ten, or a CSV header's label:a|b|c).")
PLOT_OPTION = output_option("--plot", binary=True,
                            help="PNG of the confusion matrix, beside a grid of misclassified "
                            "images for image data.")
MATRIX_WIDTH = 80  # the confusion matrix fits an 80-column terminal
ABBREVIATION_LENGTHS = (5, 4, 3)


@app.command("evaluate")
def evaluate_command(
    checkpoint: Path = CHECKPOINT_ARGUMENT,
    data: str = typer.Option(..., "--data", "-d", help="Data set (as for chainrule train)."),
    split: str = typer.Option("test", "--split", help="test or train."),
    classes: Path = CLASSES_OPTION,
    plot: Path = PLOT_OPTION,
    device: str = typer.Option("cpu", "--device", help="cpu or cuda: the backend that runs the "
                               "checkpoint."),
    fmt: ReportFormat = REPORT_FORMAT_OPTION,
    out: Path = OUT_OPTION,
) -> None:
    """Evaluate a trained checkpoint on DATA: accuracy, mean loss, the confusion matrix (rows:
    true class, columns: predicted; abbreviated names with a legend, 80 columns wide) and each
    class's precision, recall (the class's own accuracy) and support.

    A warning goes to stderr when DATA is not the data the checkpoint was trained on.

    [bold]Examples[/bold]

      chainrule evaluate fm.npz --data fashion-mnist --plot cm.png

      chainrule evaluate xor.npz --data xor --format json

    JSON is strict: a loss that overflows to NaN or ±inf (a diverged model) is written as null,
    and the field non_finite lists it (["loss"]). It holds classes (names) and per_class
    (precision, recall, support; null where nothing was counted).
    """
    from chainrule.cli.jsonsafe import finite_payload
    from chainrule.kernels.registry import get_backend
    from chainrule.train.evaluation import evaluate_in_detail

    if split not in ("test", "train"):
        raise ChainruleError(f"--split must be test or train, got {split!r}")
    if plot is not None and plot.suffix.lower() != ".png":
        raise ChainruleError(f"--plot {str(plot)!r}: expected a .png file name")
    get_backend(device)  # an unknown device, or cuda without a GPU: one line, exit 2
    evaluation = evaluate_in_detail(checkpoint, data, split=split, classes_file=classes,
                                    device=device)
    result = evaluation.result
    for warning in result["warnings"]:
        typer.echo(f"warning: {warning}", err=True)
    if plot is not None:
        _plot(plot, evaluation)
    emit(fmt, out, text=lambda: _text(result), markdown=lambda: _markdown(result),
         json_payload=lambda: finite_payload(result))


def _plot(path: Path, evaluation: Any) -> None:
    from chainrule.cli.plots import evaluation_figure, save_figure

    result = evaluation.result
    if result["confusion"] is None:
        raise ChainruleError("--plot needs a classifier: regression has no confusion matrix")
    figure = evaluation_figure(result["confusion"], result["classes"], images=evaluation.images,
                               true=evaluation.true.tolist(),
                               predicted=evaluation.predicted.tolist(),
                               confidence=evaluation.confidence.tolist(),
                               title=f"{result['model']} on {result['data']} ({result['split']})")
    save_figure(figure, path)
    typer.echo(f"wrote {path}", err=True)


def _acc(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def _text(result: dict[str, Any]) -> RenderableType:
    title = Text(f"{result['model']} on {result['data']} ({result['split']} split)", style="bold")
    parts: list[RenderableType] = [title, _summary(result)]
    if result["confusion"] is not None:
        parts += [*_confusion_lines(result["confusion"], result["classes"]),
                  _per_class_table(result)]
    return Group(*parts)


def _summary(result: dict[str, Any]) -> Table:
    table = Table("", "", show_header=False)
    table.columns[1].justify = "right"
    loss = result["loss"]
    table.add_row("samples", str(result["n"]))
    table.add_row("accuracy", _acc(result["accuracy"]))
    table.add_row("loss", "—" if loss is None else f"{loss:.6g}")
    return table


def abbreviations(names: list[str], length: int) -> list[str]:
    """Short, distinct column headers: each name cut to ``length`` characters (trailing
    punctuation dropped), a clash numbered."""
    short = [re.sub(r"[\W_]+$", "", name[:length]) or name[:length] for name in names]
    if len(set(short)) == len(short):
        return short
    return [f"{s[:length - len(str(k))]}{k}" for k, s in enumerate(short)]


def matrix_headers(names: list[str], counts: list[list[int]]) -> tuple[list[str], int]:
    """Column headers and the column width: names abbreviated to 5, 4 or 3 characters where the
    matrix then fits :data:`MATRIX_WIDTH`, else the class numbers (and the matrix is printed in
    blocks of columns, :func:`column_blocks`)."""
    digits = len(str(max((max(row) for row in counts), default=0)))
    k = len(names)
    for length in ABBREVIATION_LENGTHS:
        headers = abbreviations(names, length)
        width = max(digits, *(len(h) for h in headers))
        if width + k * (width + 1) <= MATRIX_WIDTH:
            return headers, width
    headers = [str(i) for i in range(k)]
    return headers, max(digits, len(headers[-1]))


def column_blocks(k: int, width: int) -> list[range]:
    """The predicted-class columns of each printed block, so that every line fits
    :data:`MATRIX_WIDTH` (one block unless there are many classes)."""
    per_block = max(1, (MATRIX_WIDTH - width) // (width + 1))
    return [range(start, min(k, start + per_block)) for start in range(0, k, per_block)]


def _confusion_lines(counts: list[list[int]], names: list[str]) -> list[Text]:
    headers, width = matrix_headers(names, counts)
    lines = [Text("confusion matrix (rows: true class, columns: predicted class)", style="bold")]
    for block in column_blocks(len(names), width):
        lines.append(Text(" " * width + "".join(f" {headers[j]:>{width}}" for j in block),
                          style="bold"))
        for i, (header, row) in enumerate(zip(headers, counts, strict=True)):
            line = Text(f"{header:<{width}}", style="bold")
            line.append("".join(f" {row[j]:>{width}}" for j in block))
            if i in block:  # the diagonal: the samples classified right
                start = width + (i - block.start) * (width + 1) + 1
                line.stylize("bold green", start, start + width)
            lines.append(line)
    for line in lines:
        line.no_wrap, line.overflow = True, "ignore"
    legend = [f"{h} = {n}" for h, n in zip(headers, names, strict=True) if h != n]
    if legend:
        lines.append(Text(" · ".join(legend), style="dim"))
    return lines


def _per_class_table(result: dict[str, Any]) -> Table:
    table = Table("class", "precision", "recall (class acc.)", "support",
                  title="per class", title_justify="left")
    for column in table.columns[1:]:
        column.justify = "right"
    for name, scores in zip(result["classes"], result["per_class"], strict=True):
        table.add_row(name, _acc(scores["precision"]), _acc(scores["recall"]),
                      str(scores["support"]))
    return table


def _markdown(result: dict[str, Any]) -> str:
    lines = [f"# {result['model']} on {result['data']} ({result['split']} split)", "",
             f"- samples: {result['n']}", f"- accuracy: {_acc(result['accuracy'])}",
             f"- loss: {result['loss']}"]
    lines += [f"- warning: {w}" for w in result["warnings"]]
    if result["confusion"] is not None:
        names = [name.replace("|", "\\|") for name in result["classes"]]
        lines += ["", "## Confusion matrix (rows: true class, columns: predicted)", "",
                  "| true \\ predicted | " + " | ".join(names) + " |",
                  "|---" + "|---:" * len(names) + "|"]
        lines += [f"| {name} | " + " | ".join(map(str, row)) + " |"
                  for name, row in zip(names, result["confusion"], strict=True)]
        lines += ["", "## Per class", "", "| class | precision | recall | support |",
                  "|---|---:|---:|---:|"]
        lines += [f"| {name} | {_acc(s['precision'])} | {_acc(s['recall'])} | {s['support']} |"
                  for name, s in zip(names, result["per_class"], strict=True)]
    return "\n".join(lines) + "\n"
