"""The lowering registry: kernels chosen per (layer kind, device) when a network is built."""

from __future__ import annotations

import pytest

from chainrule.derive.spec import parse_spec
from chainrule.errors import ChainruleError
from chainrule.kernels import lowering
from chainrule.kernels.layers import (
    ChannelActivation,
    ConvAvgPool,
    FlattenLayer,
    HiddenLayer,
    PoolLayer,
    RowActivation,
)

CHOICES = lowering.Choices("tanh", "softmax", "softmax_ce", 1.0)


def test_cpu_lowers_one_position_per_channel_to_the_row_kernel() -> None:
    # conv3x3 on 3x3 has a 1x1 output (LeNet-5's C5): the row kernel, like a dense layer
    spec = parse_spec("cnn:1x8x8-conv3x3x2-maxpool2-conv3x3x4-dense5-dense3")
    layers, output = lowering.lower_model(spec, "cpu", CHOICES)
    kinds = [type(layer) for layer in layers]
    assert kinds == [HiddenLayer, PoolLayer, HiddenLayer, FlattenLayer, HiddenLayer]
    acts = [type(layer.act) for layer in layers if isinstance(layer, HiddenLayer)]
    assert acts == [ChannelActivation, RowActivation, RowActivation]
    assert output.prefix == "layer5" and output.loss == "softmax_ce"


def test_avg_pool_over_conv_is_one_fused_lowered_layer_and_max_pool_is_not() -> None:
    spec = parse_spec("cnn:1x8x8-conv3x3x2-avgpool2-conv2x2x2-maxpool1-dense3")
    layers, _ = lowering.lower_model(spec, "cpu", CHOICES)
    assert [type(layer) for layer in layers] == [ConvAvgPool, HiddenLayer, PoolLayer,
                                                 FlattenLayer]


def test_a_kind_without_a_lowering_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(lowering._LOWERINGS, ("flatten", "cpu"))
    with pytest.raises(ChainruleError, match="'flatten' has no lowering for --device cpu: "
                                             "expected one of: conv, dense, output, pool"):
        lowering.lower_model(parse_spec("cnn:1x4x4-conv3x3x2-dense2"), "cpu", CHOICES)


def test_the_lowering_chooses_each_layers_contraction() -> None:
    from chainrule.kernels.layers import ConvAsDense, ConvContraction, DenseContraction

    # conv3x3 over a 3x3 input covers it all: a dense product (LeNet-5's C5)
    spec = parse_spec("cnn:1x8x8-conv3x3x2-maxpool2-conv3x3x4-dense5-dense3")
    layers, output = lowering.lower_model(spec, "cpu", CHOICES)
    contractions = [type(layer.contraction) for layer in layers if isinstance(layer, HiddenLayer)]
    assert contractions == [ConvContraction, ConvAsDense, DenseContraction]
    assert type(output.contraction) is DenseContraction


def test_every_kind_the_parser_makes_is_derived_and_lowered_on_the_cpu() -> None:
    from chainrule.derive.net import _SECTIONS

    spec = parse_spec("cnn:1x8x8-conv3x3x2-maxpool2-avgpool1-flatten-dense3")
    kinds = {layer.kind for layer in spec.layers}
    assert kinds == {"conv", "pool", "flatten", "dense"}
    assert kinds <= set(_SECTIONS)
    for kind in (*kinds, "output"):
        assert callable(lowering.lowering(kind, "cpu"))
