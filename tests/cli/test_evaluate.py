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
    assert result["classes"] is None and result["per_class"] is None
    assert "confusion" not in cli.run(["evaluate", str(out), "--data", "line"]).stdout
    names = tmp_path / "names.txt"
    names.write_text("a\nb\n")
    assert "regression" in cli.fails(["evaluate", str(out), "--data", "line", "--classes",
                                      str(names)])


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


# --- class names, the 80-column matrix, per-class scores, --plot, the data warning ---------------

FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot"]


def _write_ten_class_set(folder, *, seed=0):
    """A tiny 10-class IDX set (4×4 images, brightness pattern by class) in a folder named
    fashion-mnist, so that it gets Fashion-MNIST's class names."""
    import numpy as np

    from chainrule.train.data import write_idx

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", 400), ("t10k", 1200)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 60, (n, 4, 4))
        images.reshape(n, 16)[np.arange(n), labels] += 180  # class k lights pixel k
        write_idx(folder / f"{prefix}-images-idx3-ubyte", images.astype(np.uint8))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels)
    return folder


@pytest.fixture(scope="module")
def ten_class(cli, tmp_path_factory):
    root = tmp_path_factory.mktemp("ten")
    folder = _write_ten_class_set(root / "fashion-mnist")
    out = root / "ten.npz"
    cli.json(["train", "mlp:16-10", "--data", str(folder), "--epochs", "2", "--batch", "32",
              "--out", str(out)])
    return out, folder


def test_ten_classes_fit_80_columns(cli, ten_class, monkeypatch):
    out, folder = ten_class
    monkeypatch.setenv("COLUMNS", "80")
    text = cli.run(["evaluate", str(out), "--data", str(folder)]).stdout
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80, text
    header = next(i for i, line in enumerate(lines) if line.startswith("confusion matrix"))
    columns = lines[header + 1].split()
    assert columns == ["T-shi", "Trous", "Pullo", "Dress", "Coat", "Sanda", "Shirt", "Sneak",
                       "Bag", "Ankle"]
    rows = [line.split() for line in lines[header + 2:header + 12]]
    assert [row[0] for row in rows] == columns
    payload = cli.json(["evaluate", str(out), "--data", str(folder)])
    assert [[int(v) for v in row[1:]] for row in rows] == payload["confusion"]
    assert "T-shi = T-shirt/top" in text and "Ankle = Ankle boot" in text
    assert "Ankle boot" in text and "precision" in text


def test_json_classes_and_per_class_match_numpy(cli, ten_class):
    import numpy as np

    out, folder = ten_class
    payload = cli.json(["evaluate", str(out), "--data", str(folder)])
    assert payload["classes"] == FASHION and payload["warnings"] == []
    matrix = np.array(payload["confusion"])  # (true, predicted)
    assert matrix.sum() == payload["n"] == 1200
    for k, scores in enumerate(payload["per_class"]):
        assert scores["support"] == matrix[k].sum() == 120
        assert scores["recall"] == pytest.approx(matrix[k, k] / matrix[k].sum())
        if matrix[:, k].sum():
            assert scores["precision"] == pytest.approx(matrix[k, k] / matrix[:, k].sum())
        else:
            assert scores["precision"] is None


def test_classes_file_overrides(cli, ten_class, tmp_path):
    out, folder = ten_class
    names = tmp_path / "names.txt"
    names.write_text("\n".join(f"class number {k}" for k in range(10)) + "\n")
    payload = cli.json(["evaluate", str(out), "--data", str(folder), "--classes", str(names)])
    assert payload["classes"] == [f"class number {k}" for k in range(10)]
    names.write_text("a\nb\n")
    assert "2 class names for 10 classes" in cli.fails(
        ["evaluate", str(out), "--data", str(folder), "--classes", str(names)])


def test_plot_draws_matrix_and_mistakes(cli, ten_class, tmp_path, monkeypatch):
    from chainrule.cli import plots

    out, folder = ten_class
    seen = {}
    original = plots.evaluation_figure

    def spy(matrix, names, **kwargs):
        seen.update(matrix=matrix, names=names, **kwargs)
        return original(matrix, names, **kwargs)

    monkeypatch.setattr(plots, "evaluation_figure", spy)
    png = tmp_path / "cm.png"
    payload = cli.json(["evaluate", str(out), "--data", str(folder), "--plot", str(png)])
    assert png.read_bytes().startswith(b"\x89PNG")
    assert seen["matrix"] == payload["confusion"] and seen["names"] == FASHION
    wrong = payload["n"] - sum(payload["confusion"][k][k] for k in range(10))
    assert len(seen["images"]) == len(seen["true"]) == len(seen["predicted"]) == wrong
    assert seen["images"].shape[1:] == (1, 4, 4)
    assert all(t != p for t, p in zip(seen["true"], seen["predicted"], strict=True))
    assert all(0 <= c <= 1 for c in seen["confidence"])


def test_plot_path_checked_before_work(cli, blobs_checkpoint, tmp_path):
    out, _ = blobs_checkpoint
    assert "expected a .png" in cli.fails(["evaluate", str(out), "--data", "blobs", "--plot",
                                           str(tmp_path / "cm.jpg")])
    assert "--plot" in cli.fails(["evaluate", str(out), "--data", "blobs", "--plot",
                                  str(tmp_path / "missing" / "cm.png")])


def test_2d_plot_has_no_images(cli, blobs_checkpoint, tmp_path):
    out, _ = blobs_checkpoint
    png = tmp_path / "blobs.png"
    cli.run(["evaluate", str(out), "--data", "blobs", "--plot", str(png)])
    assert png.read_bytes().startswith(b"\x89PNG")


def test_warns_when_data_differ_from_training(cli, tmp_path):
    out = tmp_path / "xor.npz"
    cli.json(["train", "mlp:2-4-2", "--data", "xor", "--epochs", "1", "--out", str(out)])
    result = cli.run(["evaluate", str(out), "--data", "moons"])
    assert "warning: trained on 'xor', not 'moons'" in result.stderr
    assert cli.json(["evaluate", str(out), "--data", "moons"])["trained_on"] == "xor"
    assert "warning" not in cli.run(["evaluate", str(out), "--data", "xor"]).stderr


def test_warns_when_same_name_holds_other_data(cli, ten_class, tmp_path):
    out, _ = ten_class
    other = _write_ten_class_set(tmp_path / "fashion-mnist", seed=1)
    result = cli.run(["evaluate", str(out), "--data", str(other)])
    assert "warning: these data differ from the " in result.stderr


def test_old_checkpoint_without_classes_still_evaluates(cli, ten_class, tmp_path):
    import json

    import numpy as np

    out, folder = ten_class
    with np.load(out) as archive:
        arrays = {key: archive[key] for key in archive.files}
    meta = json.loads(str(arrays["meta"]))
    del meta["data"]["classes"], meta["data"]["fingerprint"]
    arrays["meta"] = np.array(json.dumps(meta))
    old = tmp_path / "old.npz"
    np.savez(old, **arrays)
    payload = cli.json(["evaluate", str(old), "--data", str(folder)])
    assert payload["classes"] == FASHION and payload["warnings"] == []


def test_abbreviations_are_distinct():
    from chainrule.cli.commands.evaluate import abbreviations

    assert abbreviations(["Sneaker", "Sneakers"], 5) == ["Snea0", "Snea1"]
    assert abbreviations(["T-shirt/top", "Bag"], 5) == ["T-shi", "Bag"]


def test_many_classes_print_in_blocks_that_fit_80_columns():
    from rich.console import Console

    from chainrule.cli.commands.evaluate import _confusion_lines

    counts = [[1000 + i * 20 + j for j in range(20)] for i in range(20)]
    console = Console(width=80, record=True)
    for line in _confusion_lines(counts, [f"class {k}" for k in range(20)]):
        console.print(line, crop=False)  # as emit prints: a long line would stay long
    lines = console.export_text().splitlines()
    assert max(map(len, lines)) <= 80
    shown, columns = {}, []
    legend = next(i for i, line in enumerate(lines) if line.startswith("0 = class 0 · 1 = "))
    for line in lines[1:legend]:
        cells = [int(cell) for cell in line.split()]
        if line.startswith(" "):  # a block's header: its predicted classes
            columns = cells
        else:  # a row: the true class, then one count per column of the block
            shown |= {(cells[0], j): v for j, v in zip(columns, cells[1:], strict=True)}
    assert shown == {(i, j): counts[i][j] for i in range(20) for j in range(20)}


def test_csv_header_names_the_classes(cli, tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 2))
    rows = [f"{a:.3f},{b:.3f},{int(a > 0)}" for a, b in x]
    data = tmp_path / "sides.csv"
    data.write_text("a,b,side:left|right\n" + "\n".join(rows) + "\n")
    out = tmp_path / "sides.npz"
    cli.json(["train", "mlp:2-2", "--data", str(data), "--epochs", "1", "--out", str(out)])
    payload = cli.json(["evaluate", str(out), "--data", str(data)])
    assert payload["classes"] == ["left", "right"] and payload["warnings"] == []
    data.write_text("a,b,side:left|right|up\n" + "\n".join(rows) + "\n")
    assert "3 class names for 2 classes" in cli.fails(["evaluate", str(out), "--data",
                                                       str(data)])


@pytest.mark.parametrize(("classes", "message"), [
    (["a"], "1 class names for 10 classes"),
    ("abc", "data.classes must be a list of names"),
    (["x"] * 10, "class names must differ"),
])
def test_damaged_class_names_are_refused(cli, ten_class, tmp_path, classes, message):
    import json

    import numpy as np

    out, folder = ten_class
    with np.load(out) as archive:
        arrays = {key: archive[key] for key in archive.files}
    meta = json.loads(str(arrays["meta"]))
    meta["data"]["classes"] = classes
    arrays["meta"] = np.array(json.dumps(meta))
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    line = cli.fails(["evaluate", str(bad), "--data", str(folder)])
    assert "damaged metadata" in line and message in line


def test_evaluate_runs_one_forward_pass_for_accuracy_and_loss(cli, blobs_checkpoint, monkeypatch):
    """The loss and the predictions come from the same pass: Network.forward is never called."""
    from chainrule.train.network import Network

    def second_pass(self, x):
        raise AssertionError("evaluate ran a second forward pass")

    monkeypatch.setattr(Network, "forward", second_pass)
    out, trained = blobs_checkpoint
    result = cli.json(["evaluate", str(out), "--data", "blobs"])
    assert result["test_acc"] == trained["test_acc"] and result["loss"] > 0
