"""The CPU's compiled epoch (kernels/cpu/epoch.py): a chunk of batches gives, bit for bit, the
parameters, optimiser state, batch losses and correct counts of ``Network.train_step`` called
batch by batch; it stops where the step loop would stop; it declines networks it cannot run.

Models share the shapes of the loop's tests (2 inputs, 3 outputs) so that the generated functions
compile once for both files."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from chainrule.derive.spec import parse_spec
from chainrule.kernels.blocks import epoch_transposes
from chainrule.kernels.cpu import epoch
from chainrule.kernels.registry import get_backend
from chainrule.train.metrics import correct_count
from chainrule.train.network import Network, build_network
from chainrule.train.optim import Optimizer, make_optimizer

# the second holds its 64-wide layer transposed in the chunk (blocks.epoch_transposes)
MODELS = [("mlp:2-8-3", "softmax_ce", "relu"), ("mlp:2-6-64-3", "mse", "tanh")]


def pair(spec, loss, activation, optimizer, *, lr=0.05, dropout=0.0):
    """Two identical networks with their optimisers: one to step, one to chunk."""
    def one() -> tuple[Network, Optimizer]:
        net = build_network(parse_spec(spec), loss=loss, activation=activation, seed=4,
                            dropout=dropout)
        return net, make_optimizer(optimizer, net.params, lr=lr, l2=0.01, l1=0.002)
    return one(), one()


def data(net, n, *, labels=True, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, net.spec.n_inputs)).astype(np.float32)
    classes = rng.integers(0, net.spec.n_outputs, n)
    t = (np.eye(net.spec.n_outputs, dtype=np.float32)[classes] if net.loss == "softmax_ce"
         else rng.random((n, net.spec.n_outputs)).astype(np.float32))
    return x, t, classes if labels else None, rng.permutation(n)


def step_all(net, optimizer, x, t, labels, order, batch, scales, rng=None):
    """The per-step reference: (batch losses, correct, nonfinite of the last step)."""
    losses, correct, bad = [], 0, 0
    for i, scale in enumerate(scales):
        index = order[i * batch:(i + 1) * batch]
        optimizer.lr_scale = float(scale)
        loss, predictions, bad = net.train_step(x[index], t[index], optimizer, rng=rng)
        losses.append(loss)
        if not np.isfinite(loss) or bad:
            break
        correct += correct_count(predictions, None if labels is None else labels[index])
    return losses, correct, bad


def trainer(net, optimizer, x, t, labels, rng=None):
    made = get_backend("cpu").chunk_trainer(net.chunk_request(x, t, labels, optimizer, rng=rng))
    assert made is not None
    return made


def holds_transposed(net) -> bool:
    """Whether the chunk holds a layer's weights transposed (blocks.epoch_transposes: float32,
    64 outputs or more). BLAS may round those products differently from the steps' (its kernels
    for the two layouts differ for some shapes), so such a chunk equals the steps to rounding
    only (issue 13: "a change that alters the summation order is fine")."""
    return any(epoch_transposes(array.shape[0], array.dtype.name)
               for key, array in net.params.items() if key.endswith(".weight") and array.ndim == 2)


def assert_same(got, want, exact: bool, key: str = "") -> None:
    if exact:
        np.testing.assert_array_equal(got, want, err_msg=key)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7, err_msg=key)


def assert_same_state(a, b):
    """Bit for bit, or to rounding where the chunk holds weights transposed (holds_transposed)."""
    (net_a, opt_a), (net_b, opt_b) = a, b
    exact = not holds_transposed(net_a)
    for key in net_a.params:
        assert_same(net_a.params[key], net_b.params[key], exact, key)
    for key, array in opt_a.state_arrays().items():
        assert_same(array, opt_b.state_arrays()[key], exact, key)
    assert opt_a.state_meta() == opt_b.state_meta()  # Adam's t


def assert_same_losses(net, got, want) -> None:
    """The chunk's batch losses against the steps', as assert_same_state compares."""
    assert_same(np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64),
                not holds_transposed(net))


def assert_float64_chunks_equal_steps(spec, loss, activation, optimizer, data_of):
    """A float64 network (--dtype float64): three chunked batches give the stepped state."""
    def one() -> tuple[Network, Optimizer]:
        net = build_network(parse_spec(spec), loss=loss, activation=activation, seed=4,
                            dtype=np.float64)
        return net, make_optimizer(optimizer, net.params, lr=0.05)
    stepped, chunked = one(), one()
    x, t, labels, order = data_of(stepped[0], 20)
    x, t = x.astype(np.float64), t.astype(np.float64)
    losses, correct, _ = step_all(*stepped, x, t, labels, order, 8, np.ones(3))
    result = trainer(*chunked, x, t, labels).train_chunk(order, 8, 0, 3, np.ones(3))
    assert_same_state(stepped, chunked)
    assert chunked[0].params["layer0.weight"].dtype == np.float64
    assert result.batch_losses.tolist() == losses and result.correct == correct


def test_a_float64_network_chunks_as_it_steps():
    """The printed buffers and the shared steps take the network's dtype."""
    assert_float64_chunks_equal_steps(*MODELS[1], "momentum", data)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize(("spec", "loss", "activation"), MODELS)
def test_chunks_equal_steps_bit_for_bit(spec, loss, activation, optimizer):
    stepped, chunked = pair(spec, loss, activation, optimizer)
    # 7 batches of 8, the last one of 5
    x, t, labels, order = data(stepped[0], 53, labels=loss == "softmax_ce")
    scales = np.random.default_rng(1).uniform(0.2, 1.0, 7)  # a schedule's factors
    losses, correct, _ = step_all(*stepped, x, t, labels, order, 8, scales)
    run = trainer(*chunked, x, t, labels)
    first = run.train_chunk(order, 8, 0, 3, scales[:3])
    second = run.train_chunk(order, 8, 3, 7, scales[3:])
    assert_same_state(stepped, chunked)
    got = np.concatenate([first.batch_losses, second.batch_losses])
    assert_same_losses(stepped[0], got, losses)  # the same float64 values
    assert (first.steps, second.steps, first.seen, second.seen) == (3, 4, 24, 29)
    assert first.correct + second.correct == correct and (correct > 0) == (labels is not None)
    assert_same_losses(stepped[0], [second.loss_sum, second.last_loss],
                       [sum(loss * size for loss, size in zip(losses[3:], [8, 8, 8, 5])), losses[-1]])
    assert second.nonfinite == 0


@pytest.mark.parametrize(("optimizer", "max_draws"), [("sgd", 1 << 20), ("adam", 8 * 70 * 2)])
def test_dropout_masks_come_from_the_same_draws(monkeypatch, optimizer, max_draws):
    monkeypatch.setattr(epoch, "MAX_DRAWS", max_draws)  # pieces of 2 steps: 70 draws a sample
    stepped, chunked = pair("mlp:2-6-64-3", "mse", "tanh", optimizer, dropout=0.3)
    x, t, labels, order = data(stepped[0], 53)
    generators = [np.random.default_rng(9) for _ in range(2)]
    losses, correct, _ = step_all(*stepped, x, t, labels, order, 8, np.ones(7), generators[0])
    run = trainer(*chunked, x, t, labels, generators[1])
    results = [run.train_chunk(order, 8, a, b, np.ones(b - a)) for a, b in ((0, 2), (2, 7))]
    assert_same_state(stepped, chunked)
    assert_same_losses(stepped[0], np.concatenate([r.batch_losses for r in results]), losses)
    assert sum(r.correct for r in results) == correct
    assert generators[0].random() == generators[1].random()  # as many draws taken


def test_a_nan_loss_stops_the_chunk_before_its_backward_pass():
    stepped, chunked = pair(*MODELS[0], "adam")
    x, t, labels, order = data(stepped[0], 40)
    t[order[25]] = np.nan  # in batch 3 (0-based) of 8
    scales = np.ones(5)
    losses, _, _ = step_all(*stepped, x, t, labels, order, 8, scales)
    result = trainer(*chunked, x, t, labels).train_chunk(order, 8, 0, 5, scales)
    assert result.steps == len(losses) == 4 and np.isnan(result.last_loss)
    assert result.batch_losses[:3].tolist() == losses[:3]
    chunked[1].t = stepped[1].t  # the chunk counted all its steps' hyperparameters
    assert_same_state(stepped, chunked)


def test_an_update_that_overflows_stops_the_chunk_with_its_count():
    stepped, chunked = pair(*MODELS[0], "sgd", lr=1e300)
    x, t, labels, order = data(stepped[0], 40)
    _, _, bad = step_all(*stepped, x, t, labels, order, 8, np.ones(5))
    result = trainer(*chunked, x, t, labels).train_chunk(order, 8, 0, 5, np.ones(5))
    assert result.steps == 1 and result.nonfinite == bad > 0
    for key in stepped[0].params:
        np.testing.assert_array_equal(stepped[0].params[key], chunked[0].params[key])


@pytest.mark.parametrize(("dtype", "held"), [(np.float32, ["layer1"]), (np.float64, [])])
def test_float32_layers_of_64_outputs_or_more_are_held_transposed(dtype, held):
    """The wide layer of MODELS[1] (6 -> 64) is copied transposed before the loop and back after
    it, and its products read the copy; the narrow ones, and every float64 layer, are not."""
    net = build_network(parse_spec(MODELS[1][0]), loss="mse", seed=4, dtype=dtype)
    x = np.zeros((4, 2), dtype)
    request = net.chunk_request(x, np.zeros((4, 3), dtype), None,
                                make_optimizer("adam", net.params, lr=0.1))
    plan = epoch.dense_plan(request)
    assert plan is not None
    source = epoch.epoch_source(plan)
    assert [f"layer{w.index}" for w in plan.weights if w.transposed] == held
    for weights in plan.weights:
        i = weights.index
        calls = [f"dense_forward_t(a0, wt{i}, z{i}", f"weight_step_t(e{i}, a0, wt{i}",
                 f"restore(weights[{i}], wt{i}, 64, 6)", f"restore(w_second[{i}], ws{i}, 64, 6)"]
        assert all((call in source) == weights.transposed for call in calls), source


def test_networks_it_cannot_run_step_one_by_one():
    # dropout without the run's generator; a conv net with dropout (conv_epoch.py declines it)
    for spec, dropout in (("mlp:2-8-3", 0.5), ("cnn:1x6x6-conv3x3x2-dense4-dense3", 0.5)):
        net = build_network(parse_spec(spec), dropout=dropout)
        x = np.zeros((4, *net.spec.input_shape), np.float32)
        request = net.chunk_request(x, np.zeros((4, 3), np.float32), None,
                                    make_optimizer("sgd", net.params, lr=0.1))
        assert get_backend("cpu").chunk_trainer(request) is None


FRESH = """
import numpy as np
from chainrule.derive.spec import parse_spec
from chainrule.kernels.registry import get_backend
from chainrule.train.network import build_network
from chainrule.train.optim import make_optimizer
net = build_network(parse_spec("mlp:2-8-3"), seed=4)
x, t = np.ones((10, 2), np.float32), np.eye(3, dtype=np.float32)[np.arange(10) % 3]
request = net.chunk_request(x, t, None, make_optimizer("sgd", net.params, lr=0.1))
result = get_backend("cpu").chunk_trainer(request).train_chunk(np.arange(10), 4, 0, 3, np.ones(3))
print(result.steps)
"""


def test_a_fresh_process_runs_the_cached_loop_before_any_parallel_kernel():
    """Code loaded from Numba's cache links against the thread pool's symbols: the pool must be
    started first ("LLVM ERROR: Symbol not found: allocate_sched" or a segfault otherwise, with
    any thread count)."""
    for _ in range(2):  # the first may compile; the second loads from the cache
        done = subprocess.run([sys.executable, "-c", FRESH], capture_output=True, text=True,
                              timeout=300, check=False)
        assert (done.returncode, done.stdout.strip()) == (0, "3"), done.stderr[-2000:]
