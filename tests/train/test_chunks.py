"""The loop in chunks (kernels/chunks.py): the optimiser's rows for K steps, chunks that cover each
epoch once with the schedule's factors, the NaN stop naming the batch, stop signals and
checkpoints between chunks, and on a real network the same weights and history, bit for bit, as
stepping batch by batch, however the epoch is cut, across a Ctrl-C and a resume."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field

import numpy as np
import pytest

from chainrule.errors import TrainingDiverged
from chainrule.kernels.chunks import ChunkResult
from chainrule.train import loop
from chainrule.train.checkpoint import load_checkpoint
from chainrule.train.loop import Batches, Interrupted, new_state, train
from chainrule.train.optim import make_optimizer
from chainrule.train.schedule import scheduled_factor
from chainrule.train.session import TrainOptions, resume, start


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_chunk_hypers_are_the_rows_of_as_many_updates(name):
    params = {"layer0.weight": np.zeros((2, 2), np.float32), "layer0.bias": np.zeros(2, np.float32)}
    stepped, chunked = (make_optimizer(name, params, lr=0.3, l2=0.01, l1=0.02) for _ in range(2))
    scales = np.random.default_rng(0).random(9)
    rows = []
    for scale in scales:
        stepped.lr_scale = float(scale)
        stepped.updates(params)
        rows.append([stepped._weights_h.copy(), stepped._biases_h.copy()])
    got = np.concatenate([chunked.chunk_hypers(scales[:4]), chunked.chunk_hypers(scales[4:])])
    np.testing.assert_array_equal(got, np.array(rows))
    assert got[:, 0, 0].tolist() == [0.3 * s for s in scales.tolist()]  # lr · factor
    assert (got[:, 1, 6:] == 0).all() and (got[:, 0, 6:] == [0.01, 0.02]).all()  # penalties
    assert stepped.state_meta() == chunked.state_meta()  # Adam: t == 9
    assert chunked.lr_scale == scales[-1]
    if name == "adam":
        assert got[:, 0, 4].tolist() == [1.0 - 0.9**t for t in range(1, 10)]


@dataclass
class FakeTrainer:
    """Records the chunks it is asked for; batch ``fail_at`` gives ``bad`` (a loss or a count)."""

    chunks: list = field(default_factory=list)
    fail_at: int | None = None
    bad: tuple[float, int] = (float("nan"), 0)

    def train_chunk(self, order, batch, first, last, lr_scales):
        self.chunks.append((first, last, lr_scales.tolist()))
        stop = last if self.fail_at is None else min(last, self.fail_at + 1)
        losses = np.array([0.25 + i for i in range(first, stop)])
        if stop - 1 == self.fail_at:
            losses[-1] = self.bad[0]
        return ChunkResult(stop - first, 0.0, 0, stop - first, float(losses[-1]),
                           self.bad[1] if stop - 1 == self.fail_at else 0, losses)


class FakeNetwork:
    """A ChunkNetwork whose trainer is a FakeTrainer; it must never step batch by batch."""

    device = "fake"

    def __init__(self, trainer):
        self.params = {"layer0.weight": np.zeros((1, 1))}
        self.trainer = trainer

    def forward(self, x):
        return np.zeros((x.shape[0], 1))

    def train_step(self, x, y, optimizer, *, rng=None):
        raise AssertionError("a chunked run stepped batch by batch")

    def chunk_request(self, x, t, labels, optimizer, *, rng=None):
        return self.trainer


class FakeBackend:
    @staticmethod
    def chunk_trainer(request):
        return request  # the FakeNetwork's trainer


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(loop, "get_backend", lambda device: FakeBackend())
    monkeypatch.setattr(loop, "CHUNK_MIN_BATCHES", 1)
    monkeypatch.setattr(loop._Pace, "update", lambda self, steps, seconds: setattr(self, "size", 2))

    def make(**failure):
        return FakeNetwork(FakeTrainer(**failure))
    return make


def batches(n=10):
    x = np.arange(n, dtype=np.float64).reshape(n, 1)
    labels = np.arange(n) % 2
    return Batches(x, labels.reshape(-1, 1).astype(float), labels, x, labels.reshape(-1, 1), labels)


class Progress:
    def __init__(self):
        self.seen = []

    def on_epoch_start(self, epoch, n_batches, done):
        pass

    def on_batch_end(self, epoch, batch, loss, acc, samples_per_s):
        self.seen.append((epoch, batch, loss, acc))

    def on_epoch_end(self, stats):
        pass


def test_chunks_cover_each_epoch_once_with_the_schedules_factors(fake):
    net, progress = fake(), Progress()
    state = train(net, batches(10), make_optimizer("sgd", net.params, lr=0.1), epochs=2, batch=3,
                  state=new_state(0), callbacks=progress, schedule="cosine")
    # 4 batches per epoch: a first chunk of one batch, then the pace's two
    assert [(a, b) for a, b, _ in net.trainer.chunks] == [(0, 1), (1, 3), (3, 4), (0, 2), (2, 4)]
    factors = [s for _, _, scales in net.trainer.chunks for s in scales]
    assert factors == [scheduled_factor("cosine", i, steps_per_epoch=4, epochs=2) for i in range(8)]
    assert [b for e, b, _, _ in progress.seen] == [1, 3, 4, 2, 4]
    # losses 0.25 + i per batch i, weighted by its size (3, 3, 3, 1), added one by one
    assert state.history[0].loss == (0.25 * 3 + 1.25 * 3 + 2.25 * 3 + 3.25) / 10
    assert state.history[0].train_acc == 4 / 10  # the trainer's correct counts: 1 per batch


@pytest.mark.parametrize(("bad", "message"), [
    ((float("nan"), 0), "the loss became nan at epoch 1, batch 3"),
    ((0.5, 7), "7 parameter values became inf or NaN at epoch 1, batch 3")])
def test_a_failed_batch_in_a_chunk_stops_the_run_naming_it(fake, bad, message):
    net, saved = fake(fail_at=2, bad=bad), []
    with pytest.raises(TrainingDiverged, match=message):
        train(net, batches(10), make_optimizer("sgd", net.params, lr=0.1), epochs=2, batch=3,
              state=new_state(0), save=lambda s: saved.append(s.position))
    assert saved == [] and net.trainer.chunks[-1][:2] == (1, 3)


class SignalOnce(Progress):
    def on_batch_end(self, epoch, batch, loss, acc, samples_per_s):
        super().on_batch_end(epoch, batch, loss, acc, samples_per_s)
        if (epoch, batch) == (1, 3):  # after the second chunk
            os.kill(os.getpid(), signal.SIGTERM)


def test_a_stop_signal_checkpoints_after_the_chunk_in_progress(fake):
    net, saved = fake(), []
    with pytest.raises(Interrupted) as info:
        train(net, batches(10), make_optimizer("sgd", net.params, lr=0.1), epochs=3, batch=3,
              state=new_state(0), callbacks=SignalOnce(),
              save=lambda s: saved.append((s.epoch, s.position)))
    assert info.value.signum == signal.SIGTERM and saved == [(0, 3)]


def test_short_epochs_step_batch_by_batch(monkeypatch):
    monkeypatch.setattr(loop, "CHUNK_MIN_BATCHES", 5)  # 4 batches per epoch: below it
    monkeypatch.setattr(loop, "get_backend", lambda device: pytest.fail("asked for a trainer"))
    net = FakeNetwork(FakeTrainer())
    with pytest.raises(AssertionError, match="stepped batch by batch"):
        train(net, batches(10), make_optimizer("sgd", net.params, lr=0.1), epochs=1, batch=3,
              state=new_state(0))


OPTIONS = TrainOptions(epochs=3, batch=8, lr=0.05, l2=0.001, seed=2)  # blobs: 30 batches


def run(monkeypatch, *, chunked, sizes=(1, 7, 3, 30), **changes):
    """A real run on blobs, chunked with the chunk sizes cycling through ``sizes``, or stepped."""
    monkeypatch.setattr(loop, "CHUNK_MIN_BATCHES", 1 if chunked else 10**9)
    cycle, chunks = iter(sizes * 100), []

    def update(pace, steps, seconds):
        chunks.append(steps)
        pace.size = next(cycle)

    monkeypatch.setattr(loop._Pace, "update", update)
    session = start("mlp:2-8-3", "blobs", TrainOptions(**{**OPTIONS.__dict__, **changes}))
    session.run()
    assert sum(chunks) == (90 if chunked else 0)  # 3 epochs of 30 batches, in chunks
    return session


@pytest.mark.parametrize(("optimizer", "dropout"), [("sgd", 0.0), ("momentum", 0.0),
                                                    ("adam", 0.0), ("sgd", 0.2)])
def test_a_chunked_run_equals_a_stepped_one_bit_for_bit(monkeypatch, optimizer, dropout):
    stepped = run(monkeypatch, chunked=False, optimizer=optimizer, dropout=dropout)
    chunked = run(monkeypatch, chunked=True, optimizer=optimizer, dropout=dropout)
    for key in stepped.network.params:
        np.testing.assert_array_equal(stepped.network.params[key], chunked.network.params[key])
    strip = [{**h.as_dict(), "seconds": 0, "samples_per_s": 0} for h in stepped.state.history]
    assert strip == [{**h.as_dict(), "seconds": 0, "samples_per_s": 0}
                     for h in chunked.state.history]


class InterruptMidEpoch(Progress):
    def on_batch_end(self, epoch, batch, loss, acc, samples_per_s):
        if epoch == 2 and 0 < batch < 30 and not self.seen:
            self.seen.append(batch)
            os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_in_a_chunked_epoch_then_resume_equals_an_uninterrupted_run(monkeypatch, tmp_path):
    straight = run(monkeypatch, chunked=False, optimizer="adam")
    monkeypatch.setattr(loop, "CHUNK_MIN_BATCHES", 1)
    out = tmp_path / "ck.npz"
    interrupted = start("mlp:2-8-3", "blobs", TrainOptions(**{**OPTIONS.__dict__,
                                                              "optimizer": "adam"}), out=out)
    with pytest.raises(KeyboardInterrupt):
        interrupted.run(callbacks=InterruptMidEpoch())
    meta = load_checkpoint(out).meta
    assert meta["epoch"] == 1 and 0 < meta["position"] < 30
    resumed = resume(out, "mlp:2-8-3", "blobs", epochs=3)
    resumed.run()
    for key in straight.network.params:
        np.testing.assert_array_equal(straight.network.params[key], resumed.network.params[key])
    assert [h.loss for h in resumed.state.history] == [h.loss for h in straight.state.history]
