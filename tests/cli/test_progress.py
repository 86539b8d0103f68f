"""Training feedback: epoch lines that fit 80 columns, --log-every and --quiet, the status line and
the whole-run progress display, and the test loss (checked against NumPy's cross-entropy)."""

import io
import json

import numpy as np
import pytest
from rich.console import Console

from chainrule.cli.progress import (
    COMPILING,
    TrainingProgress,
    default_log_every,
    epoch_line,
    fmt_loss,
    logged,
    status,
)
from chainrule.train.loop import EpochStats

BLOBS = ["train", "mlp:2-5-3", "--data", "blobs", "--batch", "16", "--lr", "0.05", "--seed", "2"]


def _stats(epoch: int, loss: float, test_loss: float | None, seconds: float) -> EpochStats:
    return EpochStats(epoch=epoch, loss=loss, train_acc=0.85123, test_acc=0.84201,
                      seconds=seconds, samples_per_s=48_000.0, test_loss=test_loss)


@pytest.mark.parametrize(("epochs", "loss", "seconds"), [
    (10, 0.4123, 12.3), (500, 2.3026, 0.001), (9999, 9.99994, 999.99), (9999, 123.456, 99.0),
    (9999, 4.5e7, 9999.0)])
def test_epoch_line_fits_80_columns(epochs, loss, seconds):
    line = epoch_line(_stats(epochs, loss, loss * 1.1, seconds), epochs)
    assert len(line) <= 80, line
    assert f"epoch {epochs}/{epochs}" in line and "test loss" in line


def test_epoch_line_names_train_and_test_numbers():
    line = epoch_line(_stats(3, 0.41234, 0.45012, 1.234), 10)
    assert line == "epoch  3/10  loss 0.4123 acc 0.8512 │ test loss 0.4501 acc 0.8420  1.23 s"
    assert "test loss —" in epoch_line(_stats(1, 0.5, None, 0.1), 1)


def test_fmt_loss_is_at_most_8_characters():
    assert [fmt_loss(v) for v in (0.41234, 123.456, 12345.6, 4.5e7)] == \
        ["0.4123", "123.46", "12346", "4.5e+07"]


@pytest.mark.parametrize(("epochs", "every"), [(1, 1), (20, 1), (21, 2), (40, 2), (41, 5),
                                               (100, 5), (101, 10), (500, 50),
                                               (2000, 100), (2001, 200)])
def test_default_log_every_prints_about_20_lines(epochs, every):
    assert default_log_every(epochs) == every
    printed = [e for e in range(1, epochs + 1) if logged(e, epochs, every)]
    assert len(printed) <= 22  # every-th epochs, plus the first and the last


def test_logged_keeps_the_first_and_the_last():
    assert [e for e in range(1, 8) if logged(e, 7, 3)] == [1, 3, 6, 7]


def _lines(output: str) -> list[str]:
    return [line.split()[1] for line in output.splitlines() if line.startswith("epoch ")]


def test_log_every_and_quiet(cli):
    assert _lines(cli.run([*BLOBS, "--epochs", "5", "--log-every", "2"]).stdout) == \
        ["1/5", "2/5", "4/5", "5/5"]
    quiet = cli.run([*BLOBS, "--epochs", "2", "--quiet"]).stdout
    assert _lines(quiet) == [] and "training summary" in quiet and "test loss" in quiet
    assert "--log-every: expected an integer ≥ 1, got 0" in cli.fails([*BLOBS, "--log-every", "0"])


def test_default_log_every_on_a_long_run(cli):
    lines = _lines(cli.run(["train", "perceptron:2", "--data", "xor", "--epochs", "100"]).stdout)
    assert lines == ["1/100", *[f"{e}/100" for e in range(5, 101, 5)]]


def test_epoch_lines_fit_80_columns_through_the_cli(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    output = cli.run([*BLOBS, "--epochs", "3"]).stdout
    assert len(_lines(output)) == 3
    assert max(len(line) for line in output.splitlines()) <= 80


def test_format_latex_is_not_offered(cli):
    line = cli.fails([*BLOBS, "--format", "latex"])
    assert "--format" in line and "latex" in line
    assert "latex" not in cli.run(["train", "--help"]).stdout.split("--format")[1].split("\n")[0]


def test_test_loss_is_the_cross_entropy_of_the_test_split(cli, tmp_path):
    """The reported test loss against softmax cross-entropy computed with NumPy in float64 from
    the saved weights."""
    from chainrule.derive.spec import parse_spec
    from chainrule.train.checkpoint import load_checkpoint
    from chainrule.train.data import load_dataset
    from chainrule.train.session import fit_batches

    result = json.loads(cli.run([*BLOBS, "--epochs", "2", "--out", str(tmp_path / "b.npz"),
                                 "--format", "json"]).stdout)
    checkpoint = load_checkpoint(tmp_path / "b.npz")
    params = {k: np.asarray(v, np.float64) for k, v in checkpoint.params.items()}
    batches = fit_batches(load_dataset("blobs"), parse_spec("mlp:2-5-3"), dtype=np.dtype(np.float64))
    x = np.asarray(batches.x_test, np.float64)  # (60, 2)
    h = np.maximum(0, x @ params["layer0.weight"].T + params["layer0.bias"])  # (60, 5)
    z = h @ params["layer1.weight"].T + params["layer1.bias"]  # (60, 3)
    log_p = z - z.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    expected = -np.mean(log_p[np.arange(len(x)), batches.labels_test])
    assert result["test_loss"] == pytest.approx(expected, rel=1e-4)
    assert result["epochs"][-1]["test_loss"] == result["test_loss"]


def test_progress_spans_the_whole_run_with_an_eta():
    console = Console(file=io.StringIO(), force_terminal=True, width=80)
    progress = TrainingProgress(3, console=console)
    with progress:
        progress.on_epoch_start(1, 4, 0)
        task = progress.progress.tasks[0]
        assert task.total == 12 and task.fields["info"] == COMPILING
        progress.on_batch_end(1, 4, 0.5, 0.75, 1000.0)
        progress.on_epoch_start(2, 4, 0)
        progress.on_batch_end(2, 2, 0.4, 0.8, 1000.0)
        assert task.completed == 6 and "loss 0.4000 acc 0.800" in task.fields["info"]
        assert len(progress.progress.tasks) == 1  # one display, not one per epoch
    columns = [type(c).__name__ for c in progress.progress.columns]
    assert "TimeRemainingColumn" in columns


def test_status_draws_only_on_a_terminal():
    quiet = Console(file=io.StringIO(), force_terminal=False)
    with status(quiet, "loading…"):
        pass
    assert quiet.file.getvalue() == ""
    live = Console(file=io.StringIO(), force_terminal=True)
    with status(live, "loading fashion-mnist…"):
        live.file.write("")
    assert "loading fashion-mnist" in live.file.getvalue()
