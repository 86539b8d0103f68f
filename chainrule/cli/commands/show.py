"""``chainrule show filters|features CKPT --out F.png``: what a trained conv net learned.

``filters`` draws the first conv layer's weights, one tile per filter; ``features`` runs one image
of a data set through the network up to that layer and draws its feature maps (the layer's
activations) beside the image (Zeiler & Fergus, "Visualizing and Understanding Convolutional
Networks", 2014).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from chainrule.cli.apps import ChainruleGroup, app
from chainrule.cli.output import output_option
from chainrule.errors import ChainruleError

if TYPE_CHECKING:  # NumPy loads where used, so --help stays fast
    import numpy as np

show_app = typer.Typer(cls=ChainruleGroup, no_args_is_help=True,
                       help="Figures of a trained conv checkpoint: its filters and feature maps.")
app.add_typer(show_app, name="show")

CHECKPOINT_ARGUMENT = typer.Argument(..., help="A checkpoint written by chainrule train --out.",
                                     dir_okay=False)
FIGURE_OPTION = output_option("--out", "-o", binary=True, what="--out",
                              help="The PNG file to write (required).")


@show_app.command("filters")
def filters_command(checkpoint: Path = CHECKPOINT_ARGUMENT, out: Path = FIGURE_OPTION) -> None:
    """Draw the first conv layer's filters, one tile per filter, on one colour scale.

    [bold]Examples[/bold]

      chainrule train lenet5 --data fashion-mnist --epochs 1 --out fm.npz

      chainrule show filters fm.npz --out filters.png
    """
    import numpy as np

    from chainrule.cli.plots import filters_figure, save_figure

    target = _png(out)
    network, _ = _load(checkpoint)
    layer = first_conv(network, checkpoint)
    weight = np.asarray(network.params[f"{layer.prefix}.weight"], dtype=np.float64)
    save_figure(filters_figure(weight, title=f"{network.spec.text}: first conv layer"), target)
    typer.echo(f"wrote {target}", err=True)


@show_app.command("features")
def features_command(
    checkpoint: Path = CHECKPOINT_ARGUMENT,
    out: Path = FIGURE_OPTION,
    index: int = typer.Option(0, "--index", "-i", help="Which test image (0-based)."),
    data: str = typer.Option(None, "--data", "-d",
                             help="Data set to take the image from (default: the one the "
                                  "checkpoint was trained on)."),
) -> None:
    """Draw one test image's feature maps: the first conv layer's activations.

    [bold]Examples[/bold]

      chainrule show features fm.npz --index 3 --out features.png
    """
    import numpy as np

    from chainrule.cli.plots import feature_maps_figure, save_figure
    from chainrule.train.data import load_dataset
    from chainrule.train.session import fit_batches

    target = _png(out)
    network, meta = _load(checkpoint)
    layer = first_conv(network, checkpoint)
    name = data or meta.get("data", {}).get("name")
    if not name:
        raise ChainruleError(f"{checkpoint}: no training data recorded: give --data")
    dataset = load_dataset(name)
    n = dataset.x_test.shape[0]
    if not 0 <= index < n:
        raise ChainruleError(f"--index {index} is out of range: {name} has {n} test images "
                             f"(0..{n - 1})")
    batches = fit_batches(dataset, network.spec, dtype=np.dtype(network.dtype))
    image = batches.x_test[index:index + 1]  # (1, c, H, W)
    maps = feature_maps(network, image, layer)[0]
    label = "" if dataset.n_classes is None else f", label {int(dataset.y_test[index])}"
    title = f"{network.spec.text}: first conv layer on {name} test image {index}{label}"
    save_figure(feature_maps_figure(image[0], maps, title=title), target)
    typer.echo(f"wrote {target}", err=True)


def _png(out: Path | None) -> Path:
    if out is None:
        raise ChainruleError("--out FILE.png is required")
    if out.suffix.lower() != ".png":
        raise ChainruleError(f"--out {str(out)!r}: expected a .png file name")
    return out


def _load(checkpoint: Path) -> tuple[Any, dict[str, Any]]:
    from chainrule.train.prediction import load_model

    return load_model(checkpoint)


def first_conv(network: Any, checkpoint: Path) -> Any:
    """The network's first conv layer, or a one-line error naming the model."""
    for layer in getattr(network, "layers", []):
        conv = _conv_in(layer)
        if conv is not None:
            return conv
    raise ChainruleError(f"{checkpoint}: model {network.spec.text!r} has no conv layer "
                         "(show needs a conv net, e.g. lenet5 or cnn:1x28x28-conv5x5x6-...)")


def _conv_in(layer: Any) -> Any:
    """The conv layer that ``layer`` is, or holds (a conv lowered with its pool as one layer)."""
    from chainrule.derive.spec import Conv2d

    for candidate in (layer, getattr(layer, "conv", None)):
        if isinstance(getattr(candidate, "spec", None), Conv2d):
            return candidate
    return None


def feature_maps(network: Any, x: np.ndarray, conv: Any) -> np.ndarray:
    """The activations (batch, filters, h, w) of ``conv`` for inputs ``x`` (inference mode)."""
    import numpy as np

    h = x
    for layer in network.layers:
        if _conv_in(layer) is conv:
            return np.asarray(conv.forward(network.params, h, train=False))
        h = layer.forward(network.params, h, train=False)
    raise ChainruleError("the conv layer is not part of this network")
