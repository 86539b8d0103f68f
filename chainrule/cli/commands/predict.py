"""``chainrule predict FILE --input PATH``: a trained checkpoint's predictions for new inputs
(an IDX file, a CSV file, or a PNG image read with matplotlib.image and resized to the model)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from chainrule.cli.apps import app
from chainrule.cli.output import OUT_OPTION, REPORT_FORMAT_OPTION, ReportFormat, emit

if TYPE_CHECKING:  # NumPy loads where used, so --help stays fast
    import numpy as np

CHECKPOINT_ARGUMENT = typer.Argument(..., help="A checkpoint written by chainrule train --out.",
                                     dir_okay=False)
INPUT_OPTION = typer.Option(..., "--input", "-i", dir_okay=False,
                            help="IDX file, CSV file (one sample per row) or PNG image; - reads "
                            "stdin. Regular files only, at most 256 MiB "
                            "(CHAINRULE_MAX_INPUT_BYTES); a PNG at most 4096×4096 pixels "
                            "(CHAINRULE_MAX_IMAGE_PIXELS); values finite, |x| ≤ 1e6 "
                            "(CHAINRULE_MAX_ABS_VALUE).")
CLASSES_OPTION = typer.Option(None, "--classes", dir_okay=False,
                              help="Text file with one class name per line, in label order "
                              "(default: the names stored in the checkpoint at training time, "
                              "or the class numbers).")
SHOWN_ROWS = 20
TOP = 3  # classes shown per input in text


@app.command("predict")
def predict_command(
    checkpoint: Path = CHECKPOINT_ARGUMENT,
    input_path: Path = INPUT_OPTION,
    classes: Path = CLASSES_OPTION,
    device: str = typer.Option("cpu", "--device", help="cpu or cuda: the backend that runs the "
                               "checkpoint."),
    fmt: ReportFormat = REPORT_FORMAT_OPTION,
    out: Path = OUT_OPTION,
) -> None:
    """Predict with a trained checkpoint: each input's class by name with its probability and
    the runners-up (the top 3), or the output vector of a regression model.

    Class names are those stored in the checkpoint at training time (Fashion-MNIST's ten:
    T-shirt/top … Ankle boot), or --classes FILE. JSON keeps predictions (index, class, output)
    and adds name and probabilities to each, and classes (the names, in class order).

    A PNG is read as grayscale (RGB weighted 0.299/0.587/0.114), resized to the model's input
    (e.g. 28×28 for mlp:784-… or lenet5) and scaled to [0, 1]. Fashion-MNIST images are light
    on dark.

    JSON is strict: an output that overflows to NaN or ±inf is written as null, and the field
    non_finite lists where (e.g. predictions[0].output[1]).

    [bold]Examples[/bold]

      chainrule predict fm.npz --input /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz

      chainrule predict xor.npz --input patterns.csv --format json

      chainrule predict fm.npz --input shoe.png
    """
    from chainrule.cli.jsonsafe import finite_payload
    from chainrule.kernels.registry import get_backend
    from chainrule.train.prediction import (
        class_names,
        input_kind,
        load_model,
        predictions,
        read_input,
        rows_input,
    )

    get_backend(device)  # an unknown device, or cuda without a GPU: one line, exit 2
    network, meta = load_model(checkpoint, device)
    data = read_input(input_path)
    source = "stdin" if str(input_path) == "-" else str(input_path)
    if input_kind(data) == "png":
        x = _png_input(data, source, network)
    else:
        x = rows_input(data, source, network)
    names = class_names(meta, classes)
    result = {"model": meta["model"]["spec"], "input": source, "classes": names,
              "predictions": predictions(network, meta, x, names)}
    emit(fmt, out, text=lambda: _table(result), markdown=lambda: _markdown(result),
         json_payload=lambda: finite_payload(result))


def _png_input(data: bytes, source: str, network: Any) -> np.ndarray:
    from chainrule.train.data.images import image_input
    from chainrule.train.prediction import png_pixels

    return image_input(png_pixels(data, source=source), network.spec.input_shape,
                       model=network.spec.text)


def _output(record: dict[str, Any]) -> str:
    output = ", ".join(f"{v:.4f}" for v in record["output"][:10])
    return output + (", …" if len(record["output"]) > 10 else "")


def _ranked(record: dict[str, Any], names: list[str]) -> list[tuple[str, float]]:
    """The top :data:`TOP` classes of one input, most probable first."""
    probabilities = record["probabilities"]
    order = sorted(range(len(probabilities)), key=lambda k: -probabilities[k])[:TOP]
    return [(names[k], probabilities[k]) for k in order]


def _cells(record: dict[str, Any], names: list[str] | None) -> list[str]:
    if names is None:
        return [str(record["index"]), _output(record)]
    if "probabilities" not in record:
        return [str(record["index"]), record["name"], _output(record)]
    (best, p), *others = _ranked(record, names)
    return [str(record["index"]), best, f"{p:.1%}", ", ".join(f"{n} {q:.1%}" for n, q in others)]


def _columns(result: dict[str, Any]) -> list[str]:
    if result["classes"] is None:
        return ["sample", "output"]
    if result["predictions"] and "probabilities" not in result["predictions"][0]:
        return ["sample", "class", "output"]
    return ["sample", "class", "probability", "next most likely"]


def _table(result: dict[str, Any]) -> Table:
    table = Table(*_columns(result), title=f"{result['model']}: {result['input']}")
    if len(table.columns) == 4:
        table.columns[2].justify = "right"
    for record in result["predictions"][:SHOWN_ROWS]:
        table.add_row(*_cells(record, result["classes"]))
    hidden = len(result["predictions"]) - SHOWN_ROWS
    if hidden > 0:
        table.caption = f"{hidden} more rows (use --format json for all)"
    return table


def _markdown(result: dict[str, Any]) -> str:
    columns = _columns(result)
    lines = [f"# {result['model']}: predictions for {result['input']}", "",
             "| " + " | ".join(columns) + " |", "|---:" + "|---" * (len(columns) - 1) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in _cells(r, result["classes"]))
              + " |" for r in result["predictions"]]
    return "\n".join(lines) + "\n"
