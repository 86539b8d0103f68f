"""``chainrule show filters|features``: a tiny conv net's figures, checked against its weights and
against a NumPy convolution; bad input is one line and exit 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chainrule.train.data import write_idx

SPEC = "cnn:1x6x6-conv3x3x2-avgpool2-dense2"  # conv + pool: one lowered layer or two


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 6×6 IDX data set and a conv checkpoint trained 1 epoch on it."""
    from typer.testing import CliRunner

    from chainrule.cli.main import load_commands

    app = load_commands()

    root = tmp_path_factory.mktemp("show")
    folder = root / "set"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 8), ("t10k", 4)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 6, 6),
                                                                       dtype=np.uint8))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", (np.arange(n) % 2).astype(np.uint8))
    checkpoint = root / "c.npz"
    result = CliRunner().invoke(app, ["train", SPEC, "--data", str(folder), "--epochs", "1",
                                      "--batch", "4", "--out", str(checkpoint)])
    assert result.exit_code == 0, result.output
    return folder, checkpoint


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_show_filters(cli, trained: tuple[Path, Path], tmp_path: Path) -> None:
    _, checkpoint = trained
    target = tmp_path / "filters.png"
    cli.run(["show", "filters", str(checkpoint), "--out", str(target)])
    width, height = _png_size(target)
    assert 200 < width < 800 and 100 < height < 500


def test_feature_maps_match_a_numpy_convolution(trained: tuple[Path, Path]) -> None:
    """The maps are the conv layer's activations: ReLU(W ∗ x + b), computed here by NumPy."""
    from chainrule.cli.commands.show import feature_maps, first_conv
    from chainrule.train.data import load_dataset
    from chainrule.train.prediction import load_model
    from chainrule.train.session import fit_batches

    folder, checkpoint = trained
    network, _ = load_model(checkpoint)
    layer = first_conv(network, checkpoint)
    x = fit_batches(load_dataset(str(folder)), network.spec, dtype=np.dtype(network.dtype)).x_test
    maps = feature_maps(network, x[:1], layer)[0]  # (2, 4, 4)
    w, b = network.params[f"{layer.prefix}.weight"], network.params[f"{layer.prefix}.bias"]
    windows = np.lib.stride_tricks.sliding_window_view(x[0].astype(np.float64), (3, 3),
                                                       axis=(1, 2))  # (1, 4, 4, 3, 3)
    expected = np.einsum("cijkl,fckl->fij", windows, w.astype(np.float64)) + b[:, None, None]
    np.testing.assert_allclose(maps, np.maximum(expected, 0.0), rtol=1e-5, atol=1e-6)


def test_show_features(cli, trained: tuple[Path, Path], tmp_path: Path) -> None:
    folder, checkpoint = trained
    target = tmp_path / "features.png"
    cli.run(["show", "features", str(checkpoint), "--index", "1", "--data", str(folder),
             "--out", str(target)])
    assert _png_size(target)[0] > 300


@pytest.mark.parametrize(("args", "message"), [
    (["--index", "4"], "--index 4 is out of range"),
    (["--index", "-1"], "--index -1 is out of range"),
])
def test_show_features_bad_index(cli, trained: tuple[Path, Path], tmp_path: Path,
                                 args: list[str], message: str) -> None:
    folder, checkpoint = trained
    line = cli.fails(["show", "features", str(checkpoint), "--data", str(folder), *args,
                      "--out", str(tmp_path / "f.png")])
    assert message in line


def test_show_refuses_bad_outputs_and_dense_models(cli, trained: tuple[Path, Path],
                                                   tmp_path: Path) -> None:
    _, checkpoint = trained
    assert "expected a .png" in cli.fails(["show", "filters", str(checkpoint), "--out",
                                           str(tmp_path / "f.pdf")])
    assert "--out FILE.png is required" in cli.fails(["show", "filters", str(checkpoint)])
    dense = tmp_path / "dense.npz"
    cli.run(["train", "mlp:2-2-1", "--data", "xor", "--epochs", "1", "--out", str(dense)])
    assert "has no conv layer" in cli.fails(["show", "filters", str(dense), "--out",
                                             str(tmp_path / "f.png")])


def test_a_conv_lowered_with_its_pool_is_found_inside() -> None:
    """A conv under an average pool may be lowered as one layer holding ``conv``: the maps are
    the conv's output, not the pool's."""
    from types import SimpleNamespace

    from chainrule.cli.commands.show import feature_maps, first_conv
    from chainrule.derive.spec import parse_spec

    spec = parse_spec(SPEC)
    conv = SimpleNamespace(spec=spec.layers[0], forward=lambda params, h, train: h * 2.0)
    fused = SimpleNamespace(conv=conv, forward=lambda params, h, train: h[..., ::2, ::2])
    network = SimpleNamespace(spec=spec, params={}, layers=[fused])
    assert first_conv(network, Path("c.npz")) is conv
    x = np.ones((1, 1, 4, 4))
    np.testing.assert_array_equal(feature_maps(network, x, conv), 2 * x)
