"""The live view of a training run: a rich progress bar per epoch (loss, accuracy, samples/s),
drawn only on a terminal, and one printed line per finished epoch, above the bar."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from chainrule.train.loop import EpochStats


def fmt_acc(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def epoch_line(stats: EpochStats, epochs: int) -> str:
    """``epoch  3/10  loss 0.4123  train_acc 0.8512  test_acc 0.8420  12.3 s  48,000 samples/s``."""
    width = len(str(epochs))
    return (f"epoch {stats.epoch:>{width}}/{epochs}  loss {stats.loss:.4f}  "
            f"train_acc {fmt_acc(stats.train_acc)}  test_acc {fmt_acc(stats.test_acc)}  "
            f"{stats.seconds:.2f} s  {stats.samples_per_s:,.0f} samples/s")


class TrainingProgress:
    """Callbacks for :func:`chainrule.train.loop.train` that draw with rich."""

    def __init__(self, epochs: int, *, console: Console | None = None) -> None:
        self.epochs = epochs
        self.console = console or Console()  # one console, so lines print above the live bar
        self.progress = Progress(
            TextColumn("epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}  acc {task.fields[acc]}  {task.fields[speed]}"),
            TimeElapsedColumn(), console=self.console, transient=True)
        self.task: TaskID | None = None

    def __enter__(self) -> TrainingProgress:  # noqa: PYI034
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def on_epoch_start(self, epoch: int, n_batches: int, done: int) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task("train", total=n_batches, completed=done,
                                           epoch=f"{epoch}/{self.epochs}", loss="…", acc="…",
                                           speed="")

    def on_batch_end(self, epoch: int, batch: int, loss: float, acc: float | None,
                     samples_per_s: float) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=batch, loss=f"{loss:.4f}",
                                 acc=fmt_acc(acc), speed=f"{samples_per_s:,.0f} samples/s")

    def on_epoch_end(self, stats: EpochStats) -> None:
        self.console.print(epoch_line(stats, self.epochs), highlight=False, soft_wrap=True)
