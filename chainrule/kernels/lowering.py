"""Lowering: each layer of a model spec, per (layer kind, device), to a lowered layer object.

In the spirit of PyTensor's ``numba_funcify``, a lowering is a function registered for a layer
kind (the spec's ``kind`` token: ``dense``, ``conv``, ``pool``, ``flatten``, or ``output`` for the
last dense layer) and a device (``cpu``, ``cuda``). It chooses the kernels once, when the network
is built: the CPU lowers a dense layer's activation to the row kernel ``bias_act_rows``, CUDA to
the elementwise one. A fusion is registered for a pair of adjacent kinds (below, above): a conv
layer under a non-overlapping average pool lowers to one :class:`ConvAvgPool`, whose backward
pass spreads the pool's gradient inside the conv's BP2. train/ only calls :func:`lower_model`
and the lowered layers' ``forward``/``backward``; it never sees a backend module.

A new layer kind is one derive/ file, one lowering per device here, and its spec token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from chainrule.derive.spec import Conv2d, Dense, Layer, ModelSpec, Pool2d
from chainrule.errors import ChainruleError
from chainrule.kernels.layers import (
    ChannelActivation,
    Contraction,
    ConvAsDense,
    ConvAvgPool,
    ConvContraction,
    DenseContraction,
    FlattenLayer,
    HiddenLayer,
    LoweredLayer,
    OutputLayer,
    PoolLayer,
    RowActivation,
)
from chainrule.kernels.registry import Backend, get_backend


@dataclass(frozen=True)
class Choices:
    """What the lowering needs besides the spec: activations, loss and dropout."""

    activation: str  # hidden layers
    output_activation: str  # 'softmax' or an activation name
    loss: str
    loss_scale: float  # the loss's vector-form factor (Loss.unit_factor)
    dropout: float = 0.0  # after hidden dense layers


@dataclass(frozen=True)
class Site:
    """One layer being lowered: its spec, its parameter prefix and the backend's kernels."""

    spec: Layer
    prefix: str
    backend: Backend
    choices: Choices


Lowering = Callable[[Site], LoweredLayer | OutputLayer]
Fusion = Callable[[Site, Site], LoweredLayer | None]  # None: the pair does not fuse
_LOWERINGS: dict[tuple[str, str], Lowering] = {}
_FUSIONS: dict[tuple[str, str, str], Fusion] = {}


def register_lowering(kind: str, *devices: str) -> Callable[[Lowering], Lowering]:
    """Register the decorated function as the lowering of ``kind`` on each of ``devices``."""
    def decorate(function: Lowering) -> Lowering:
        for device in devices:
            _LOWERINGS[(kind, device)] = function
        return function
    return decorate


def register_fusion(below: str, above: str, *devices: str) -> Callable[[Fusion], Fusion]:
    """Register the decorated function as the fusion of a ``below`` layer with the ``above``
    layer that follows it, on each of ``devices``."""
    def decorate(function: Fusion) -> Fusion:
        for device in devices:
            _FUSIONS[(below, above, device)] = function
        return function
    return decorate


def lowering(kind: str, device: str) -> Lowering:
    """The lowering of ``kind`` on ``device``, with an error that names the registered ones."""
    try:
        return _LOWERINGS[(kind, device)]
    except KeyError:
        known = ", ".join(sorted(k for k, d in _LOWERINGS if d == device))
        raise ChainruleError(f"layer kind {kind!r} has no lowering for --device {device}: "
                             f"expected one of: {known}") from None


def lower_model(spec: ModelSpec, device: str, choices: Choices
                ) -> tuple[list[LoweredLayer], OutputLayer]:
    """The hidden layers (fused where a fusion is registered) and the output layer of ``spec``."""
    backend = get_backend(device)
    sites = [Site(layer, f"layer{index}", backend, choices) for index, layer in enumerate(spec.layers)]
    output = lowering("output", device)(sites[-1])
    assert isinstance(output, OutputLayer)
    hidden: list[LoweredLayer] = []
    index = 0
    while index < len(sites) - 1:
        site = sites[index]
        above = sites[index + 1] if index + 1 < len(sites) - 1 else None
        fusion = _FUSIONS.get((site.spec.kind, above.spec.kind, device)) if above else None
        fused = fusion(site, above) if fusion and above else None
        if fused is not None:
            hidden.append(fused)
            index += 2
            continue
        layer = lowering(site.spec.kind, device)(site)
        assert not isinstance(layer, OutputLayer)
        hidden.append(layer)
        index += 1
    return hidden, output


def _hidden(site: Site, act: ChannelActivation, contraction: Contraction, dropout: float = 0.0
            ) -> HiddenLayer:
    spec = cast(Dense | Conv2d, site.spec)
    return HiddenLayer(spec, site.prefix, site.backend, site.choices.activation, act, contraction,
                       dropout)


@register_lowering("dense", "cpu")
def _dense_cpu(site: Site) -> HiddenLayer:
    act = RowActivation(site.backend.activation(site.choices.activation))
    return _hidden(site, act, DenseContraction(), site.choices.dropout)


@register_lowering("conv", "cpu")
def _conv_cpu(site: Site) -> HiddenLayer:
    spec = cast(Conv2d, site.spec)
    module = site.backend.activation(site.choices.activation)
    _, rows, cols = spec.out_shape
    # one position per channel (LeNet-5's C5): the row kernel vectorises, 50 -> 7 us
    act = RowActivation(module) if rows * cols == 1 else ChannelActivation(module)
    # a window that covers the whole input is a dense product on the flattened input
    covers = site.backend.conv.is_dense(spec.in_shape, spec.kernel, spec.padding)
    return _hidden(site, act, ConvAsDense() if covers else ConvContraction())


@register_lowering("pool", "cpu")
def _pool(site: Site) -> PoolLayer:
    return PoolLayer(cast(Pool2d, site.spec), site.backend)


@register_lowering("flatten", "cpu")
def _flatten(site: Site) -> FlattenLayer:
    return FlattenLayer(site.spec.in_shape)  # type: ignore[union-attr]


@register_lowering("output", "cpu")
def _output(site: Site) -> OutputLayer:
    if site.spec.kind != "dense":
        raise ChainruleError(f"the last layer must be dense to be an output layer, got "
                             f"{site.spec.kind!r}")
    choices = site.choices
    return OutputLayer(cast(Dense, site.spec), site.prefix, site.backend, choices.output_activation,
                       choices.loss, choices.loss_scale)


@register_fusion("conv", "pool", "cpu")
def _conv_avg_pool(below: Site, above: Site) -> ConvAvgPool | None:
    """Average pooling over non-overlapping windows above a conv layer."""
    pool = cast(Pool2d, above.spec)
    if pool.mode != "avg" or pool.stride != pool.size:
        return None
    conv = cast(HiddenLayer, lowering("conv", below.backend.name)(below))
    return ConvAvgPool(conv, PoolLayer(pool, above.backend))
