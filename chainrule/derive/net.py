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
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import cast

import sympy as sp

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
from chainrule.derive.layers.dropout import KEEP
from chainrule.derive.layers.equations import Equation
from chainrule.derive.losses import get_loss
from chainrule.derive.params import layer_names
from chainrule.derive.penalties import LAMBDA
from chainrule.derive.spec import Conv2d, Dense, Layer, ModelSpec, Pool2d, Shape, parse_spec
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
    classifier = spec.family in ("cnn", "lenet5") and spec.layers[-1].kind == "dense"
    return "softmax_ce" if classifier and spec.n_outputs > 1 else "half_mse"


def derive_net(model: str | ModelSpec, *, activation: str | None = None, loss: str | None = None,
               penalty: str | None = None, dropout: bool | float = False, l2: float = 0.0,
               l1: float = 0.0) -> NetDerivation:
    """Every layer's forward and backward equations for ``model`` (a spec string or ModelSpec).

    ``l2``, ``l1`` and ``dropout`` mean what they mean in ``train``: λ ≥ 0 and a dropout *rate*
    in [0, 1), 0 = off; a nonzero value adds the layer and states its value in a note beside the
    equations that use it ("λ = 0.01", "p = 0.8, the keep probability 1 − rate"). The older
    forms ``penalty="l2"`` and ``dropout=True`` add the same layers with λ and p left symbolic.
    """
    spec = parse_spec(model) if isinstance(model, str) else model
    penalties = _penalties(penalty, l2, l1)
    rate = _dropout_rate(dropout)
    with_dropout = rate is not None
    act = get_activation(activation or default_activation(spec)).name
    loss_name = get_loss(loss or default_loss(spec)).name
    if loss_name == "softmax_ce" and (spec.n_outputs < 2 or spec.layers[-1].kind != "dense"):
        raise ChainruleError(f"softmax_ce needs a dense output layer with at least 2 outputs; "
                             f"{spec.text!r} ends in {spec.output_shape}")
    layers: list[NetLayer] = []
    for position, (layer, name) in enumerate(zip(spec.layers, layer_names(spec), strict=True)):
        following = spec.layers[position + 1] if position + 1 < len(spec.layers) else None
        # with dropout, a dense layer after a hidden dense layer reads the dropped-out y
        dropped = with_dropout and position > 0 and spec.layers[position - 1].kind == "dense"
        layers += _layer(layer, following, name, act, loss_name, with_dropout, dropped)
    if rate:
        keep = f"p = {1.0 - rate:g}, the keep probability 1 − rate for dropout rate {rate:g}"
        layers = [_stated(layer, KEEP, keep) for layer in layers]
    for name, weight in penalties:
        section = NetLayer(f"{name} penalty", regularised_layer(name), (), (), {})
        if weight is not None:
            section = _stated(section, LAMBDA, f"λ = {weight:g}, the {name.upper()} penalty strength")
        layers.append(section)
    if any(layer.kind == "dense" for layer in spec.layers):
        layers.append(NetLayer("update", minibatch_update(), (), (), {}))
    return NetDerivation(spec.text, act, loss_name, tuple(layers))


def _penalties(penalty: str | None, l2: float, l1: float) -> list[tuple[str, float | None]]:
    """The penalty sections asked for: (name, λ), λ None where the old ``penalty=`` form leaves
    it symbolic. λ must be finite and ≥ 0, as train's --l2/--l1; 0 adds nothing."""
    for value, name in ((l2, "l2"), (l1, "l1")):
        if not math.isfinite(value) or value < 0:
            raise ChainruleError(f"--{name} must be a finite number ≥ 0 (λ), got {value:g}")
    chosen: list[tuple[str, float | None]] = [(n, v) for n, v in (("l2", l2), ("l1", l1)) if v]
    if penalty:
        if any(name == penalty for name, _ in chosen):
            raise ChainruleError(f"give --{penalty} λ or --penalty {penalty}, not both")
        regularised_layer(penalty)  # an unknown name is refused here, with the known ones
        chosen.append((penalty, None))
    return chosen


def _dropout_rate(dropout: bool | float) -> float | None:
    """None for no dropout, 0.0 for the symbolic p of ``dropout=True``, else the rate."""
    if isinstance(dropout, bool):
        return 0.0 if dropout else None
    if not (math.isfinite(dropout) and 0.0 <= dropout < 1.0):
        raise ChainruleError(f"--dropout must be a rate in [0, 1), got {dropout:g}")
    return float(dropout) if dropout > 0 else None


def _stated(layer: NetLayer, symbol: sp.Symbol, statement: str) -> NetLayer:
    """``layer`` with ``statement`` added to the note of each equation whose right side uses
    ``symbol`` (as an activation's α is stated beside the equations that use it)."""
    def note(eq: Equation) -> Equation:
        if symbol not in eq.rhs.free_symbols:
            return eq
        return replace(eq, note="; ".join(n for n in (eq.note, statement) if n))

    d = layer.derivation
    derivation = replace(d, forward=tuple(map(note, d.forward)),
                         backward=tuple(map(note, d.backward)))
    return replace(layer, derivation=derivation)


@dataclass(frozen=True)
class Site:
    """One spec layer being derived, with what its sections depend on."""

    layer: Layer
    following: Layer | None  # the next spec layer, None for the output layer
    name: str
    activation: str
    loss: str
    dropout: bool
    dropped: bool = False  # its input is a dropped-out y


Sections = Callable[[Site], list[NetLayer]]
_SECTIONS: dict[str, Sections] = {}


def derives(kind: str) -> Callable[[Sections], Sections]:
    """Register the decorated function as the sections of a spec layer of ``kind``: a new layer
    kind is one derivation in derive/layers and one function here."""
    def register(function: Sections) -> Sections:
        _SECTIONS[kind] = function
        return function
    return register


def _layer(layer: Layer, following: Layer | None, name: str, act: str, loss: str,
           dropout: bool, dropped: bool = False) -> list[NetLayer]:
    return _SECTIONS[layer.kind](Site(layer, following, name, act, loss, dropout, dropped))


@derives("conv")
def _conv_sections(site: Site) -> list[NetLayer]:
    layer = cast(Conv2d, site.layer)
    c, h, w = layer.in_shape
    f, h_out, w_out = layer.out_shape
    sizes = {"C": c, "F": f, "K": layer.kernel, "H": h, "W": w, "H_out": h_out,
             "W_out": w_out, "s": layer.stride, "P": layer.padding}
    return [NetLayer(site.name, conv_layer(), layer.in_shape, layer.out_shape, sizes),
            NetLayer(f"{site.name} {site.activation}", activation_layer(site.activation),
                     layer.out_shape, layer.out_shape, {"N": math.prod(layer.out_shape)})]


@derives("pool")
def _pool_sections(site: Site) -> list[NetLayer]:
    layer = cast(Pool2d, site.layer)
    c, h, w = layer.in_shape
    _, h_out, w_out = layer.out_shape
    sizes = {"C": c, "K": layer.size, "H": h, "W": w, "H_out": h_out, "W_out": w_out,
             "s": layer.stride}
    return [NetLayer(site.name, pool_layer(layer.mode), layer.in_shape, layer.out_shape, sizes)]


@derives("flatten")
def _flatten_sections(site: Site) -> list[NetLayer]:
    c, h, w = site.layer.in_shape  # type: ignore[union-attr]
    return [NetLayer(site.name, flatten_layer(), (c, h, w), site.layer.out_shape,
                     {"C": c, "H": h, "W": w})]


@derives("dense")
def _dense_sections(site: Site) -> list[NetLayer]:
    return _dense(cast(Dense, site.layer), site.following, site.name, site.activation, site.loss,
                  site.dropout, site.dropped)


def _dense(layer: Dense, following: Layer | None, name: str, act: str, loss: str,
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
