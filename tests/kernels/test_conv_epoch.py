"""The CPU's compiled epoch for conv nets (kernels/cpu/conv_epoch.py): a chunk of batches gives,
bit for bit, the parameters, optimiser state, batch losses and correct counts of
``Network.train_step`` called batch by batch, for every path a conv layer can take (direct loops
with and without padding, stride 2, im2col, a conv that is a dense layer), max and average pooling
(fused into the conv below and on its own), the flatten, dense hidden layers and the output layer.
It declines networks it cannot print. Shapes are tiny, so that each generated function compiles
in seconds."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.derive.spec import parse_spec
from chainrule.kernels.cpu import conv_epoch, epoch
from chainrule.kernels.registry import get_backend
from chainrule.train.network import build_network
from chainrule.train.optim import make_optimizer
from tests.kernels.test_epoch import (
    assert_float64_chunks_equal_steps,
    assert_same_losses,
    assert_same_state,
    pair,
    step_all,
)

MODELS = [
    # direct loops padded (C1-like) + fused average pool; im2col (6 x 3 x 3 = 54 columns of P)
    # with dL/dx; max pool; flatten; a dense hidden layer held transposed in the chunk
    # (blocks.epoch_transposes); softmax output
    ("cnn:1x8x8-conv3x3x6p1-avgpool2-conv3x3x6p1-maxpool2-dense64-dense3", "softmax_ce", "relu"),
    # direct loops with stride 2; direct loops padded with dL/dx; an overlapping average pool
    # (not fused); tanh with mse
    ("cnn:2x7x7-conv3x3x3s2-conv2x2x4p1-avgpool2s1-dense3", "mse", "tanh"),
]
# a conv whose window covers its input (LeNet-5's C5: a dense layer) under a fused pool, then two
# dense layers with dropout: test_dropout_masks_come_from_the_same_draws (one compile less)
WITH_DROPOUT = "cnn:1x8x8-conv3x3x2p1-avgpool2-conv4x4x5-dense6-dense5-dense3"


def data(net, n, *, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, *net.spec.input_shape)).astype(np.float32)
    classes = rng.integers(0, net.spec.n_outputs, n)
    t = (np.eye(net.spec.n_outputs, dtype=np.float32)[classes] if net.loss == "softmax_ce"
         else rng.random((n, net.spec.n_outputs)).astype(np.float32))
    return x, t, classes, rng.permutation(n)


def trainer(net, optimizer, x, t, labels):
    made = get_backend("cpu").chunk_trainer(net.chunk_request(x, t, labels, optimizer))
    assert made is not None
    return made


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize(("spec", "loss", "activation"), MODELS)
def test_conv_chunks_equal_steps_bit_for_bit(spec, loss, activation, optimizer):
    stepped, chunked = pair(spec, loss, activation, optimizer)
    x, t, labels, order = data(stepped[0], 53)  # 7 batches of 8, the last one of 5
    scales = np.random.default_rng(1).uniform(0.2, 1.0, 7)
    losses, correct, _ = step_all(*stepped, x, t, labels, order, 8, scales)
    run = trainer(*chunked, x, t, labels)
    first = run.train_chunk(order, 8, 0, 3, scales[:3])
    second = run.train_chunk(order, 8, 3, 7, scales[3:])
    assert_same_state(stepped, chunked)
    assert_same_losses(stepped[0], np.concatenate([first.batch_losses, second.batch_losses]),
                       losses)
    assert (first.steps, second.steps, first.seen, second.seen) == (3, 4, 24, 29)
    assert first.correct + second.correct == correct > 0
    assert_same_losses(stepped[0], [second.last_loss], losses[-1:])
    assert second.nonfinite == 0


def test_a_float64_conv_net_chunks_as_it_steps():
    """The printed buffers take the network's dtype (TrainOptions.dtype float64)."""
    assert_float64_chunks_equal_steps(*MODELS[1], "sgd", data)


def test_dropout_masks_come_from_the_same_draws():
    stepped, chunked = pair(WITH_DROPOUT, "softmax_ce", "sigmoid", "momentum", dropout=0.3)
    x, t, labels, order = data(stepped[0], 53)
    generators = [np.random.default_rng(9) for _ in range(2)]
    losses, correct, _ = step_all(*stepped, x, t, labels, order, 8, np.ones(7), generators[0])
    made = get_backend("cpu").chunk_trainer(
        chunked[0].chunk_request(x, t, labels, chunked[1], rng=generators[1]))
    assert made is not None
    results = [made.train_chunk(order, 8, a, b, np.ones(b - a)) for a, b in ((0, 2), (2, 7))]
    assert_same_state(stepped, chunked)
    assert np.concatenate([r.batch_losses for r in results]).tolist() == losses
    assert sum(r.correct for r in results) == correct
    assert generators[0].random() == generators[1].random()  # as many draws taken


def test_a_nan_loss_stops_the_conv_chunk_before_its_backward_pass():
    stepped, chunked = pair(MODELS[0][0], "softmax_ce", "relu", "adam")
    x, t, labels, order = data(stepped[0], 40)
    t[order[25]] = np.nan  # in batch 3 (0-based) of 8
    losses, _, _ = step_all(*stepped, x, t, labels, order, 8, np.ones(5))
    result = trainer(*chunked, x, t, labels).train_chunk(order, 8, 0, 5, np.ones(5))
    assert result.steps == len(losses) == 4 and np.isnan(result.last_loss)
    assert_same_losses(stepped[0], result.batch_losses[:3], losses[:3])
    chunked[1].t = stepped[1].t  # the chunk counted all its steps' hyperparameters
    assert_same_state(stepped, chunked)


def test_the_printed_step_calls_each_layers_kernels():
    net = build_network(parse_spec(MODELS[0][0]), seed=4)
    x, t, labels, _ = data(net, 8)
    optimizer = make_optimizer("sgd", net.params, lr=0.1)
    plan = conv_epoch.conv_plan(net.chunk_request(x, t, labels, optimizer))
    assert plan is not None and plan.prefixes == ("layer0", "layer2", "layer5", "layer6")
    source = conv_epoch.conv_epoch_source(plan, epoch)
    body = source[source.index("def train_chunk"):]
    calls = [name for name in ("pad_planes", "wide_forward", "avg_forward", "patch_forward",
                               "max_forward", "dense_forward", "output_layer", "bias_step",
                               "input_grad", "weight_step", "delta_bias_step", "max_backward",
                               "patch_input_grad", "patch_weight_grad", "from_window_order",
                               "apply", "avg_backward_delta", "wide_weight_grad")]
    assert [body.index(f"{name}(") for name in calls] == sorted(body.index(f"{name}(")
                                                                 for name in calls)
    assert "patch_input_grad" in body and "direct_input_grad(" not in body  # C1 needs no dL/dx


@pytest.mark.parametrize(("spec", "dropout"),
                         [("cnn:1x6x6-conv3x3x2-dense4-dense3", 0.5),  # dropout, no generator
                          ("mlp:36-4-3", 0.0)])  # dense: epoch.py's
def test_networks_it_does_not_print_are_declined(spec, dropout):
    net = build_network(parse_spec(spec), dropout=dropout)
    x = np.zeros((4, *net.spec.input_shape), np.float32)
    request = net.chunk_request(x, np.zeros((4, 3), np.float32), None,
                                make_optimizer("sgd", net.params, lr=0.1))
    assert conv_epoch.conv_plan(request) is None
