"""``chainrule evaluate``: the checkpoint's accuracy and loss agree with training's own numbers."""

import pytest

BLOBS = ["train", "mlp:2-5-3", "--data", "blobs", "--epochs", "3", "--batch", "16", "--lr", "0.05"]


@pytest.fixture(scope="module")
def blobs_checkpoint(cli, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval") / "blobs.npz"
    trained = cli.json([*BLOBS, "--out", str(out)])
    return out, trained


def test_evaluate_matches_training(cli, blobs_checkpoint):
    out, trained = blobs_checkpoint
    result = cli.json(["evaluate", str(out), "--data", "blobs"])
    assert result["test_acc"] == trained["test_acc"]
    assert result["n"] == 60 and result["split"] == "test"
    confusion = result["confusion"]
    assert sum(map(sum, confusion)) == 60
    assert sum(confusion[i][i] for i in range(3)) / 60 == result["accuracy"]
    assert result["loss"] > 0


def test_train_split(cli, blobs_checkpoint):
    out, _ = blobs_checkpoint
    assert cli.json(["evaluate", str(out), "--data", "blobs", "--split", "train"])["n"] == 240


def test_text_and_markdown(cli, blobs_checkpoint):
    out, _ = blobs_checkpoint
    assert "accuracy" in cli.run(["evaluate", str(out), "--data", "blobs"]).stdout
    markdown = cli.run(["evaluate", str(out), "--data", "blobs", "--format", "markdown"]).stdout
    assert markdown.startswith("# mlp:2-5-3 on blobs (test split)")


def test_perceptron_checkpoint(cli, tmp_path):
    out = tmp_path / "or.npz"
    cli.json(["train", "perceptron:2", "--data", "or", "--out", str(out)])
    result = cli.json(["evaluate", str(out), "--data", "or"])
    assert result["test_acc"] == 1.0 and result["loss"] is None


def test_regression_has_no_accuracy(cli, tmp_path):
    out = tmp_path / "line.npz"
    cli.json(["train", "linear:1", "--data", "line", "--epochs", "300", "--batch", "6", "--lr",
              "0.05", "--out", str(out)])
    result = cli.json(["evaluate", str(out), "--data", "line"])
    assert result["accuracy"] is None and result["confusion"] is None
    assert result["loss"] < 1e-3


@pytest.mark.parametrize(("args", "message"), [
    (["--data", "xor"], "has 2 inputs per sample, but model 'mlp:2-5-3'|2 classes"),
    (["--data", "blobs", "--split", "dev"], "--split must be test or train"),
])
def test_bad_input(cli, blobs_checkpoint, args, message):
    import re
    out, _ = blobs_checkpoint
    assert re.search(message, cli.fails(["evaluate", str(out), *args]))


def test_not_a_checkpoint(cli, tmp_path):
    path = tmp_path / "x.npz"
    path.write_text("hello")
    assert "is not a chainrule checkpoint" in cli.fails(["evaluate", str(path), "--data", "xor"])
    assert "does not exist" in cli.fails(["evaluate", str(tmp_path / "none.npz"), "--data", "xor"])


def _refuse_constant(name):
    raise ValueError(f"non-strict JSON constant {name}")


def test_a_diverged_model_gives_strict_json(cli, blobs_checkpoint, tmp_path):
    import json

    import numpy as np

    out, _ = blobs_checkpoint
    with np.load(out) as archive:
        arrays = {key: archive[key] for key in archive.files}
    arrays = {key: value * np.float32(1e30) if key.startswith("param/") else value
              for key, value in arrays.items()}  # finite weights, overflowing outputs
    diverged = tmp_path / "diverged.npz"
    np.savez(diverged, **arrays)
    text = cli.run(["evaluate", str(diverged), "--data", "blobs", "--format", "json"]).stdout
    payload = json.loads(text, parse_constant=_refuse_constant)
    assert payload["loss"] is None and payload["non_finite"] == ["loss"]
    healthy = json.loads(cli.run(["evaluate", str(out), "--data", "blobs", "--format",
                                  "json"]).stdout, parse_constant=_refuse_constant)
    assert "non_finite" not in healthy and healthy["loss"] > 0
