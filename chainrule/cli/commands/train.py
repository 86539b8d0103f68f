"""``chainrule train MODEL --data DATA``: train a model with the generated kernels, live progress,
one line per epoch, a summary, checkpoints (``--out``, ``--resume``) and curves (``--plot``)."""

from __future__ import annotations

import contextlib
import signal
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from chainrule.cli.apps import app
from chainrule.cli.model_options import ACTIVATION_OPTION
from chainrule.cli.output import REPORT_FORMAT_OPTION, ReportFormat, emit, output_option
from chainrule.errors import ChainruleError

MAX_PRINTED_PARAMS = 100
CHECKPOINT_OPTION = output_option("--out", "-o", binary=True, what="checkpoint",
                                  help="Checkpoint (.npz), written atomically after every epoch "
                                  "and on Ctrl-C, SIGTERM or SIGHUP.")
RESUME_OPTION = typer.Option(None, "--resume", dir_okay=False,
                             help="Continue from this checkpoint (its options are kept; see "
                             "'Resuming' above for the schedule).")
PLOT_OPTION = output_option("--plot", binary=True,
                            help="PNG of the loss/accuracy curves (+ decision boundary for 2-D "
                            "data: train points as circles, test points as triangles).")
ANIMATE_OPTION = output_option("--animate", binary=True,
                               help="GIF of the decision boundary as training goes (2-D data "
                               "only; about 40 frames, spread over the run).")


@app.command("train")
def train_command(
    model: str = typer.Argument(..., help="Model spec: perceptron:N, linear:N, mlp:N-N-…, lenet5, "
                                "cnn:CxHxW-LAYER-… (grammar: chainrule summary --help)."),
    data: str = typer.Option(..., "--data", "-d", help="or, and, nand, xor, xor3, line, moons, "
                             "circles, spirals, blobs, fashion-mnist, mnist, a folder of IDX "
                             "files, or a CSV file (last column = label/target)."),
    epochs: int = typer.Option(10, "--epochs", min=0, help="Epochs in total (also when resuming)."),
    batch: int = typer.Option(32, "--batch", min=1, help="Mini-batch size."),
    lr: float = typer.Option(0.1, "--lr", help="Learning rate."),
    optimizer: str = typer.Option("sgd", "--optimizer", help="sgd, momentum or adam."),
    schedule: str = typer.Option("cosine", "--schedule",
                                 help="Learning-rate schedule: cosine (lr·½(1+cos(π·step/steps)), "
                                 "annealed to 0 over the run) or constant."),
    loss: str = typer.Option(None, "--loss", help="mse, half_mse, bce or softmax_ce "
                             "(default: by data, as described above)."),
    activation: str = ACTIVATION_OPTION,
    output_activation: str = typer.Option(None, "--output-activation",
                                          help="Output activation (default: by loss)."),
    l2: float = typer.Option(0.0, "--l2", help="L2 penalty λ (gradient λw, weights only)."),
    l1: float = typer.Option(0.0, "--l1", help="L1 penalty λ (gradient λ·sign(w), weights only)."),
    dropout: float = typer.Option(0.0, "--dropout", help="Dropout rate of hidden dense layers."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    seed: int = typer.Option(0, "--seed", min=0, max=2**32 - 1,
                             help="Seed for the weights, shuffling and dropout (0 to 4294967295)."),
    limit: int = typer.Option(None, "--limit", min=1, help="Train on the first N samples only."),
    out: Path = CHECKPOINT_OPTION,
    resume: Path = RESUME_OPTION,
    plot: Path = PLOT_OPTION,
    animate: Path = ANIMATE_OPTION,
    quiet: bool = typer.Option(False, "--quiet", "-q",
                               help="No status line, progress display or epoch lines: the "
                               "summary only."),
    log_every: int = typer.Option(None, "--log-every", min=1,
                                  help="Print every N-th epoch's line (and the first and the "
                                  "last); default: 1, 2, 5, 10, 20, ... so that about 20 lines "
                                  "print."),
    fmt: ReportFormat = REPORT_FORMAT_OPTION,
) -> None:
    """Train MODEL on DATA with mini-batch gradient descent; print one line per epoch and a summary.

    Defaults by data: regression (line, CSV with float targets) uses mse with a linear output;
    one output unit on two classes uses bce with a sigmoid output; one output per class uses
    softmax_ce; mse on a classification set uses a sigmoid output. perceptron:N models train with
    the Rosenblatt rule (--lr, --epochs apply; no batches). Ctrl-C, SIGTERM and SIGHUP finish the
    step in progress, write the checkpoint and exit 130, 143 and 129 (a signal during a save
    takes effect once the save is complete); a NaN/inf loss, or weights that a step makes
    NaN/inf, stop the run (exit 2; the last good checkpoint is kept). Synthetic sets use a fixed
    data seed (0), so evaluate sees the same test split. Every output path is checked before
    training starts.

    Resuming: --resume with the --epochs of the original run equals the uninterrupted run, bit for
    bit. Fewer --epochs stop early on the same schedule. More --epochs finish the original
    cosine cycle, then start a new one over the added epochs (a warm restart): "--epochs 3, then
    --resume to 6" equals one 6-epoch run with a restart at epoch 3 (TrainOptions(epochs=6,
    restarts=(3,))), not a plain 6-epoch run; with --schedule constant it equals a plain run of
    the new length.

    [bold]Examples[/bold]

      chainrule train mlp:2-4-1 --data xor --epochs 2000 --batch 4 --lr 1 --activation tanh

      chainrule train perceptron:2 --data xor --epochs 20

      chainrule train linear:1 --data line --epochs 500 --batch 6 --lr 0.05 --format json

      chainrule train mlp:2-16-2 --data moons --epochs 200 --plot moons.png

      chainrule train mlp:2-8-2 --data moons --epochs 60 --animate moons.gif

      chainrule train mlp:784-128-10 --data fashion-mnist --epochs 10 --batch 64 --lr 0.1 --out fm.npz

      chainrule train lenet5 --data fashion-mnist --epochs 10 --resume fm-cnn.npz --out fm-cnn.npz
    """
    _check_device(device)
    _check_plot_is_not_resume(plot, resume)
    _check_animate(animate, plot)
    from chainrule.derive.spec import check_activations, parse_spec

    spec = parse_spec(model)
    check_activations(spec, batch, what="--batch")
    if spec.family == "perceptron":
        if animate is not None:
            raise ChainruleError("--animate draws networks trained by gradient descent; "
                                 "perceptron:N traces its rule instead")
        if resume is not None:
            raise ChainruleError("--resume applies to networks trained by gradient descent; "
                                 "perceptron:N trains with the rule in one run")
        result = _train_perceptron(model, data, epochs, lr, limit, out,
                                   _Feedback(fmt, quiet, log_every))
    else:
        from chainrule.train.session import TrainOptions
        options = TrainOptions(epochs=epochs, batch=batch, lr=lr, optimizer=optimizer,
                               schedule=schedule, loss=loss,
                               activation=activation, output_activation=output_activation,
                               l2=l2, l1=l1, dropout=dropout, seed=seed, limit=limit,
                               device=device)
        result = _train_network(model, data, options, out, resume,
                                _Feedback(fmt, quiet, log_every), animate)
    if plot is not None:
        _plot(plot, result)
    emit(fmt, None, text=lambda: _summary_table(result), markdown=lambda: _markdown(result),
         json_payload=lambda: _payload(result))


def _check_animate(animate: Path | None, plot: Path | None) -> None:
    """--animate names a .gif, not the --plot file (the folder was checked when parsed)."""
    if animate is None:
        return
    from chainrule.cli.training_plots import check_animation_path
    check_animation_path(animate)
    if plot is not None and animate.resolve() == plot.resolve():
        raise ChainruleError(f"--animate and --plot are the same file {str(animate)!r}")


def _animation(path: Path, session: Any, epochs: int) -> Any:
    """The boundary animation over the session's data (refused before training for data that is
    not 2-D)."""
    from chainrule.cli.training_plots import BoundaryAnimation
    from chainrule.train.loop import predict

    dataset, network = session.dataset, session.network
    train_labels, test_labels = _labels(dataset)
    return BoundaryAnimation(path, lambda grid: predict(network, grid), dataset.x_train,
                             train_labels, epochs=epochs, x_test=dataset.x_test,
                             labels_test=test_labels)


def _labels(dataset: Any) -> tuple[Any, Any]:
    """The class labels of the train and test splits (None for regression data)."""
    if dataset.n_classes is None:
        return None, None
    return dataset.y_train, dataset.y_test


class _Fanout:
    """The training loop's callbacks: the progress display (every event, when there is one)
    and the animation (epoch ends only)."""

    def __init__(self, progress: Any | None, animation: Any | None) -> None:
        self.progress, self.animation = progress, animation

    def on_epoch_start(self, epoch: int, n_batches: int, done: int) -> None:
        if self.progress is not None:
            self.progress.on_epoch_start(epoch, n_batches, done)

    def on_batch_end(self, *args: Any) -> None:
        if self.progress is not None:
            self.progress.on_batch_end(*args)

    def on_epoch_end(self, stats: Any) -> None:
        for listener in (self.progress, self.animation):
            if listener is not None:
                listener.on_epoch_end(stats)


def _check_plot_is_not_resume(plot: Path | None, resume: Path | None) -> None:
    """--plot would overwrite the checkpoint that --resume reads."""
    if plot is None or resume is None:
        return
    try:
        same = resume.exists() and plot.exists() and plot.samefile(resume)
    except OSError:
        same = False
    if same:
        raise ChainruleError(f"--plot and --resume are the same file {str(plot)!r}: give the plot "
                             "its own file")


def _check_device(device: str) -> None:
    if device not in ("cpu", "cuda"):
        raise ChainruleError(f"unknown --device {device!r}: expected cpu or cuda")
    if device == "cuda":
        try:
            from numba import cuda
            usable = bool(cuda.is_available())
        except Exception:  # noqa: BLE001 - any failure to reach a GPU means "no usable GPU"
            usable = False
        if not usable:
            raise ChainruleError("--device cuda: no usable CUDA GPU found (numba.cuda reports none);"
                                 " use --device cpu")


class _Feedback:
    """What the run shows while it trains: text output draws a status line, a progress display
    and epoch lines on one console (unless --quiet); markdown and JSON show nothing."""

    def __init__(self, fmt: ReportFormat, quiet: bool, log_every: int | None) -> None:
        self.live = fmt is ReportFormat.text and not quiet
        self.log_every = log_every
        self.console = Console()

    def status(self, text: str) -> contextlib.AbstractContextManager[None]:
        from chainrule.cli.progress import status
        return status(self.console, text, quiet=not self.live)


def _train_network(model: str, data: str, options: Any, out: Path | None, resume_from: Path | None,
                   feedback: _Feedback, animate: Path | None = None) -> dict[str, Any]:
    from chainrule.cli.progress import TrainingProgress

    with feedback.status(f"loading {data} and building {model}…"):
        from chainrule.train.session import resume, start
        session = (resume(resume_from, model, data, epochs=options.epochs, out=out)
                   if resume_from is not None else start(model, data, options, out=out))
    animation = _animation(animate, session, options.epochs) if animate is not None else None
    progress = (TrainingProgress(options.epochs, console=feedback.console,
                                 log_every=feedback.log_every) if feedback.live else None)
    listening = progress is not None or animation is not None
    counting = _DeviceCounts(options.device, session)
    try:
        with progress if progress is not None else contextlib.nullcontext():
            session.run(epochs=options.epochs,
                        callbacks=_Fanout(progress, animation) if listening else None)
    except KeyboardInterrupt as exc:
        _report_stop(out, session.state, getattr(exc, "signum", signal.SIGINT))
    if animation is not None:
        animation.write()
    result = _result(session.network, session.dataset, session.state.history, out,
                     optimizer=session.optimizer.name, model=model, data=data)
    return result | counting.result(session, options.batch)


class _DeviceCounts:
    """For --device cuda: kernel launches and host↔device copies per training step of this run,
    counted by the backend (``launches_per_step``, ``transfers_per_step``, ...); nothing for the
    CPU."""

    def __init__(self, device: str, session: Any) -> None:
        from chainrule.kernels.registry import get_backend
        self.backend = get_backend(device) if device == "cuda" else None
        self.snapshot = self.backend.counter_snapshot() if self.backend else None  # type: ignore[attr-defined]
        self.epoch, self.position = session.state.epoch, session.state.position

    def result(self, session: Any, batch: int) -> dict[str, Any]:
        if self.backend is None:
            return {}
        import math
        per_epoch = math.ceil(len(session.dataset.x_train) / batch)
        state = session.state
        steps = (state.epoch - self.epoch) * per_epoch + state.position - self.position
        counts = self.backend.step_counts(self.snapshot, steps)  # type: ignore[attr-defined]
        return {"device": "cuda", **counts}


def _report_stop(out: Path | None, state: Any, signum: int) -> NoReturn:
    """After a stop signal: say where the checkpoint stands and exit 128 + the signal's number.
    After SIGHUP the terminal may be gone: a failed message does not change the exit status."""
    lines = []
    if out is not None:
        where = (f"after epoch {state.epoch}" if state.position == 0 else
                 f"at epoch {state.epoch + 1}, batch {state.position}")
        lines.append(f"saved checkpoint {out} {where}")
    name = signal.Signals(signum).name
    lines.append("interrupted" if signum == signal.SIGINT else f"interrupted ({name})")
    with contextlib.suppress(OSError):
        for line in lines:
            typer.echo(line, err=True)
    raise typer.Exit(128 + signum)


def _train_perceptron(model: str, data: str, epochs: int, lr: float, limit: int | None,
                      out: Path | None, feedback: _Feedback) -> dict[str, Any]:
    from chainrule.cli.progress import default_log_every, epoch_line, logged
    from chainrule.derive.spec import parse_spec
    from chainrule.train.data import load_dataset
    from chainrule.train.loop import new_state
    from chainrule.train.optim import Optimizer
    from chainrule.train.perceptron import train_perceptron
    from chainrule.train.session import check_writable, model_meta

    check_writable(out)
    with feedback.status(f"loading {data}…"):
        dataset = load_dataset(data).limited(limit)
    run = train_perceptron(parse_spec(model), dataset, epochs=max(1, epochs), lr=lr)
    if feedback.live:
        every = feedback.log_every or default_log_every(max(1, epochs))
        for stats in run.history:
            if logged(stats.epoch, max(1, epochs), every):
                feedback.console.print(epoch_line(stats, max(1, epochs)), highlight=False,
                                       soft_wrap=True)
    if out is not None:
        from chainrule.train.checkpoint import save_checkpoint
        state = new_state(0)
        state.epoch, state.history = run.trace.epochs, run.history
        save_checkpoint(out, params=run.model.params, optimizer=Optimizer(lr=lr), state=state,
                        meta={"model": model_meta(run.model), "seed": 0,
                              "data": {"name": data, "task": dataset.task,
                                       "n_classes": dataset.n_classes}})
    result = _result(run.model, dataset, run.history, out, optimizer="perceptron rule",
                     model=model, data=data)
    result |= {"converged": run.trace.converged, "w": run.trace.w, "b": run.trace.b}
    return result


def _result(network: Any, dataset: Any, history: list, out: Path | None, *, optimizer: str,
            model: str, data: str) -> dict[str, Any]:
    last = history[-1] if history else None
    result = {"model": model, "data": data, "loss_name": network.loss,
              "activation": network.activation, "output_activation": network.output_activation,
              "optimizer": optimizer, "epochs": [s.as_dict() for s in history],
              "loss": last.loss if last else None, "train_acc": last.train_acc if last else None,
              "test_acc": last.test_acc if last else None,
              "test_loss": last.test_loss if last else None,
              "seconds": sum(s.seconds for s in history), "checkpoint": str(out) if out else None,
              "n_train": len(dataset.x_train), "n_test": len(dataset.x_test),
              "network": network, "dataset": dataset}
    if sum(p.size for p in network.params.values()) <= MAX_PRINTED_PARAMS:
        import numpy as np
        result["params"] = {k: np.asarray(v, np.float64).tolist() for k, v in network.params.items()}
    return result


def _payload(result: dict[str, Any]) -> dict[str, Any]:
    payload = {k: v for k, v in result.items() if k not in ("network", "dataset", "loss_name")}
    payload["loss_function"] = result["loss_name"]
    return payload


def _acc(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def _loss(epoch: dict[str, Any]) -> str:
    return "—" if epoch.get("test_loss") is None else f"{epoch['test_loss']:.6g}"


def _summary_table(result: dict[str, Any]) -> Table:
    table = Table("", "", title="training summary", show_header=False)
    loss = (f"{result['loss_name']} (output {result['output_activation']}, "
            f"hidden {result['activation']})")
    rows = [("model", result["model"]), ("data", result["data"]),
            ("loss", loss),
            ("optimizer", result["optimizer"]), ("epochs", str(len(result["epochs"]))),
            ("final loss", "—" if result["loss"] is None else f"{result['loss']:.6g}"),
            ("test loss", "—" if result["test_loss"] is None else f"{result['test_loss']:.6g}"),
            ("train accuracy", _acc(result["train_acc"])),
            ("test accuracy", _acc(result["test_acc"])), ("time", f"{result['seconds']:.2f} s")]
    if "converged" in result:
        rows.append(("converged", "yes" if result["converged"] else "no (errors never reached 0)"))
    if result["checkpoint"]:
        rows.append(("checkpoint", result["checkpoint"]))
    if result.get("device") == "cuda":
        per_step = (f"{result['launches_per_step']:.1f} launches, "
                    f"{result['transfers_per_step']:.1f} host↔device copies ({result['step_path']})")
        rows.append(("cuda, per step", per_step))
    for key, value in rows:
        table.add_row(key, value)
    return table


def _markdown(result: dict[str, Any]) -> str:
    lines = [f"# Training {result['model']} on {result['data']}", "",
             "| epoch | loss | train_acc | test_loss | test_acc | seconds | samples/s |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {s['epoch']} | {s['loss']:.6g} | {_acc(s['train_acc'])} | {_loss(s)}"
              f" | {_acc(s['test_acc'])} | {s['seconds']:.3f} | {s['samples_per_s']:.0f} |"
              for s in result["epochs"]]
    lines += ["", f"Test accuracy: {_acc(result['test_acc'])}"]
    if "converged" in result:
        lines.append(f"Converged: {'yes' if result['converged'] else 'no'}")
    return "\n".join(lines) + "\n"


def _plot(path: Path, result: dict[str, Any]) -> None:

    from chainrule.cli.training_plots import plot_training
    from chainrule.train.loop import EpochStats, predict

    dataset, network = result["dataset"], result["network"]
    history = [EpochStats(**s) for s in result["epochs"]]
    title = f"{result['model']} on {result['data']}"
    if dataset.input_shape != (2,):
        plot_training(path, history, title=title)
        return
    train_labels, test_labels = _labels(dataset)  # (n,) each, or None
    plot_training(path, history, title=title, predict=lambda grid: predict(network, grid),
                  x=dataset.x_train, labels=train_labels, x_test=dataset.x_test,
                  labels_test=test_labels)

