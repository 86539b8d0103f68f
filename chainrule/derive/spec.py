"""Model specs: the small strings that name a network, parsed into layer specs with shapes.

Grammar (case-insensitive, no spaces)::

    MODEL   := "perceptron:" N                  Rosenblatt perceptron, N inputs, hardlim output
             | "linear:" N ["-" M]              one linear layer (a linear neuron when M = 1)
             | "mlp:" N ("-" N)+                dense layers, e.g. mlp:784-128-10
             | "lenet5"                          LeNet-5 (LeCun et al., 1998) on a 28×28 image
             | "cnn:" C "x" H "x" W ("-" LAYER)+
    LAYER   := "conv" K "x" K "x" F [ "s" S ] [ "p" P ]     F filters of K×K, stride S, padding P
             | ("maxpool" | "avgpool") K [ "s" S ]          K×K window, stride S (default K)
             | "flatten"
             | "dense" N

Numbers are ASCII digits. Sizes are capped before anything is built (:mod:`chainrule.limits`):
units, filters and input dimensions by ``CHAINRULE_MAX_UNITS``, a padding by its kernel size, the
values one sample holds after any layer by ``CHAINRULE_MAX_LAYER_VALUES``, and the parameter count
by ``CHAINRULE_MAX_PARAMS``; :func:`check_activations` adds batch × largest layer.

A dense layer after a conv or pool layer flattens implicitly. Activations, loss and dropout are
options (flags), not part of the spec. LeNet-5 here reads a 28×28 image padded by 2 (so C1 sees
32×32), uses tanh and average pooling, and C5 is a 5×5 convolution to 120 maps (= a dense layer
400 → 120), as in the original paper.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import ClassVar

from chainrule import limits
from chainrule.errors import ChainruleError

Shape = tuple[int, ...]
MAX_SPEC_LENGTH = 500
MAX_UNITS = limits.UNITS.default
MAX_DIGITS = 12  # a size written with more digits is refused before int() reads it


class SpecError(ChainruleError):
    """A model spec that does not parse or whose shapes do not fit."""


@dataclass(frozen=True)
class Dense:
    """z = W x + b: weight (n_out, n_in), bias (n_out,)."""

    n_in: int
    n_out: int
    kind: str = "dense"

    @property
    def out_shape(self) -> Shape:
        return (self.n_out,)

    @property
    def display_kind(self) -> str:
        return self.kind

    @property
    def param_shapes(self) -> dict[str, Shape]:
        return {"weight": (self.n_out, self.n_in), "bias": (self.n_out,)}

    @property
    def fans(self) -> tuple[int, int]:
        """(fan_in, fan_out) for the weight initialisation (Glorot & Bengio, 2010)."""
        return self.n_in, self.n_out


@dataclass(frozen=True)
class Conv2d:
    in_shape: Shape  # (c_in, h, w)
    filters: int
    kernel: int
    stride: int = 1
    padding: int = 0
    kind: str = "conv"

    @property
    def display_kind(self) -> str:
        return self.kind

    @property
    def param_shapes(self) -> dict[str, Shape]:
        """weight (filters, c_in, k, k), bias (filters,)."""
        k = self.kernel
        return {"weight": (self.filters, self.in_shape[0], k, k), "bias": (self.filters,)}

    @property
    def fans(self) -> tuple[int, int]:
        """(c_in·k·k, filters·k·k): the values one output and one input touch (He et al., 2015)."""
        area = self.kernel * self.kernel
        return self.in_shape[0] * area, self.filters * area

    @property
    def out_shape(self) -> Shape:
        _, h, w = self.in_shape
        return (self.filters, _out_size(h, self.kernel, self.stride, self.padding),
                _out_size(w, self.kernel, self.stride, self.padding))


@dataclass(frozen=True)
class Pool2d:
    in_shape: Shape  # (c, h, w)
    size: int
    stride: int
    mode: str  # "max" or "avg"
    kind: str = "pool"
    param_shapes: ClassVar[dict[str, Shape]] = {}  # no trainable parameters
    fans: ClassVar[tuple[int, int]] = (0, 0)

    @property
    def display_kind(self) -> str:
        return f"{self.mode}pool"

    @property
    def out_shape(self) -> Shape:
        c, h, w = self.in_shape
        return (c, _out_size(h, self.size, self.stride, 0), _out_size(w, self.size, self.stride, 0))


@dataclass(frozen=True)
class Flatten:
    in_shape: Shape
    kind: str = "flatten"
    param_shapes: ClassVar[dict[str, Shape]] = {}  # a reshape
    fans: ClassVar[tuple[int, int]] = (0, 0)

    @property
    def display_kind(self) -> str:
        return self.kind

    @property
    def out_shape(self) -> Shape:
        size = 1
        for dim in self.in_shape:
            size *= dim
        return (size,)


Layer = Dense | Conv2d | Pool2d | Flatten


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model: its family, the input shape, and the layers in order."""

    text: str
    family: str  # "perceptron", "linear", "mlp", "cnn" or "lenet5"
    input_shape: Shape
    layers: tuple[Layer, ...] = field(default_factory=tuple)

    @property
    def output_shape(self) -> Shape:
        return output_shape(self.layers[-1]) if self.layers else self.input_shape

    @property
    def n_inputs(self) -> int:
        size = 1
        for dim in self.input_shape:
            size *= dim
        return size

    @property
    def n_outputs(self) -> int:
        return self.output_shape[0]


def output_shape(layer: Layer) -> Shape:
    """The shape one sample has after ``layer``."""
    return layer.out_shape


LENET5 = "cnn:1x28x28-conv5x5x6p2-avgpool2-conv5x5x16-avgpool2-conv5x5x120-dense84-dense10"
_CONV = re.compile(r"^conv(\d{1,12})x(\d{1,12})x(\d{1,12})(?:s(\d{1,12}))?(?:p(\d{1,12}))?$",
                   re.ASCII)
_POOL = re.compile(r"^(max|avg)pool(\d{1,12})(?:s(\d{1,12}))?$", re.ASCII)
_DENSE = re.compile(r"^dense(\d{1,12})$", re.ASCII)


def parse_spec(text: str) -> ModelSpec:
    """Parse a MODEL string, or raise :class:`SpecError` naming the part that is wrong."""
    if not isinstance(text, str) or len(text) > MAX_SPEC_LENGTH:
        raise SpecError(f"model spec must be text of at most {MAX_SPEC_LENGTH} characters")
    spec = text.strip().lower()
    if spec == "lenet5":
        parsed = parse_spec(LENET5)
        return ModelSpec(text.strip(), "lenet5", parsed.input_shape, parsed.layers)
    family, sep, body = spec.partition(":")
    parsers = {"perceptron": _parse_perceptron, "linear": _parse_dense_chain,
               "mlp": _parse_mlp, "cnn": _parse_cnn}
    if not sep or family not in parsers or not body:
        raise SpecError(f"unknown model spec {text!r}: expected perceptron:N, linear:N, "
                        "mlp:N-N-..., lenet5 or cnn:CxHxW-LAYER-... (see chainrule summary --help)")
    input_shape, layers = parsers[family](body, text)
    model = ModelSpec(text.strip(), family, input_shape, tuple(layers))
    _check_size(model)
    return model


def n_params(model: ModelSpec) -> int:
    """Trainable parameters of ``model`` (Keras convention: weights and biases)."""
    return sum(_size(shape) for layer in model.layers for shape in layer.param_shapes.values())


def largest_layer(model: ModelSpec) -> int:
    """The most values one sample holds at any point of ``model``: its input or a layer output."""
    return max([_size(model.input_shape), *(_size(output_shape(layer)) for layer in model.layers)])


def check_activations(model: ModelSpec, batch: int, *, what: str = "batch") -> None:
    """Refuse a ``batch`` whose activations (batch × largest layer) pass CHAINRULE_MAX_ACTIVATIONS."""
    limits.ACTIVATIONS.check(batch * largest_layer(model),
                             f"{model.text} with {what} {batch}")


def _check_size(model: ModelSpec) -> None:
    limits.LAYER_VALUES.check(largest_layer(model), f"model spec {model.text!r}")
    limits.PARAMS.check(n_params(model), f"model spec {model.text!r}")


def _parse_perceptron(body: str, text: str) -> tuple[Shape, list[Layer]]:
    n = _positive(body, text, "input count")
    return (n,), [Dense(n, 1)]


def _parse_dense_chain(body: str, text: str) -> tuple[Shape, list[Layer]]:
    sizes = [_positive(part, text, "layer size") for part in body.split("-")]
    if len(sizes) == 1:
        sizes.append(1)
    return (sizes[0],), [Dense(a, b) for a, b in itertools.pairwise(sizes)]


def _parse_mlp(body: str, text: str) -> tuple[Shape, list[Layer]]:
    """mlp:N-N-...: at least an input size and an output size (linear:N alone means N → 1)."""
    if "-" not in body:
        raise SpecError(f"mlp spec {text!r} names only the input size: give the input and each "
                        f"layer's size, e.g. mlp:{body}-10 or mlp:{body}-128-10")
    return _parse_dense_chain(body, text)


def _parse_cnn(body: str, text: str) -> tuple[Shape, list[Layer]]:
    head, *tokens = body.split("-")
    dims = head.split("x")
    if len(dims) != 3 or not tokens:
        raise SpecError(f"cnn spec {text!r} must start with the input CxHxW, e.g. cnn:1x28x28-..."
                        " and name at least one layer")
    shape: Shape = tuple(_positive(d, text, "input dimension") for d in dims)
    input_shape, layers = shape, []
    for token in tokens:
        layer = _parse_layer(token, shape, text)
        layers.extend(layer)
        shape = output_shape(layer[-1])
    return input_shape, layers


def _parse_layer(token: str, shape: Shape, text: str) -> list[Layer]:
    if match := _CONV.match(token):
        kh, kw, filters, stride, pad = (int(g) if g else None for g in match.groups())
        if kh != kw:
            raise SpecError(f"{token!r}: only square kernels are supported, got {kh}x{kw}")
        stride = 1 if stride is None else stride
        pad = 0 if pad is None else pad
        return [_checked_conv(token, shape, kh, filters, stride, pad)]  # type: ignore[arg-type]
    if match := _POOL.match(token):
        mode, size, pool_stride = match.group(1), int(match.group(2)), match.group(3)
        return [_checked_pool(token, shape, size, int(pool_stride) if pool_stride else size, mode)]
    if token == "flatten":
        return [Flatten(shape)]
    if match := _DENSE.match(token):
        n_out = _positive(match.group(1), token, "dense size")
        prefix: list[Layer] = [Flatten(shape)] if len(shape) > 1 else []
        return [*prefix, Dense(_size(shape), n_out)]
    raise SpecError(f"unknown layer {token!r} in {text!r}: expected convKxKxF[sS][pP], "
                    "maxpoolK, avgpoolK, flatten or denseN")


def _checked_conv(token: str, shape: Shape, k: int, filters: int, stride: int, pad: int) -> Conv2d:
    if len(shape) != 3:
        raise SpecError(f"{token!r} needs an image input CxHxW, got shape {shape}")
    if stride == 0 or k == 0 or filters == 0:
        raise SpecError(f"{token!r}: kernel size, filters and stride must be at least 1")
    limits.UNITS.check(filters, repr(token), what="filters")
    if pad > k:
        raise SpecError(f"{token!r}: padding {pad} is larger than the kernel size {k}; "
                        f"the limit is the kernel size")
    if k > min(shape[1], shape[2]) + 2 * pad:
        raise SpecError(f"{token!r}: kernel {k}x{k} is larger than its padded input "
                        f"{shape[1] + 2 * pad}x{shape[2] + 2 * pad}")
    return Conv2d(shape, filters, k, stride, pad)


def _checked_pool(token: str, shape: Shape, size: int, stride: int, mode: str) -> Pool2d:
    if len(shape) != 3:
        raise SpecError(f"{token!r} needs an image input CxHxW, got shape {shape}")
    if size == 0 or stride == 0:
        raise SpecError(f"{token!r}: pool size and stride must be at least 1")
    if size > min(shape[1], shape[2]):
        raise SpecError(f"{token!r}: window {size}x{size} is larger than its input "
                        f"{shape[1]}x{shape[2]}")
    return Pool2d(shape, size, stride, mode)


def _positive(part: str, text: str, what: str) -> int:
    limit = limits.UNITS.value
    if not (part.isascii() and part.isdigit()) or len(part) > MAX_DIGITS \
            or not 1 <= int(part) <= limit:
        raise SpecError(f"bad {what} {part!r} in model spec {text!r}: expected a whole number "
                        f"from 1 to {limit:,} (raise it with {limits.UNITS.env}=N)")
    return int(part)


def _size(shape: Shape) -> int:
    size = 1
    for dim in shape:
        size *= dim
    return size


def _out_size(n: int, k: int, stride: int, pad: int) -> int:
    return (n + 2 * pad - k) // stride + 1
