"""``chainrule predict``: CSV rows, IDX images and a PNG image, fitted to the model's input."""

import json

import numpy as np
import pytest
from matplotlib import image

from chainrule.train.data import write_idx
from chainrule.train.data.images import image_input, resize, to_gray


@pytest.fixture(scope="module")
def xor_checkpoint(cli, tmp_path_factory):
    out = tmp_path_factory.mktemp("predict") / "xor.npz"
    cli.json(["train", "mlp:2-4-1", "--data", "xor", "--epochs", "150", "--batch", "4", "--lr",
              "0.1", "--optimizer", "adam", "--activation", "tanh", "--out", str(out)])
    return out


@pytest.fixture(scope="module")
def image_checkpoint(cli, tmp_path_factory):
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 8), ("t10k", 4)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 6, 6),
                                                                       dtype=np.uint8))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", (np.arange(n) % 3).astype(np.uint8))
    out = folder / "img.npz"
    cli.json(["train", "mlp:36-3", "--data", str(folder), "--epochs", "1", "--out", str(out)])
    return out, folder


def test_csv_rows_with_and_without_label(cli, xor_checkpoint, tmp_path):
    for text in ("0,0\n0,1\n1,0\n1,1\n", "p1,p2,t\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n"):
        path = tmp_path / "p.csv"
        path.write_text(text)
        result = cli.json(["predict", str(xor_checkpoint), "--input", str(path)])
        assert [p["class"] for p in result["predictions"]] == [0, 1, 1, 0]
        assert all(len(p["output"]) == 1 for p in result["predictions"])


def test_idx_images(cli, image_checkpoint):
    out, folder = image_checkpoint
    result = cli.json(["predict", str(out), "--input", str(folder / "t10k-images-idx3-ubyte")])
    assert len(result["predictions"]) == 4
    for p in result["predictions"]:
        assert p["class"] == int(np.argmax(p["output"]))
        assert sum(p["output"]) == pytest.approx(1, abs=1e-5)  # softmax probabilities
    evaluated = cli.json(["evaluate", str(out), "--data", str(folder)])
    labels = np.arange(4) % 3
    assert np.mean([p["class"] for p in result["predictions"]] == labels) == evaluated["test_acc"]


def test_png_is_resized_to_the_model(cli, image_checkpoint, tmp_path):
    out, _ = image_checkpoint
    pixels = np.zeros((12, 12, 3))
    pixels[:6, :6] = 1.0  # a white top-left quarter
    path = tmp_path / "x.png"
    image.imsave(path, pixels)
    result = cli.json(["predict", str(out), "--input", str(path)])
    assert len(result["predictions"]) == 1 and len(result["predictions"][0]["output"]) == 3
    assert "sample" in cli.run(["predict", str(out), "--input", str(path)]).stdout


def test_image_helpers():
    gray = to_gray(np.array([[[255, 0, 0], [0, 255, 0]]], dtype=np.uint8))
    np.testing.assert_allclose(gray, [[0.299, 0.587]])
    np.testing.assert_array_equal(resize(np.arange(16.0).reshape(4, 4), 2, 2),
                                  [[2.5, 4.5], [10.5, 12.5]])
    batch = image_input(np.ones((56, 56)), (784,), model="mlp:784-10")
    assert batch.shape == (1, 784) and batch.dtype == np.float32 and batch.max() == 1.0


def test_bad_input(cli, xor_checkpoint, tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("1,2,3,4\n")
    assert "has 4 inputs per sample" in cli.fails(["predict", str(xor_checkpoint), "--input",
                                                   str(path)])
    png = tmp_path / "x.png"
    image.imsave(png, np.zeros((4, 4, 3)))
    assert "not an image" in cli.fails(["predict", str(xor_checkpoint), "--input", str(png)])
    broken = tmp_path / "broken.idx"
    broken.write_bytes(b"\x00\x00\x08\x03\x00")
    assert "truncated or corrupt" in cli.fails(["predict", str(xor_checkpoint), "--input",
                                                str(broken)])


def _refuse_constant(name):
    raise ValueError(f"non-strict JSON constant {name}")


def test_a_nan_idx_input_is_refused(cli, xor_checkpoint, tmp_path):
    path = write_idx(tmp_path / "nan-idx", np.array([[0.0, np.nan]], np.float32))
    line = cli.fails(["predict", str(xor_checkpoint), "--input", str(path), "--format", "json"])
    assert "non-finite value (nan) at index [0, 1]" in line


def test_huge_idx_values_are_refused(cli, xor_checkpoint, tmp_path):
    path = write_idx(tmp_path / "big-idx", np.array([[0.0, 3e38]], np.float32))
    assert "over the limit of 1e+06" in cli.fails(["predict", str(xor_checkpoint), "--input",
                                                   str(path)])


def test_overflowing_outputs_are_null_in_json(cli, tmp_path):
    out = tmp_path / "line.npz"
    cli.run(["train", "linear:1", "--data", "line", "--epochs", "1", "--out", str(out)])
    with np.load(out) as archive:
        arrays = {key: archive[key] for key in archive.files}
    arrays["param/layer0.weight"] = np.full_like(arrays["param/layer0.weight"], 3e38)
    np.savez(out, **arrays)
    rows = write_idx(tmp_path / "x-idx", np.array([[1.0], [1000.0]], np.float32))
    # 3e38 stays finite in float32; 3e41 overflows
    payload = json.loads(cli.run(["predict", str(out), "--input", str(rows), "--format",
                                  "json"]).stdout, parse_constant=_refuse_constant)
    assert payload["predictions"][0]["output"][0] == pytest.approx(3e38, rel=1e-6)
    assert payload["predictions"][1]["output"] == [None]
    assert payload["non_finite"] == ["predictions[1].output[0]"]


def png_header(width, height):
    """A PNG signature and IHDR chunk declaring width × height 8-bit gray, and no pixel data."""
    import struct
    import zlib

    body = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + body
            + struct.pack(">I", zlib.crc32(body)))


def test_a_20000_square_png_is_refused_from_its_header(cli, image_checkpoint, tmp_path):
    out, _ = image_checkpoint
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header(20000, 20000) + bytes(400_000))
    line = cli.fails(["predict", str(out), "--input", str(path)])
    assert "PNG" in line and "(20000×20000): 400,000,000 pixels is over the limit of 16,777,216" \
        in line and "CHAINRULE_MAX_IMAGE_PIXELS" in line


def test_the_pixel_cap_is_raisable(cli, image_checkpoint, tmp_path, monkeypatch):
    out, _ = image_checkpoint
    path = tmp_path / "small.png"
    image.imsave(path, np.zeros((12, 12)), cmap="gray")
    monkeypatch.setenv("CHAINRULE_MAX_IMAGE_PIXELS", "100")
    assert "144 pixels is over the limit of 100" in cli.fails(["predict", str(out), "--input",
                                                              str(path)])
    monkeypatch.setenv("CHAINRULE_MAX_IMAGE_PIXELS", "144")
    assert len(cli.json(["predict", str(out), "--input", str(path)])["predictions"]) == 1


@pytest.mark.skipif(not __import__("os").path.exists("/dev/zero"), reason="no /dev/zero")
def test_a_device_as_input_is_refused(cli, xor_checkpoint):
    assert "not a regular file" in cli.fails(["predict", str(xor_checkpoint), "--input",
                                              "/dev/zero"])


def test_stdin_is_read_for_dash(cli, xor_checkpoint):
    result = cli.runner.invoke(app_for_stdin(), ["predict", str(xor_checkpoint), "--input", "-",
                                                 "--format", "json"], input="0,0\n1,0\n")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["input"] == "stdin" and [p["class"] for p in payload["predictions"]] == [0, 1]


def app_for_stdin():
    from conftest import app

    return app


# --- class names and probabilities -----------------------------------------------------------------

FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot"]


@pytest.fixture(scope="module")
def fashion_checkpoint(cli, tmp_path_factory):
    """A 10-class model trained on a tiny IDX folder named fashion-mnist (so it gets the names)."""
    folder = tmp_path_factory.mktemp("named") / "fashion-mnist"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for prefix, n in (("train", 20), ("t10k", 10)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 6, 6),
                                                                       dtype=np.uint8))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", (np.arange(n) % 10).astype(np.uint8))
    out = folder.parent / "fm.npz"
    cli.json(["train", "mlp:36-10", "--data", str(folder), "--epochs", "1", "--out", str(out)])
    return out, folder


def test_json_names_and_probabilities(cli, fashion_checkpoint):
    out, folder = fashion_checkpoint
    result = cli.json(["predict", str(out), "--input", str(folder / "t10k-images-idx3-ubyte")])
    assert result["classes"] == FASHION
    for p in result["predictions"]:
        assert p["name"] == FASHION[p["class"]] and p["probabilities"] == p["output"]
        assert p["class"] == int(np.argmax(p["probabilities"]))


def test_text_top_three_by_name(cli, fashion_checkpoint, monkeypatch):
    out, folder = fashion_checkpoint
    monkeypatch.setenv("COLUMNS", "80")
    source = str(folder / "t10k-images-idx3-ubyte")
    payload = cli.json(["predict", str(out), "--input", source])
    text = cli.run(["predict", str(out), "--input", source]).stdout
    assert max(map(len, text.splitlines())) <= 80, text
    rows = [line for line in text.splitlines() if line.startswith("│")]
    assert len(rows) == 10
    for row, record in zip(rows, payload["predictions"], strict=True):
        p = np.array(record["output"])
        first, second, third = np.argsort(-p, kind="stable")[:3]
        cells = [cell.strip() for cell in row.strip("│").split("│")]
        assert cells[:3] == [str(record["index"]), FASHION[first], f"{p[first]:.1%}"]
        assert cells[3] == f"{FASHION[second]} {p[second]:.1%}, {FASHION[third]} {p[third]:.1%}"


def test_sigmoid_output_reads_as_two_probabilities(cli, xor_checkpoint, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("0,1\n1,1\n")
    names = tmp_path / "names.txt"
    names.write_text("same\ndifferent\n")
    result = cli.json(["predict", str(xor_checkpoint), "--input", str(path), "--classes",
                       str(names)])
    assert result["classes"] == ["same", "different"]
    for p in result["predictions"]:
        assert p["probabilities"] == pytest.approx([1 - p["output"][0], p["output"][0]])
        assert p["name"] == ["same", "different"][p["class"]]
    assert "different" in cli.run(["predict", str(xor_checkpoint), "--input", str(path),
                                   "--classes", str(names)]).stdout
    names.write_text("one\n")
    assert "1 class names for 2 classes" in cli.fails(
        ["predict", str(xor_checkpoint), "--input", str(path), "--classes", str(names)])
