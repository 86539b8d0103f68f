"""The training loop: seeded shuffled mini-batches, one optimiser step per batch, metrics per epoch.

Mini-batch stochastic gradient descent as in Nielsen, *NNDL*, ch. 1 ("update_mini_batch") and
Goodfellow et al., *Deep Learning*, §8.1.3. One ``numpy.random.Generator`` drives both the
shuffling and the dropout masks; its state is part of :class:`TrainState`, and so are the current
epoch's order and position, so a run resumed from a checkpoint (even one written mid-epoch on
Ctrl-C) ends with the same weights, bit for bit, as a run never interrupted. The loop does no
calculus: each step is the network's fused backward pass, which updates the parameters
as their gradients are reduced.

Where the network's backend offers a chunk trainer (:mod:`chainrule.kernels.chunks`: the CPU's
generated epoch function for dense networks and for conv nets), the epoch runs
as chunks of consecutive batches, each one compiled loop without Python between its steps, sized
to take about :data:`CHUNK_SECONDS`; progress, the NaN stop, stop signals and checkpoints come
between the chunks, and the results equal those of stepping batch by batch, bit for bit (to
float32 rounding where a chunk holds a wide layer's weights transposed: kernels/chunks.py); they
never depend on where the chunks end.

SIGINT (Ctrl-C), SIGTERM and SIGHUP are deferred to the end of the step (or chunk) in progress:
the loop saves, then raises :class:`Interrupted` (a ``KeyboardInterrupt`` carrying the signal
number; the CLI exits 128 + signal: 130, 143, 129). A signal that arrives during a save (the last
one included) takes effect as soon as that save is complete.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from chainrule.errors import ChainruleError, TrainingDiverged
from chainrule.kernels.chunks import ChunkRequest, ChunkResult, ChunkTrainer
from chainrule.kernels.registry import get_backend
from chainrule.train.metrics import accuracy, correct_count
from chainrule.train.schedule import scheduled_factor

if TYPE_CHECKING:
    from chainrule.train.optim import Optimizer

# test samples per forward pass: it bounds the test pass's memory (the two-conv net's first conv
# keeps 100 kB a sample; its `make bench` worker peaked at 1370 MB with chunks of 1000, at
# 611 MB with 128: bench/RESULTS.md)
EVAL_CHUNK = 128
CHUNK_SECONDS = 0.15  # a chunk of compiled steps takes about this long: progress, signals between
MAX_CHUNK = 4096  # batches per chunk at most
# epochs of fewer batches step one by one: a chunk cannot span epochs, and the compiled loop
# (compiled once per model, seconds; loaded from the cache after that) would not pay for itself
CHUNK_MIN_BATCHES = 100
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # deferred, then checkpoint + exit


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal after its checkpoint was written; ``signum`` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass(frozen=True)
class Batches:
    """Inputs fitted to the model, targets encoded for its loss, and labels for accuracy."""

    x_train: np.ndarray  # (n, *input_shape)
    t_train: np.ndarray  # (n, n_out)
    labels_train: np.ndarray | None  # (n,) or None for regression
    x_test: np.ndarray
    t_test: np.ndarray
    labels_test: np.ndarray | None


@dataclass(frozen=True)
class EpochStats:
    """One finished epoch. ``train_acc`` is measured on the batches as they were trained (as Keras
    reports it); ``test_acc`` and ``test_loss`` after the epoch, on the whole test split (the
    loss forward-only, without dropout: :func:`predict_and_loss`); ``samples_per_s`` counts training
    only, ``seconds`` includes the test pass. ``test_loss`` is None for a network without a
    differentiable loss (the perceptron) or an empty test split, and in checkpoints written before
    it was recorded."""

    epoch: int  # 1-based
    loss: float  # mean training loss over the epoch's batches (no penalty)
    train_acc: float | None
    test_acc: float | None
    seconds: float
    samples_per_s: float
    test_loss: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainState:
    """Where a run is: completed epochs, the position inside the current one, the RNG, history."""

    rng: np.random.Generator
    epoch: int = 0  # completed epochs
    position: int = 0  # batches done in the current epoch
    order: np.ndarray | None = None  # (n,) the current epoch's sample order
    loss_sum: float = 0.0  # Σ batch loss · batch size, this epoch so far
    correct: int = 0
    seen: int = 0
    seconds: float = 0.0
    history: list[EpochStats] = field(default_factory=list)


class Callbacks(Protocol):
    def on_epoch_start(self, epoch: int, n_batches: int, done: int) -> None: ...
    def on_batch_end(self, epoch: int, batch: int, loss: float, acc: float | None,
                     samples_per_s: float) -> None: ...
    def on_epoch_end(self, stats: EpochStats) -> None: ...


class Network(Protocol):
    params: dict[str, np.ndarray]

    def forward(self, x: np.ndarray) -> np.ndarray: ...
    def train_step(self, x: np.ndarray, y: np.ndarray, optimizer: Optimizer, *,
                   rng: np.random.Generator | None = None) -> tuple[float, np.ndarray, int]: ...


@runtime_checkable
class ChunkNetwork(Protocol):
    """A network whose backend may run many steps per call (kernels/chunks.py)."""

    device: str

    def chunk_request(self, x: np.ndarray, t: np.ndarray, labels: np.ndarray | None,
                      optimizer: Optimizer, *, rng: np.random.Generator | None = None
                      ) -> ChunkRequest: ...


@runtime_checkable
class LossNetwork(Protocol):
    """A network with a differentiable loss: its value and the predictions from one pass."""

    def forward(self, x: np.ndarray) -> np.ndarray: ...
    def loss_and_predictions(self, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]: ...


class Predictor(Protocol):
    def forward(self, x: np.ndarray) -> np.ndarray: ...


def new_state(seed: int) -> TrainState:
    return TrainState(rng=np.random.default_rng(seed))


def train(network: Network, data: Batches, optimizer: Optimizer, *, epochs: int, batch: int,
          state: TrainState, callbacks: Callbacks | None = None,
          save: Callable[[TrainState], object] | None = None,
          schedule: str = "constant", schedule_epochs: int | None = None,
          restarts: Sequence[int] = ()) -> TrainState:
    """Train until ``state.epoch == epochs``; ``save`` runs after each epoch and on a stop signal.

    ``schedule`` scales the optimiser's learning rate per step (see :mod:`.schedule`) over
    ``schedule_epochs`` epochs (default ``epochs``): the run's planned length, so that a run stopped
    early and resumed follows the same schedule as one that never stopped. ``restarts`` are the
    epochs where a new cosine cycle begins (what a resume past the planned length adds)."""
    if batch < 1 or epochs < 0:
        raise ChainruleError(f"--batch must be ≥ 1 and --epochs ≥ 0, got {batch} and {epochs}")
    n_batches = math.ceil(data.x_train.shape[0] / batch)
    planned = epochs if schedule_epochs is None else schedule_epochs

    def factor(step: int) -> float:
        return scheduled_factor(schedule, step, steps_per_epoch=n_batches, epochs=planned,
                                restarts=restarts)

    chunked = state.epoch < epochs and n_batches >= CHUNK_MIN_BATCHES
    run = _Run(network, data, optimizer, batch, callbacks, save, factor,
               chunk_trainer(network, data, optimizer, state.rng) if chunked else None)
    with _deferred_interrupt() as interrupted:
        while state.epoch < epochs:
            _run_epoch(run, state, interrupted)
            if save is not None:
                save(state)
            _stop_if_signalled(interrupted)
    return state


def chunk_trainer(network: Network, data: Batches, optimizer: Optimizer,
                  rng: np.random.Generator) -> ChunkTrainer | None:
    """The backend's trainer of many steps per call for this run, or None (step by step): for a
    network that can describe itself to one (:class:`ChunkNetwork`) on a backend that has one.
    ``rng`` is the run's generator, which the steps' dropout masks come from."""
    if not isinstance(network, ChunkNetwork):
        return None
    request = network.chunk_request(data.x_train, data.t_train, data.labels_train, optimizer,
                                    rng=rng)
    return get_backend(network.device).chunk_trainer(request)


@dataclass(frozen=True)
class _Run:
    """What every epoch of one call of :func:`train` shares."""

    network: Network
    data: Batches
    optimizer: Optimizer
    batch: int
    callbacks: Callbacks | None
    save: Callable[[TrainState], object] | None
    factor: Callable[[int], float]  # the schedule's learning-rate factor at a step of the run
    trainer: ChunkTrainer | None  # None: one train_step per batch
    pace: _Pace = field(default_factory=lambda: _Pace())


def _stop_if_signalled(interrupted: Callable[[], int]) -> None:
    """After a save: a signal that came during the epoch's test pass or the save stops here."""
    signum = interrupted()
    if signum:
        raise Interrupted(signum)


def _run_epoch(run: _Run, state: TrainState, interrupted: Callable[[], int]) -> None:
    n = run.data.x_train.shape[0]
    if state.order is None:
        state.order = state.rng.permutation(n)  # (n,) shuffled once per epoch
    n_batches = math.ceil(n / run.batch)
    if run.callbacks:
        run.callbacks.on_epoch_start(state.epoch + 1, n_batches, state.position)
    while state.position < n_batches:
        started = time.perf_counter()
        if run.trainer is None:
            run.optimizer.lr_scale = run.factor(state.epoch * n_batches + state.position)
            _step(run, state)
        else:
            _chunk(run, run.trainer, state, n_batches, started)
        state.seconds += time.perf_counter() - started
        if run.callbacks:
            run.callbacks.on_batch_end(state.epoch + 1, state.position,
                                       state.loss_sum / state.seen, _running_acc(run.data, state),
                                       state.seen / max(state.seconds, 1e-9))
        if interrupted():
            if run.save is not None:
                run.save(state)
            _stop_if_signalled(interrupted)
    _finish_epoch(run.network, run.data, state, run.callbacks)


def _step(run: _Run, state: TrainState) -> None:
    assert state.order is not None
    index = state.order[state.position * run.batch:(state.position + 1) * run.batch]  # (b,)
    x, t = run.data.x_train[index], run.data.t_train[index]  # (b, *input_shape), (b, n_out)
    loss, predictions, nonfinite = run.network.train_step(x, t, run.optimizer, rng=state.rng)
    _check_finite(loss, nonfinite, state)
    state.loss_sum += float(loss) * len(index)
    state.seen += len(index)
    labels = None if run.data.labels_train is None else run.data.labels_train[index]
    state.correct += correct_count(predictions, labels)
    state.position += 1


def _chunk(run: _Run, trainer: ChunkTrainer, state: TrainState, n_batches: int,
           started: float) -> None:
    """The next chunk of batches, sized by the pace, as one call of the compiled loop."""
    assert state.order is not None
    first = state.position
    last = min(n_batches, first + run.pace.size)
    scales = np.array([run.factor(state.epoch * n_batches + i) for i in range(first, last)])
    result = trainer.train_chunk(state.order, run.batch, first, last, scales)
    run.pace.update(result.steps, time.perf_counter() - started)
    _add_chunk(run, state, result)


def _add_chunk(run: _Run, state: TrainState, result: ChunkResult) -> None:
    """Count a chunk's batches as the per-step loop counts them (the losses one by one when the
    trainer gives them); a failed last batch stops the run, naming it."""
    n, size = run.data.x_train.shape[0], run.batch
    failed = not math.isfinite(result.last_loss) or result.nonfinite > 0
    good = max(0, result.steps - 1) if failed else result.steps  # batches that count
    if result.batch_losses is None:
        state.loss_sum += result.loss_sum if not failed else 0.0
    else:
        for k, loss in enumerate(result.batch_losses[:good].tolist()):
            state.loss_sum += loss * min(size, n - (state.position + k) * size)
    state.seen += min(n, (state.position + good) * size) - state.position * size
    state.correct += result.correct
    state.position += good
    if failed:
        _check_finite(result.last_loss, result.nonfinite, state)


def _check_finite(loss: float, nonfinite: int, state: TrainState) -> None:
    """Stop the run after batch ``state.position + 1`` gave a non-finite loss or update."""
    if not math.isfinite(loss) or nonfinite:
        what = f"the loss became {loss}" if not math.isfinite(loss) else \
            f"{nonfinite} parameter values became inf or NaN"
        raise TrainingDiverged(f"{what} at epoch {state.epoch + 1}, batch {state.position + 1}: "
                               "training stopped (the last good checkpoint, if any, is kept); "
                               "try a smaller --lr")


@dataclass
class _Pace:
    """How many batches the next chunk holds: about CHUNK_SECONDS' worth at the speed the last
    chunk ran (the first chunk, one batch, compiles or loads the loop)."""

    size: int = 1

    def update(self, steps: int, seconds: float) -> None:
        per_step = seconds / max(1, steps)
        self.size = max(1, min(MAX_CHUNK, int(CHUNK_SECONDS / max(per_step, 1e-9))))


def _running_acc(data: Batches, state: TrainState) -> float | None:
    return None if data.labels_train is None else state.correct / max(1, state.seen)


def _finish_epoch(network: Network, data: Batches, state: TrainState,
                  callbacks: Callbacks | None) -> None:
    started = time.perf_counter()
    outputs, test_loss = predict_and_loss(network, data.x_test, data.t_test)
    test_acc = accuracy(outputs, data.labels_test)
    if test_loss is not None and not math.isfinite(test_loss):  # the weights blew up
        raise TrainingDiverged(f"the test loss became {test_loss} at epoch {state.epoch + 1}, "
                               "after its last batch: training stopped (the last good "
                               "checkpoint, if any, is kept); try a smaller --lr")
    seconds = state.seconds + time.perf_counter() - started
    stats = EpochStats(epoch=state.epoch + 1, loss=state.loss_sum / max(1, state.seen),
                       train_acc=_running_acc(data, state), test_acc=test_acc, seconds=seconds,
                       samples_per_s=state.seen / max(state.seconds, 1e-9), test_loss=test_loss)
    state.history.append(stats)
    state.epoch += 1
    state.position, state.order = 0, None
    state.loss_sum, state.correct, state.seen, state.seconds = 0.0, 0, 0, 0.0
    if callbacks:
        callbacks.on_epoch_end(stats)


def predict(network: Predictor, x: np.ndarray) -> np.ndarray:
    """Forward pass in chunks: (n, *input_shape) → (n, n_out)."""
    if x.shape[0] == 0:
        return np.zeros((0, 0))
    return np.concatenate([network.forward(x[i:i + EVAL_CHUNK])
                           for i in range(0, x.shape[0], EVAL_CHUNK)])


def predict_and_loss(network: Predictor | LossNetwork, x: np.ndarray, t: np.ndarray
                     ) -> tuple[np.ndarray, float | None]:
    """:func:`predict` and the mean loss over ``x`` against targets ``t`` (n, n_out) from one
    forward pass per chunk of EVAL_CHUNK (the kernels' loss forward, no dropout, no backward pass),
    where the network gives both (a :class:`LossNetwork`); else the predictions and None (the
    perceptron, or no samples)."""
    if not isinstance(network, LossNetwork) or x.shape[0] == 0:
        return predict(network, x), None
    total, chunks = 0.0, []
    for start in range(0, x.shape[0], EVAL_CHUNK):
        loss, outputs = network.loss_and_predictions(x[start:start + EVAL_CHUNK],
                                                     t[start:start + EVAL_CHUNK])
        total += float(loss) * min(EVAL_CHUNK, x.shape[0] - start)
        chunks.append(outputs)
    return np.concatenate(chunks), total / x.shape[0]


@contextmanager
def _deferred_interrupt() -> Iterator[Callable[[], int]]:
    """Turn SIGINT, SIGTERM and SIGHUP into a flag checked between batches and after each save,
    so that a step or a save is never cut in half. The flag holds the first signal's number. A
    signal that the parent set to be ignored (``nohup`` ignores SIGHUP) stays ignored."""
    flag = {"signum": 0}
    if threading.current_thread() is not threading.main_thread():
        yield lambda: flag["signum"]
        return

    def handler(signum: int, frame: object) -> None:
        flag["signum"] = flag["signum"] or signum

    previous = {}
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:  # nohup, `cmd &`: stay ignored
            previous[signum] = signal.signal(signum, handler)
    try:
        yield lambda: flag["signum"]
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
