"""A model's layer-by-layer forward and backward equations, assembled from the layer derivations.

Each layer *type* is derived once, in index notation with shapes as symbols
(:mod:`chainrule.derive.layers`); a model only instantiates those symbols with its own sizes, so
``derive net lenet5`` never expands a layer element by element. The output layer gets BP1 with the
chosen loss (or softmax with cross-entropy, δ = s − t), hidden dense layers BP2, convolutions an
elementwise activation after them, and the model ends with the mini-batch update rule (and the
weight penalty, when one is asked for). Nielsen, *NNDL* (2015), ch. 2; LeCun et al. (1998).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from chainrule.derive.activations import get_activation
from chainrule.derive.layers import (
    LayerDerivation,
    conv_layer,
    dense_layer,
    dropout_layer,
    flatten_layer,
    minibatch_update,
    output_error_for_loss,
    pool_layer,
    regularised_layer,
    softmax_ce_layer,
)
from chainrule.derive.layers.activation import activation_layer
from chainrule.derive.losses import get_loss
from chainrule.derive.params import layer_names
from chainrule.derive.spec import Conv2d, Dense, Flatten, ModelSpec, Pool2d, Shape, parse_spec
from chainrule.errors import ChainruleError


@dataclass(frozen=True)
class NetLayer:
    """One layer of a model: its derivation and the values of the derivation's shape symbols."""

    name: str
    derivation: LayerDerivation
    input_shape: Shape
    output_shape: Shape
    sizes: dict[str, int]


@dataclass(frozen=True)
class NetDerivation:
    model: str
    activation: str
    loss: str
    layers: tuple[NetLayer, ...]


def default_activation(spec: ModelSpec) -> str:
    return "tanh" if spec.family == "lenet5" else "relu"


def default_loss(spec: ModelSpec) -> str:
    classifier = spec.family in ("cnn", "lenet5") and isinstance(spec.layers[-1], Dense)
    return "softmax_ce" if classifier and spec.n_outputs > 1 else "half_mse"


def derive_net(model: str | ModelSpec, *, activation: str | None = None, loss: str | None = None,
               penalty: str | None = None, dropout: bool = False) -> NetDerivation:
    """Every layer's forward and backward equations for ``model`` (a spec string or ModelSpec)."""
    spec = parse_spec(model) if isinstance(model, str) else model
    act = get_activation(activation or default_activation(spec)).name
    loss_name = get_loss(loss or default_loss(spec)).name
    if loss_name == "softmax_ce" and (spec.n_outputs < 2 or not isinstance(spec.layers[-1], Dense)):
        raise ChainruleError(f"softmax_ce needs a dense output layer with at least 2 outputs; "
                             f"{spec.text!r} ends in {spec.output_shape}")
    layers: list[NetLayer] = []
    for position, (layer, name) in enumerate(zip(spec.layers, layer_names(spec), strict=True)):
        following = spec.layers[position + 1] if position + 1 < len(spec.layers) else None
        # with dropout, a dense layer after a hidden dense layer reads the dropped-out y
        dropped = dropout and position > 0 and isinstance(spec.layers[position - 1], Dense)
        layers += _layer(layer, following, name, act, loss_name, dropout, dropped)
    if penalty:
        layers.append(NetLayer(f"{penalty} penalty", regularised_layer(penalty), (), (), {}))
    if any(isinstance(layer, Dense) for layer in spec.layers):
        layers.append(NetLayer("update", minibatch_update(), (), (), {}))
    return NetDerivation(spec.text, act, loss_name, tuple(layers))


def _layer(layer: object, following: object, name: str, act: str, loss: str,
           dropout: bool, dropped: bool = False) -> list[NetLayer]:
    if isinstance(layer, Dense):
        return _dense(layer, following, name, act, loss, dropout, dropped)
    if isinstance(layer, Conv2d):
        c, h, w = layer.in_shape
        f, h_out, w_out = layer.out_shape
        sizes = {"C": c, "F": f, "K": layer.kernel, "H": h, "W": w, "H_out": h_out,
                 "W_out": w_out, "s": layer.stride, "P": layer.padding}
        return [NetLayer(name, conv_layer(), layer.in_shape, layer.out_shape, sizes),
                NetLayer(f"{name} {act}", activation_layer(act), layer.out_shape, layer.out_shape,
                         {"N": math.prod(layer.out_shape)})]
    if isinstance(layer, Pool2d):
        c, h, w = layer.in_shape
        _, h_out, w_out = layer.out_shape
        sizes = {"C": c, "K": layer.size, "H": h, "W": w, "H_out": h_out, "W_out": w_out,
                 "s": layer.stride}
        return [NetLayer(name, pool_layer(layer.mode), layer.in_shape, layer.out_shape, sizes)]
    assert isinstance(layer, Flatten)
    c, h, w = layer.in_shape
    return [NetLayer(name, flatten_layer(), layer.in_shape, layer.out_shape,
                     {"C": c, "H": h, "W": w})]


def _dense(layer: Dense, following: object, name: str, act: str, loss: str,
           dropout: bool, dropped: bool = False) -> list[NetLayer]:
    shapes = ((layer.n_in,), (layer.n_out,))
    sizes = {"J": layer.n_out, "K": layer.n_in}
    if isinstance(following, Dense):
        hidden = NetLayer(name, dense_layer(act, dropout=dropout, dropped_input=dropped), *shapes,
                          {**sizes, "N": following.n_out})
        if not dropout:
            return [hidden]
        return [hidden, NetLayer(f"{name} dropout", dropout_layer(), shapes[1], shapes[1],
                                 {"J": layer.n_out})]
    if following is not None:
        raise ChainruleError("a dense layer can only be followed by another dense layer")
    if loss == "softmax_ce":
        logits = dense_layer("linear", output=True, dropped_input=dropped)
        logits = replace(logits, title="dense layer K → J (logits; the softmax is in the loss)",
                         forward=logits.forward[:1], backward=logits.backward[1:])
        return [NetLayer(name, logits, *shapes, sizes),
                NetLayer("softmax + cross-entropy", softmax_ce_layer(), shapes[1], shapes[1],
                         {"N": layer.n_out})]
    out = dense_layer(act, output=True, dropped_input=dropped)
    if loss != "none":  # "none": BP1 stays with ∇ₐC itself
        out = replace(out, backward=(output_error_for_loss(act, loss), *out.backward[1:]))
    return [NetLayer(name, out, *shapes, sizes)]
