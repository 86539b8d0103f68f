"""``chainrule predict FILE --input PATH``: a trained checkpoint's predictions for new inputs
(an IDX file, a CSV file, or a PNG image read with matplotlib.image and resized to the model)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.table import Table

from chainrule.cli.apps import app
from chainrule.cli.output import FORMAT_OPTION, OUT_OPTION, Format, emit
from chainrule.errors import ChainruleError

CHECKPOINT_ARGUMENT = typer.Argument(..., help="A checkpoint written by chainrule train --out.",
                                     dir_okay=False)
INPUT_OPTION = typer.Option(..., "--input", "-i", dir_okay=False,
                            help="IDX file, CSV file (one sample per row) or PNG image.")
SHOWN_ROWS = 20


@app.command("predict")
def predict_command(
    checkpoint: Path = CHECKPOINT_ARGUMENT,
    input_path: Path = INPUT_OPTION,
    fmt: Format = FORMAT_OPTION,
    out: Path = OUT_OPTION,
) -> None:
    """Predict with a trained checkpoint: the class (and output vector) of each input sample.

    A PNG is read as grayscale (RGB weighted 0.299/0.587/0.114), resized to the model's input
    (e.g. 28×28 for mlp:784-… or lenet5) and scaled to [0, 1]. Fashion-MNIST images are light
    on dark.

    [bold]Examples[/bold]

      chainrule predict fm.npz --input /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz

      chainrule predict xor.npz --input patterns.csv --format json

      chainrule predict fm.npz --input shoe.png
    """
    from chainrule.train.prediction import input_kind, load_model, predictions, rows_input

    network, meta = load_model(checkpoint)
    if input_kind(input_path) == "png":
        x = _png_input(input_path, network)
    else:
        x = rows_input(input_path, network)
    result = {"model": meta["model"]["spec"], "input": str(input_path),
              "predictions": predictions(network, meta, x)}
    emit(fmt, out, text=lambda: _table(result), markdown=lambda: _markdown(result),
         json_payload=lambda: result)


def _png_input(path: Path, network: Any) -> np.ndarray:
    from matplotlib import image

    from chainrule.train.data.images import image_input

    try:
        pixels = image.imread(path)
    except (OSError, ValueError, SyntaxError) as exc:
        raise ChainruleError(f"cannot read PNG {str(path)!r}: {exc}") from None
    return image_input(pixels, network.spec.input_shape, model=network.spec.text)


def _cells(record: dict[str, Any]) -> tuple[str, str, str]:
    output = ", ".join(f"{v:.4f}" for v in record["output"][:10])
    if len(record["output"]) > 10:
        output += ", …"
    return str(record["index"]), str(record.get("class", "—")), output


def _table(result: dict[str, Any]) -> Table:
    table = Table("sample", "class", "output", title=f"{result['model']}: {result['input']}")
    for record in result["predictions"][:SHOWN_ROWS]:
        table.add_row(*_cells(record))
    hidden = len(result["predictions"]) - SHOWN_ROWS
    if hidden > 0:
        table.caption = f"{hidden} more rows (use --format json for all)"
    return table


def _markdown(result: dict[str, Any]) -> str:
    lines = [f"# {result['model']}: predictions for {result['input']}", "",
             "| sample | class | output |", "|---:|---:|---|"]
    lines += ["| " + " | ".join(_cells(r)) + " |" for r in result["predictions"]]
    return "\n".join(lines) + "\n"
