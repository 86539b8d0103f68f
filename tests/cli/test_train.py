"""``chainrule train``: the JSON contract, the worked examples through the CLI, checkpoints,
resume, Ctrl-C, plots, and one clear line (exit 2) for each kind of bad input."""

import os
import signal

import numpy as np
import pytest

from chainrule.train import loop
from chainrule.train.checkpoint import load_checkpoint
from chainrule.train.data import discovery, write_idx

XOR_MLP = ["train", "mlp:2-4-1", "--data", "xor", "--epochs", "150", "--batch", "4", "--lr", "0.1",
           "--optimizer", "adam", "--activation", "tanh"]
BLOBS = ["train", "mlp:2-5-3", "--data", "blobs", "--epochs", "3", "--batch", "16", "--lr", "0.05",
         "--seed", "2"]


def test_json_contract(cli):
    result = cli.json(BLOBS)
    assert [e["epoch"] for e in result["epochs"]] == [1, 2, 3]
    for epoch in result["epochs"]:
        assert set(epoch) == {"epoch", "loss", "train_acc", "test_acc", "test_loss", "seconds",
                              "samples_per_s"}
        assert all(isinstance(v, int | float) for v in epoch.values())
    assert result["test_acc"] == result["epochs"][-1]["test_acc"]
    assert result["loss_function"] == "softmax_ce" and result["output_activation"] == "softmax"
    assert result["n_train"] == 240 and result["n_test"] == 60


def test_text_prints_one_line_per_epoch_and_a_summary(cli):
    output = cli.run(BLOBS).stdout
    lines = [line for line in output.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in lines] == ["1/3", "2/3", "3/3"]
    assert "test loss" in lines[0] and "acc" in lines[0]
    assert "training summary" in output and "test accuracy" in output


def test_markdown(cli):
    output = cli.run([*BLOBS, "--format", "markdown"]).stdout
    assert output.startswith("# Training mlp:2-5-3 on blobs")
    assert "| 3 |" in output and "Test accuracy:" in output


def test_e4_perceptron_on_xor_does_not_converge(cli):
    result = cli.json(["train", "perceptron:2", "--data", "xor", "--epochs", "50"])
    assert result["converged"] is False
    assert all(e["loss"] > 0 for e in result["epochs"])  # errors in every pass
    assert len(result["epochs"]) == 50


def test_e4_perceptron_on_and_converges(cli):
    result = cli.json(["train", "perceptron:2", "--data", "and", "--epochs", "50"])
    assert result["converged"] is True and result["train_acc"] == 1.0
    assert result["n_train"] == 4
    assert cli.json(["train", "perceptron:2", "--data", "and", "--limit", "2"])["n_train"] == 2


def test_e4_mlp_learns_xor(cli):
    result = cli.json(XOR_MLP)
    assert result["train_acc"] == 1.0 and result["test_acc"] == 1.0


def test_e12_linear_neuron(cli):
    result = cli.json(["train", "linear:1", "--data", "line", "--epochs", "500", "--batch", "6",
                       "--lr", "0.05"])
    assert result["params"]["layer0.weight"][0][0] == pytest.approx(3, abs=1e-2)
    assert result["params"]["layer0.bias"][0] == pytest.approx(1, abs=1e-2)
    assert result["test_acc"] is None and result["loss_function"] == "mse"


def test_loss_alias_and_mse_on_classes_uses_a_sigmoid_output(cli):
    result = cli.json(["train", "mlp:2-3-1", "--data", "xor", "--epochs", "1", "--loss", "half-mse"])
    assert result["loss_function"] == "half_mse" and result["output_activation"] == "sigmoid"


def test_csv_data(cli, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 2))
    path = tmp_path / "points.csv"
    path.write_text("x1,x2,label\n" + "".join(f"{a},{b},{int(a + b > 0)}\n" for a, b in x))
    result = cli.json(["train", "mlp:2-4-2", "--data", str(path), "--epochs", "30", "--batch", "8",
                       "--lr", "0.3"])
    assert result["n_train"] == 32 and result["n_test"] == 8
    assert result["train_acc"] > 0.8


def test_limit(cli):
    result = cli.json(["train", "mlp:2-4-2", "--data", "moons", "--epochs", "1", "--limit", "20",
                       "--batch", "5"])
    assert result["n_train"] == 20 and result["n_test"] == 40


def test_same_seed_same_result_and_checkpoint(cli, tmp_path):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    first = cli.json([*BLOBS, "--out", str(a), "--optimizer", "adam", "--dropout", "0.2"])
    second = cli.json([*BLOBS, "--out", str(b), "--optimizer", "adam", "--dropout", "0.2"])
    assert [e["loss"] for e in first["epochs"]] == [e["loss"] for e in second["epochs"]]
    pa, pb = load_checkpoint(a).params, load_checkpoint(b).params
    assert all(np.array_equal(pa[k], pb[k]) for k in pa)


def test_resume_equals_uninterrupted(cli, tmp_path):
    # A run of 1 epoch, then extended to 3: with a constant rate the result is that of one 3-epoch
    # run (a cosine schedule gets a warm restart instead: test_resume_past_the_plan_is_a_warm_restart).
    straight, part = tmp_path / "straight.npz", tmp_path / "part.npz"
    constant = ["--optimizer", "momentum", "--schedule", "constant"]
    cli.json([*BLOBS, *constant, "--out", str(straight)])
    short = [*BLOBS[:5], "1", *BLOBS[6:]]
    cli.json([*short, *constant, "--out", str(part)])
    assert load_checkpoint(part).meta["epoch"] == 1
    cli.json([*BLOBS, "--resume", str(part), "--out", str(part)])
    pa, pb = load_checkpoint(straight).params, load_checkpoint(part).params
    assert all(np.array_equal(pa[k], pb[k]) for k in pa)


def test_ctrl_c_saves_and_exits_130(cli, tmp_path, monkeypatch):
    original, calls = loop._step, []

    def step_then_ctrl_c(*args):
        original(*args)
        calls.append(1)
        if len(calls) == 20:  # epoch 2, batch 5 (15 batches per epoch)
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(loop, "_step", step_then_ctrl_c)
    out = tmp_path / "ck.npz"
    result = cli.run([*BLOBS, "--out", str(out), "--format", "json"], code=130)
    assert "saved checkpoint" in result.stderr and "interrupted" in result.stderr
    meta = load_checkpoint(out).meta
    assert (meta["epoch"], meta["position"]) == (1, 5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.npz"]
    monkeypatch.setattr(loop, "_step", original)
    resumed = cli.json([*BLOBS, "--resume", str(out), "--out", str(out)])
    straight = cli.json([*BLOBS, "--out", str(tmp_path / "straight.npz")])
    assert resumed["epochs"][-1]["loss"] == straight["epochs"][-1]["loss"]
    pa, pb = load_checkpoint(out).params, load_checkpoint(tmp_path / "straight.npz").params
    assert all(np.array_equal(pa[k], pb[k]) for k in pa)


def test_plot_is_a_deterministic_png(cli, tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    cli.json([*BLOBS, "--plot", str(a)])
    cli.json([*BLOBS, "--plot", str(b)])
    assert a.read_bytes()[:4] == b"\x89PNG" and a.read_bytes() == b.read_bytes()


def test_plot_for_regression(cli, tmp_path):
    path = tmp_path / "line.png"
    cli.json(["train", "linear:1", "--data", "line", "--epochs", "5", "--plot", str(path)])
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_plot_tells_train_points_from_test_points(cli, tmp_path, monkeypatch):
    from chainrule.cli import training_plots
    seen = {}

    def spy(path, history, **kwargs):
        seen.update(kwargs)
    monkeypatch.setattr(training_plots, "plot_training", spy)
    cli.json([*BLOBS, "--plot", str(tmp_path / "p.png")])
    assert seen["x"].shape == (240, 2) and seen["x_test"].shape == (60, 2)
    assert seen["labels"].shape == (240,) and seen["labels_test"].shape == (60,)


def test_animate_writes_a_gif_with_a_frame_per_chosen_epoch(cli, tmp_path):
    from PIL import Image
    path = tmp_path / "b.gif"
    cli.json([*BLOBS, "--animate", str(path)])
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 3  # epochs 1, 2, 3


@pytest.mark.parametrize(("extra", "message"), [
    (["--animate", "{tmp}/b.png"], "expected a .gif file name"),
    (["--animate", "{tmp}/same.gif", "--plot", "{tmp}/same.gif"], "same file"),
])
def test_animate_bad_paths_are_refused_before_training(cli, tmp_path, extra, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    assert message in cli.fails([*BLOBS, *args])
    assert list(tmp_path.iterdir()) == []


def test_animate_needs_two_dimensional_data(cli, tmp_path):
    line = cli.fails(["train", "linear:1", "--data", "line", "--epochs", "1",
                      "--animate", str(tmp_path / "l.gif")])
    assert "2-D data" in line and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("args", "message"), [
    (["train", "mlp:2-x", "--data", "xor"], "bad layer size 'x'"),
    (["train", "bogus:3", "--data", "xor"], "unknown model spec 'bogus:3'"),
    (["train", "mlp:3-4-1", "--data", "xor"], "has 2 inputs per sample"),
    (["train", "mlp:2-4-5", "--data", "blobs"], "3 classes, but model 'mlp:2-4-5' has 5 outputs"),
    (["train", "mlp:2-4-1", "--data", "nope"], "unknown data 'nope'"),
    (["train", "mlp:2-4-1", "--data", "xor", "--optimizer", "rmsprop"], "unknown optimizer"),
    (["train", "mlp:2-4-1", "--data", "xor", "--format", "latex"], "--format: .latex. is not one of .text., .markdown., .json."),
    (["train", "mlp:2-4-1", "--data", "xor", "--device", "tpu"], "unknown --device 'tpu'"),
    (["train", "perceptron:2", "--data", "xor", "--resume", "x.npz"], "--resume applies to"),
    (["train", "perceptron:2", "--data", "blobs"], "separates two classes; data 'blobs' has 3"),
    (["train", "perceptron:3", "--data", "xor"], "has 2 inputs per sample"),
    (["train", "linear:1", "--data", "line", "--lr", "10", "--epochs", "300", "--batch", "6"],
     r"loss became (nan|inf) at epoch \d+, (batch 1|after its last batch)"),
])
def test_bad_input(cli, args, message):
    import re
    assert re.search(message, cli.fails(args))


def test_cuda_without_a_gpu(cli, monkeypatch):
    from numba import cuda
    monkeypatch.setattr(cuda, "is_available", lambda: False)
    line = cli.fails(["train", "mlp:2-4-1", "--data", "xor", "--device", "cuda"])
    assert "no usable CUDA GPU" in line and "--device cpu" in line


def test_unwritable_out(cli, tmp_path):
    line = cli.fails([*BLOBS, "--out", str(tmp_path / "no" / "ck.npz")])
    assert "cannot write checkpoint" in line and "does not exist" in line
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        assert "permission denied" in cli.fails([*BLOBS, "--out", str(locked / "ck.npz")])
    finally:
        locked.chmod(0o700)


def test_nan_keeps_the_last_good_checkpoint(cli, tmp_path):
    out = tmp_path / "ck.npz"
    line = cli.fails(["train", "linear:1", "--data", "line", "--lr", "0.2", "--epochs", "300",
                      "--batch", "6", "--schedule", "constant", "--out", str(out)])
    epoch = int(line.split("at epoch ")[1].split(",")[0])
    assert epoch > 1 and load_checkpoint(out).meta["epoch"] == epoch - 1


def test_resume_from_another_model(cli, tmp_path):
    out = tmp_path / "ck.npz"
    cli.json([*BLOBS, "--out", str(out)])
    line = cli.fails(["train", "mlp:2-6-3", "--data", "blobs", "--resume", str(out)])
    assert "from another model" in line


def test_corrupt_idx_folder(cli, tmp_path):
    folder = tmp_path / "set"
    folder.mkdir()
    for name in ("train-images-idx3-ubyte", "t10k-images-idx3-ubyte"):
        write_idx(folder / name, np.zeros((3, 4, 4), np.uint8))
    for name in ("train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"):
        write_idx(folder / name, np.zeros(3, np.uint8))
    (folder / "t10k-images-idx3-ubyte").write_bytes(
        (folder / "t10k-images-idx3-ubyte").read_bytes()[:-5])
    line = cli.fails(["train", "mlp:16-4-2", "--data", str(folder)])
    assert "truncated or corrupt" in line


def test_idx_folder_trains(cli, tmp_path):
    folder = tmp_path / "set"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 12), ("t10k", 6)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 4, 4),
                                                                          dtype=np.uint8))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", (np.arange(n) % 2).astype(np.uint8))
    result = cli.json(["train", "cnn:1x4x4-conv3x3x2-dense2", "--data", str(folder), "--epochs",
                       "2", "--batch", "4"])
    assert result["n_train"] == 12 and len(result["epochs"]) == 2


def test_missing_fashion_mnist(cli, monkeypatch, tmp_path):
    monkeypatch.delenv("CHAINRULE_DATA", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setitem(discovery.SYSTEM_DIRS, "fashion-mnist", [tmp_path / "none"])
    line = cli.fails(["train", "mlp:784-10", "--data", "fashion-mnist"])
    assert "apt-get install dataset-fashion-mnist" in line and "CHAINRULE_DATA" in line


def test_help_has_examples(cli):
    assert "Examples" in cli.run(["train", "--help"]).stdout


def test_unknown_schedule_is_one_line(cli):
    assert "unknown --schedule 'step'" in cli.fails([*BLOBS, "--schedule", "step"])


def test_ctrl_c_during_the_final_save_exits_130_after_it(cli, tmp_path, monkeypatch):
    from chainrule.train import session as session_module
    original = session_module.save_checkpoint

    def save_then_ctrl_c(path, **kwargs):
        if kwargs["state"].epoch == 3:  # the last epoch's save
            os.kill(os.getpid(), signal.SIGINT)
        return original(path, **kwargs)

    monkeypatch.setattr(session_module, "save_checkpoint", save_then_ctrl_c)
    out = tmp_path / "ck.npz"
    result = cli.run([*BLOBS, "--out", str(out), "--format", "json"], code=130)
    assert f"saved checkpoint {out} after epoch 3" in result.stderr
    assert load_checkpoint(out).meta["epoch"] == 3 and result.stdout == ""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_checkpoint_the_epoch_in_progress(tmp_path, signum):
    import subprocess
    import sys

    from chainrule.train.session import TrainOptions, resume, start
    out = tmp_path / "ck.npz"
    args = ["mlp:2-3-2", "--data", "moons", "--epochs", "100000", "--batch", "8"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NUMBA_NUM_THREADS": "1"}
    with subprocess.Popen([sys.executable, "-m", "chainrule.cli.main", "train", *args, "--out",
                           str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("epoch "):
                process.send_signal(signum)
                break
        _, stderr = process.communicate(timeout=60)
    name = signal.Signals(signum).name
    assert process.returncode == 128 + signum, stderr
    assert f"saved checkpoint {out}" in stderr and f"interrupted ({name})" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.npz"]
    meta = load_checkpoint(out).meta
    assert meta["epoch"] >= 1 and meta["options"]["epochs"] == 100000
    # Nothing was lost: finishing the next epoch from the checkpoint gives the weights of a run
    # never stopped, bit for bit.
    target = meta["epoch"] + 1
    resumed = resume(out, "mlp:2-3-2", "moons", epochs=target)
    resumed.run(epochs=target)
    straight = start("mlp:2-3-2", "moons", TrainOptions(epochs=100000, batch=8))
    straight.run(epochs=target)
    for key, value in straight.network.params.items():
        np.testing.assert_array_equal(resumed.network.params[key], value)


def test_resume_past_the_plan_is_a_warm_restart(cli, tmp_path):
    from chainrule.train.session import TrainOptions, start
    out = tmp_path / "ck.npz"
    cli.json([*BLOBS, "--out", str(out)])  # 3 epochs, cosine
    cli.json([*BLOBS[:5], "6", *BLOBS[6:], "--resume", str(out), "--out", str(out)])
    assert load_checkpoint(out).meta["options"]["restarts"] == [3]
    restarted = start("mlp:2-5-3", "blobs", TrainOptions(epochs=6, batch=16, lr=0.05, seed=2,
                                                          restarts=(3,)))
    restarted.run()
    saved = load_checkpoint(out).params
    assert all(np.array_equal(saved[k], v) for k, v in restarted.network.params.items())
    assert "warm restart" in cli.run(["train", "--help"]).stdout
