"""The MODEL spec grammar (chainrule/derive/spec.py): families, layers, shapes and errors."""

from __future__ import annotations

import pytest

from chainrule.derive.spec import (
    Conv2d,
    Dense,
    Flatten,
    Pool2d,
    SpecError,
    check_activations,
    largest_layer,
    n_params,
    parse_spec,
)
from chainrule.errors import ChainruleError


def test_perceptron_and_mlp() -> None:
    assert parse_spec("perceptron:2").layers == (Dense(2, 1),)
    spec = parse_spec("mlp:784-128-10")
    assert spec.layers == (Dense(784, 128), Dense(128, 10))
    assert (spec.family, spec.input_shape, spec.output_shape) == ("mlp", (784,), (10,))


def test_cnn_layers_and_shapes() -> None:
    spec = parse_spec("cnn:1x28x28-conv5x5x6-maxpool2-dense10")
    conv, pool, flat, dense = spec.layers
    assert conv == Conv2d((1, 28, 28), 6, 5) and conv.out_shape == (6, 24, 24)
    assert pool == Pool2d((6, 24, 24), 2, 2, "max") and pool.out_shape == (6, 12, 12)
    assert flat == Flatten((6, 12, 12)) and dense == Dense(864, 10)


def test_e18_shapes() -> None:
    spec = parse_spec("cnn:1x28x28-conv5x5x3-maxpool2-dense10")
    assert spec.layers[0].out_shape == (3, 24, 24) and spec.layers[1].out_shape == (3, 12, 12)


def test_stride_padding_and_avgpool() -> None:
    conv, pool = parse_spec("CNN:3x32x32-conv3x3x8s2p1-avgpool2s1").layers
    assert (conv.stride, conv.padding, conv.out_shape) == (2, 1, (8, 16, 16))
    assert (pool.mode, pool.stride, pool.out_shape) == ("avg", 1, (8, 15, 15))


def test_lenet5_reads_28x28_padded_by_2() -> None:
    spec = parse_spec("lenet5")
    assert spec.family == "lenet5" and spec.input_shape == (1, 28, 28)
    c1 = spec.layers[0]
    assert (c1.padding, c1.out_shape) == (2, (6, 28, 28))
    assert spec.output_shape == (10,)


@pytest.mark.parametrize(("text", "words"), [
    ("", "unknown model spec"),
    ("resnet:50", "unknown model spec"),
    ("mlp:", "unknown model spec"),
    ("mlp:3-0", "bad layer size"),
    ("mlp:3--2", "bad layer size"),
    ("cnn:1x28-conv3x3x2", "must start with the input CxHxW"),
    ("cnn:1x28x28", "must start with the input CxHxW"),
    ("cnn:1x4x4-conv5x5x2", "larger than its padded input"),
    ("cnn:1x8x8-conv3x3x2s0", "at least 1"),
    ("cnn:1x8x8-conv3x5x2", "only square kernels"),
    ("cnn:1x8x8-maxpool9", "larger than its input"),
    ("cnn:1x8x8-dense4-conv3x3x2", "needs an image input"),
    ("cnn:1x8x8-relu", "unknown layer"),
    ("mlp:" + "1-" * 300 + "1", "at most 500 characters"),
])
def test_errors_name_the_problem(text: str, words: str) -> None:
    with pytest.raises(SpecError, match=words):
        parse_spec(text)


@pytest.mark.parametrize("text", ["mlp:2²-4", "mlp:٣-4", "cnn:1x8x8-conv3x3x٢-dense2",
                                  "perceptron:¹", "mlp:2-" + "9" * 40])
def test_sizes_are_ascii_digits(text: str) -> None:
    with pytest.raises(SpecError):
        parse_spec(text)


@pytest.mark.parametrize(("text", "words"), [
    ("mlp:100000-100000-100000", "CHAINRULE_MAX_PARAMS"),
    ("cnn:1x28x28-conv3x3x1000000-dense10", "1,000,000 filters"),
    ("cnn:1x3x3-conv3x3x2p1000-dense1", "padding 1000 is larger than the kernel size 3"),
    ("cnn:1x3x3-conv3x3x2p4-dense1", "padding 4 is larger than the kernel size 3"),
    ("cnn:1x1000x1000-conv3x3x100-dense1", "CHAINRULE_MAX_LAYER_VALUES"),
    ("cnn:100000x100000x100000-flatten", "CHAINRULE_MAX_LAYER_VALUES"),
    ("mlp:200000-2", "CHAINRULE_MAX_UNITS"),
])
def test_sizes_are_capped_before_anything_is_built(text: str, words: str) -> None:
    with pytest.raises(SpecError if "padding" in words else ChainruleError, match=words):
        parse_spec(text)


def test_caps_are_raised_by_their_environment_variable(monkeypatch) -> None:
    monkeypatch.setenv("CHAINRULE_MAX_PARAMS", "30000000000")
    assert n_params(parse_spec("mlp:100000-100000-100000")) == 20_000_200_000
    monkeypatch.setenv("CHAINRULE_MAX_PARAMS", "lots")
    with pytest.raises(ChainruleError, match="CHAINRULE_MAX_PARAMS must be a whole number"):
        parse_spec("mlp:2-2")


def test_parameter_count_and_largest_layer_match_the_shapes() -> None:
    model = parse_spec("cnn:3x8x8-conv3x3x4p1-maxpool2-dense5")
    assert n_params(model) == 4 * (3 * 3 * 3 + 1) + 5 * (4 * 4 * 4 + 1)
    assert largest_layer(model) == 4 * 8 * 8
    check_activations(model, 10)
    with pytest.raises(ChainruleError, match="CHAINRULE_MAX_ACTIVATIONS"):
        check_activations(model, 50_000_000 // 256 + 1, what="--batch")
