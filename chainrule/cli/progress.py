"""The live view of a training run, drawn with rich on a terminal.

* While the data load and the network is built: a status line (:func:`status`).
* While the run trains: one progress display over the whole run (every batch of every epoch), with
  the epoch, the running loss and accuracy, samples/s and an ETA; the first batch says that the
  kernels are being compiled or loaded from numba's cache.
* Above it, one line per logged epoch (:func:`epoch_line`, at most 80 columns): every epoch, or
  every ``log_every``-th one plus the first and the last (:func:`default_log_every` picks one that
  prints about 20 lines). ``quiet`` draws and prints nothing.

Off a terminal (a pipe, a file) the live parts are not drawn; the epoch lines still are.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from chainrule.train.loop import EpochStats

MAX_EPOCH_LINES = 20  # about this many epoch lines when --log-every is not given
NICE_STEPS = (1, 2, 5)  # --log-every defaults to 1, 2, 5, 10, 20, 50, ...
COMPILING = "compiling kernels (or loading them from cache)…"


def fmt_acc(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def fmt_loss(value: float | None) -> str:
    """At most 8 characters: ``0.4123``, ``123.46``, ``12346``, ``1.2e+05``."""
    if value is None:
        return "—"
    if abs(value) < 10:
        return f"{value:.4f}"
    return f"{value:.5g}" if abs(value) < 1e5 else f"{value:.1e}"


def epoch_line(stats: EpochStats, epochs: int) -> str:
    """``epoch  3/10  loss 0.4123 acc 0.8512 │ test loss 0.4501 acc 0.8420  1.23 s``: training
    loss and accuracy left of the bar, test right of it; at most 80 columns up to 9,999 epochs
    (and epochs under 10,000 s)."""
    width = len(str(epochs))
    return (f"epoch {stats.epoch:>{width}}/{epochs}  loss {fmt_loss(stats.loss)} "
            f"acc {fmt_acc(stats.train_acc)} │ test loss {fmt_loss(stats.test_loss)} "
            f"acc {fmt_acc(stats.test_acc)}  {fmt_seconds(stats.seconds)}")


def fmt_seconds(value: float) -> str:
    """At most 6 characters below 10,000 s: ``1.23 s``, ``12.3 s``, ``123 s``."""
    if value < 10:
        return f"{value:.2f} s"
    return f"{value:.1f} s" if value < 100 else f"{value:.0f} s"


def default_log_every(epochs: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that logs at most MAX_EPOCH_LINES epochs."""
    scale = 1
    while True:
        for step in NICE_STEPS:
            if epochs <= MAX_EPOCH_LINES * step * scale:
                return step * scale
        scale *= 10


def logged(epoch: int, epochs: int, log_every: int) -> bool:
    """Whether ``epoch`` (1-based) gets a line: the first, every ``log_every``-th, the last."""
    return epoch in (1, epochs) or epoch % log_every == 0


@contextlib.contextmanager
def status(console: Console, text: str, *, quiet: bool = False) -> Iterator[None]:
    """A spinner with ``text`` while the block runs (a terminal only; nothing when ``quiet``)."""
    if quiet or not console.is_terminal:
        yield
        return
    with console.status(text):
        yield


class TrainingProgress:
    """Callbacks for :func:`chainrule.train.loop.train` that draw with rich."""

    def __init__(self, epochs: int, *, console: Console | None = None, quiet: bool = False,
                 log_every: int | None = None) -> None:
        self.epochs = epochs
        self.quiet = quiet
        self.log_every = log_every or default_log_every(epochs)
        self.console = console or Console()  # one console, so lines print above the live bar
        self.progress = Progress(
            TextColumn("epoch {task.fields[epoch]}"), BarColumn(bar_width=20),
            TaskProgressColumn(), TextColumn("{task.fields[info]}  ETA"),
            TimeRemainingColumn(compact=True, elapsed_when_finished=True),
            console=self.console, transient=True, disable=quiet)
        self.task: TaskID | None = None
        self.n_batches = 0
        self.started = False  # a batch has finished (the kernels are compiled)

    def __enter__(self) -> TrainingProgress:  # noqa: PYI034
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def on_epoch_start(self, epoch: int, n_batches: int, done: int) -> None:
        self.n_batches = n_batches
        completed = (epoch - 1) * n_batches + done
        if self.task is None:
            self.task = self.progress.add_task("train", total=self.epochs * n_batches,
                                               completed=completed, epoch="", info=COMPILING)
        self.progress.update(self.task, completed=completed, epoch=f"{epoch}/{self.epochs}")

    def on_batch_end(self, epoch: int, batch: int, loss: float, acc: float | None,
                     samples_per_s: float) -> None:
        if self.task is None:
            return
        info = f"loss {fmt_loss(loss)}"
        if acc is not None:
            info += f" acc {acc:.3f}"
        info += f"  {samples_per_s:,.0f}/s"
        self.progress.update(self.task, completed=(epoch - 1) * self.n_batches + batch,
                             info=info)

    def on_epoch_end(self, stats: EpochStats) -> None:
        if not self.quiet and logged(stats.epoch, self.epochs, self.log_every):
            self.console.print(epoch_line(stats, self.epochs), highlight=False, soft_wrap=True)
