"""The training loop: every sample once per epoch in seeded shuffled batches, determinism, the
NaN stop naming epoch and batch, and deferred stop signals (Ctrl-C, SIGTERM, SIGHUP) that
checkpoint between batches, and after a save that they arrived during."""

import os
import signal

import numpy as np
import pytest
from conftest import InterruptAt

from chainrule.errors import TrainingDiverged
from chainrule.train import loop
from chainrule.train.loop import Batches, Interrupted, new_state, train
from chainrule.train.optim import make_optimizer
from chainrule.train.session import TrainOptions, start


class Recorder:
    """A stand-in network with one parameter; records the rows of each batch it sees."""

    def __init__(self, losses=None, nonfinite=None):
        self.params = {"layer0.weight": np.zeros((1, 1))}
        self.batches, self.losses = [], list(losses or [])
        self.nonfinite = list(nonfinite or [])

    def forward(self, x):
        return np.zeros((x.shape[0], 1))

    def train_step(self, x, y, optimizer, *, rng=None):
        self.batches.append(x[:, 0].astype(int).tolist())
        loss = self.losses.pop(0) if self.losses else 0.5
        bad = self.nonfinite.pop(0) if self.nonfinite else 0
        return loss, np.zeros((x.shape[0], 1)), bad


def batches(n=10):
    x = np.arange(n, dtype=np.float64).reshape(n, 1)
    labels = np.arange(n) % 2
    return Batches(x, labels.reshape(-1, 1).astype(float), labels, x, labels.reshape(-1, 1), labels)


def test_each_epoch_shuffles_and_covers_every_sample():
    net = Recorder()
    state = train(net, batches(10), make_optimizer("sgd", net.params, lr=0.1), epochs=3, batch=4,
                  state=new_state(7))
    assert [len(b) for b in net.batches] == [4, 4, 2] * 3
    epochs = [[row for b in net.batches[i:i + 3] for row in b] for i in range(0, 9, 3)]
    assert all(sorted(e) == list(range(10)) for e in epochs)
    assert epochs[0] != epochs[1] != epochs[2]
    assert epochs[0] == np.random.default_rng(7).permutation(10).tolist()
    assert [s.epoch for s in state.history] == [1, 2, 3]
    assert state.history[0].train_acc == 0.5 and state.history[0].test_acc == 0.5


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_nan_stops_naming_epoch_and_batch(bad):
    net = Recorder(losses=[0.5] * 5 + [bad])
    saved = []
    with pytest.raises(TrainingDiverged, match=r"became (nan|inf) at epoch 2, batch 3"):
        train(net, batches(10), make_optimizer("sgd", net.params, lr=0.1), epochs=5, batch=4,
              state=new_state(0), save=lambda s: saved.append(s.epoch))
    assert saved == [1]  # the good epoch-1 checkpoint is the last one written


def test_parameters_that_become_inf_stop_the_run():
    net = Recorder(nonfinite=[0] * 3 + [7])
    saved = []
    with pytest.raises(TrainingDiverged, match=r"7 parameter values became inf or NaN at epoch 2, "
                                               r"batch 1"):
        train(net, batches(10), make_optimizer("sgd", net.params, lr=0.1), epochs=5, batch=4,
              state=new_state(0), save=lambda s: saved.append(s.epoch))
    assert saved == [1]


def test_ctrl_c_checkpoints_between_batches():
    before = signal.getsignal(signal.SIGINT)
    net = Recorder()
    saved = []
    with pytest.raises(KeyboardInterrupt):
        train(net, batches(10), make_optimizer("sgd", net.params, lr=0.1), epochs=5, batch=4,
              state=new_state(0), callbacks=InterruptAt(2, 2),
              save=lambda s: saved.append((s.epoch, s.position)))
    assert saved == [(1, 0), (1, 2)]  # after epoch 1, then mid-epoch 2 after its 2nd batch
    assert signal.getsignal(signal.SIGINT) is before  # the handler is put back


class SignalAt(InterruptAt):
    """Send ``signum`` to this process after a given epoch and batch."""

    def __init__(self, epoch, batch, signum):
        super().__init__(epoch, batch)
        self.signum = signum

    def on_batch_end(self, epoch, batch, loss, acc, samples_per_s):
        if (epoch, batch) == self.at:
            os.kill(os.getpid(), self.signum)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_stop_signals_checkpoint_between_batches(signum):
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    net = Recorder()
    saved = []
    with pytest.raises(Interrupted) as info:
        train(net, batches(10), make_optimizer("sgd", net.params, lr=0.1), epochs=5, batch=4,
              state=new_state(0), callbacks=SignalAt(2, 2, signum),
              save=lambda s: saved.append((s.epoch, s.position)))
    assert info.value.signum == signum and isinstance(info.value, KeyboardInterrupt)
    assert saved == [(1, 0), (1, 2)]
    assert {s: signal.getsignal(s) for s in before} == before


@pytest.mark.parametrize("epoch", [2, 3])  # during a save in the middle, and during the last one
def test_a_signal_during_a_save_stops_once_the_save_is_complete(epoch):
    net = Recorder()
    saved = []

    def save(state):
        if state.epoch == epoch:
            os.kill(os.getpid(), signal.SIGINT)
        saved.append(state.epoch)

    with pytest.raises(Interrupted):
        train(net, batches(10), make_optimizer("sgd", net.params, lr=0.1), epochs=3, batch=4,
              state=new_state(0), save=save)
    assert saved == list(range(1, epoch + 1))


def test_an_ignored_sighup_stays_ignored():
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under nohup
    try:
        net = Recorder()
        state = train(net, batches(10), make_optimizer("sgd", net.params, lr=0.1), epochs=2,
                      batch=4, state=new_state(0), callbacks=SignalAt(1, 1, signal.SIGHUP))
        assert state.epoch == 2 and signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, before)


OPTIONS = TrainOptions(epochs=3, batch=16, lr=0.05, activation="tanh", seed=5)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_same_seed_same_weights_bitwise(optimizer):
    options = TrainOptions(**{**OPTIONS.__dict__, "optimizer": optimizer, "dropout": 0.2})
    runs = [start("mlp:2-6-3", "blobs", options) for _ in range(2)]
    for run in runs:
        run.run()
    for key in runs[0].network.params:
        np.testing.assert_array_equal(runs[0].network.params[key], runs[1].network.params[key])


def test_other_seed_other_weights():
    a, b = start("mlp:2-6-3", "blobs", OPTIONS), start("mlp:2-6-3", "blobs",
                                                       TrainOptions(**{**OPTIONS.__dict__, "seed": 6}))
    a.run(), b.run()
    assert not np.array_equal(a.network.params["layer0.weight"], b.network.params["layer0.weight"])


def test_training_lowers_the_loss_and_learns_blobs():
    session = start("mlp:2-8-3", "blobs", TrainOptions(epochs=20, batch=16, lr=0.1, seed=0))
    history = session.run()
    assert history.history[-1].loss < 0.5 * history.history[0].loss
    assert history.history[-1].test_acc >= 0.95


def test_divergence_on_a_real_network():
    session = start("linear:1", "line", TrainOptions(epochs=200, batch=6, lr=10.0))
    with pytest.raises(TrainingDiverged, match=r"at epoch \d+, (batch 1|after its last batch)"):
        session.run()


def test_an_infinite_test_loss_stops_the_run_before_the_epoch_is_recorded():
    """mse's test loss overflows in float32 one epoch before the training loss does: the run
    stops there instead of writing inf into the history (a checkpoint holds JSON)."""
    session = start("linear:1", "line", TrainOptions(epochs=200, batch=6, lr=10.0))
    with pytest.raises(TrainingDiverged, match="test loss became inf") as stopped:
        session.run()
    epoch = int(str(stopped.value).split("at epoch ")[1].split(",")[0])
    assert [s.epoch for s in session.state.history] == list(range(1, epoch))


class OnePass(Recorder):
    """A stand-in whose test pass must be one forward pass: ``forward`` is not called."""

    def __init__(self):
        super().__init__()
        self.passes = 0

    def forward(self, x):
        raise AssertionError("the epoch's test pass ran a second forward pass")

    def loss_and_predictions(self, x, y):
        self.passes += 1
        return 0.25, np.zeros((x.shape[0], 1))


def test_the_epoch_test_pass_is_one_forward_pass_giving_accuracy_and_loss():
    net = OnePass()
    state = train(net, batches(10), make_optimizer("sgd", net.params, lr=0.1), epochs=2, batch=4,
                  state=new_state(0))
    assert net.passes == 2  # one chunk of the 10-sample test split per epoch
    assert [s.test_loss for s in state.history] == [0.25, 0.25]
    assert [s.test_acc for s in state.history] == [0.5, 0.5]  # zeros vs labels 0,1,0,1…


def test_predict_and_loss_matches_predict_and_the_unchunked_loss_on_a_real_network(monkeypatch):
    monkeypatch.setattr(loop, "EVAL_CHUNK", 7)  # several chunks, the last one short
    session = start("mlp:2-4-3", "blobs", TrainOptions(epochs=1, batch=16, lr=0.1, seed=0))
    x, t = session.batches.x_test[:20], session.batches.t_test[:20]
    outputs, loss = loop.predict_and_loss(session.network, x, t)
    np.testing.assert_allclose(outputs, loop.predict(session.network, x), rtol=1e-6, atol=1e-7)
    assert loss == pytest.approx(session.network.loss_value(x, t), rel=1e-6)  # unchunked


class NoLoss:
    """A network without a differentiable loss (as the perceptron): predictions only."""

    def forward(self, x):
        return np.ones((x.shape[0], 1))


def test_predict_and_loss_gives_no_loss_for_a_network_without_one():
    outputs, loss = loop.predict_and_loss(NoLoss(), np.zeros((3, 2)), np.zeros((3, 1)))
    assert loss is None and outputs.tolist() == [[1.0]] * 3
    assert isinstance(OnePass(), loop.LossNetwork) and not isinstance(NoLoss(), loop.LossNetwork)
