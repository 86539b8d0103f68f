"""``chainrule kernels show``: the generated source, its derivation comments, and formats."""

from __future__ import annotations

from pathlib import Path


def test_json_lists_generated_and_structural_modules(cli) -> None:
    payload = cli.json(["kernels", "show", "lenet5"])
    assert payload["activation"] == "tanh"
    assert payload["output_activation"] == "softmax"
    names = [m["name"] for m in payload["modules"]]
    assert names == ["conv", "pool", "dense", "activation: tanh",
                     "output: softmax + cross-entropy", "update"]
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
