"""Each layer kind owns its parameters (issue 10, part 1): shapes, fans for the initialisation and
the name `summary` shows, read by the network, the checkpoint schema and the parameter count
without a check of the layer's class. Checked against the textbook counts: a dense layer has
n_out·(n_in + 1) parameters, a conv layer F·(C·K² + 1) (Keras' convention)."""

from __future__ import annotations

import math

import pytest

from chainrule.derive.spec import n_params, parse_spec
from chainrule.train.network import build_network

SPECS = ["mlp:4-5-3", "cnn:2x7x6-conv3x3x4s2p1-maxpool2-dense3", "lenet5",
         "cnn:1x6x6-conv3x3x2-avgpool2-flatten-dense2"]


@pytest.mark.parametrize("text", SPECS)
def test_network_parameters_are_the_kinds_declared_shapes(text):
    spec = parse_spec(text)
    net = build_network(spec, seed=1)
    declared = {f"layer{i}.{name}": shape for i, layer in enumerate(spec.layers)
                for name, shape in layer.param_shapes.items()}
    assert {k: v.shape for k, v in net.params.items()} == declared
    assert sum(v.size for v in net.params.values()) == n_params(spec)


def test_textbook_counts_and_fans():
    dense, conv = parse_spec("mlp:784-128-10").layers[0], parse_spec("lenet5").layers[0]
    assert n_params(parse_spec("mlp:784-128-10")) == 128 * 785 + 10 * 129
    assert dense.fans == (784, 128)
    assert conv.fans == (1 * 25, 6 * 25)
    assert math.prod(conv.param_shapes["weight"]) + conv.param_shapes["bias"][0] == 6 * (25 + 1)


def test_untrainable_kinds_declare_nothing():
    spec = parse_spec("cnn:1x6x6-conv3x3x2-maxpool2-flatten-dense2")
    pool, flatten = spec.layers[1], spec.layers[2]
    assert pool.param_shapes == {} and flatten.param_shapes == {}
    assert (pool.display_kind, flatten.display_kind) == ("maxpool", "flatten")
