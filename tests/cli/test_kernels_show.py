"""``chainrule kernels show``: the generated source, its derivation comments, and formats."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np

from chainrule.derive.spec import parse_spec
from chainrule.kernels.registry import get_backend
from chainrule.train.network import build_network
from chainrule.train.optim import Optimizer


def test_json_lists_generated_and_structural_modules(cli) -> None:
    payload = cli.json(["kernels", "show", "lenet5"])
    assert payload["activation"] == "tanh"
    assert payload["output_activation"] == "softmax"
    names = [m["name"] for m in payload["modules"]]
    assert names == ["conv", "pool", "dense", "activation: tanh",
                     "output: softmax + cross-entropy", "update", "epoch steps", "epoch"]
    assert [m["loop"] for m in payload["modules"]] == [False] * 6 + [True, True]
    tanh = payload["modules"][3]
    assert tanh["generated"] is True
    assert "    return 1.0 - (a*a)\n" in tanh["source"]
    conv = payload["modules"][0]
    assert "full convolution of δ with the flipped kernel" in conv["source"]


def test_generated_only_text(cli) -> None:
    result = cli.run(["kernels", "show", "mlp:4-5-3", "--activation", "sigmoid", "--loss", "bce",
                      "--generated-only"])
    assert "BP1: dL/dz = a - t" in result.stdout
    assert "rule 'sigmoid'" in result.stdout
    assert "def weight_grad" not in result.stdout  # the structural modules are left out
    assert "def rows_step" in result.stdout  # BP4 fused with the step is generated


def test_markdown_to_file(cli, tmp_path: Path) -> None:
    target = tmp_path / "kernels.md"
    cli.run(["kernels", "show", "mlp:2-2", "--loss", "mse", "--format", "markdown",
             "--out", str(target)])
    text = target.read_text()
    assert text.startswith("# Kernels for `mlp:2-2`\n")
    assert "## output: linear + mse" in text
    assert "```python\n" in text


def test_bad_input_is_one_line(cli) -> None:
    assert cli.fails(["kernels", "show", "mlp:4-5", "--activation", "swish"]).startswith(
        "error: unknown activation 'swish'")
    assert "'latex' is not one of" in cli.fails(["kernels", "show", "mlp:4-5", "--format", "latex"])


def test_cuda_sources_are_shown_without_a_gpu(cli) -> None:
    payload = cli.json(["kernels", "show", "mlp:4-5-3", "--device", "cuda", "--generated-only"])
    assert payload["device"] == "cuda"
    sources = "".join(m["source"] for m in payload["modules"])
    assert "@cuda.jit(device=True)\ndef g_prime(z, a):" in sources
    assert "def softmax_ce_kernel(" in sources


def test_the_epoch_shown_is_the_module_training_runs(cli) -> None:
    """The compiled epoch printed for a model is, byte for byte, the file its trainer loads."""
    payload = cli.json(["kernels", "show", "mlp:4-5-3", "--activation", "sigmoid"])
    shown = {m["name"]: m for m in payload["modules"]}
    assert "# layer0: dense 4 -> 5, sigmoid" in shown["epoch"]["source"]
    assert "(printed for this model's training loop)" in cli.run(
        ["kernels", "show", "mlp:4-5-3", "--activation", "sigmoid"]).stdout
    net = build_network(parse_spec("mlp:4-5-3"), activation="sigmoid")
    x, t = np.zeros((6, 4)), np.eye(3)[[0, 1, 2, 0, 1, 2]]
    trainer = get_backend("cpu").chunk_trainer(net.chunk_request(x, t, None, Optimizer(lr=0.1)))
    loaded = Path(inspect.getsourcefile(trainer.function.py_func)).read_text()
    assert loaded == shown["epoch"]["source"]


def test_generated_only_and_cuda_show_no_loop(cli) -> None:
    for extra in (["--generated-only"], ["--device", "cuda"]):
        payload = cli.json(["kernels", "show", "mlp:4-5-3", *extra])
        assert not any(m["loop"] for m in payload["modules"])


def test_a_model_that_cannot_train_still_shows_its_kernels_and_no_loop(cli) -> None:
    payload = cli.json(["kernels", "show", "cnn:1x8x8-conv3x3x2-maxpool2"])
    names = [m["name"] for m in payload["modules"]]
    assert names[:2] == ["conv", "pool"] and not any(m["loop"] for m in payload["modules"])
