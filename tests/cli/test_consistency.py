"""One CLI contract across commands: the same --activation default (ReLU; tanh for lenet5),
--format offering only what a command produces, the same parameter names in summary and
gradcheck, and specs that are too short refused."""

from __future__ import annotations

import pytest

from chainrule.derive.net import default_activation
from chainrule.derive.spec import parse_spec
from chainrule.train.network import resolve_choices


@pytest.mark.parametrize("args", [["derive", "net", "mlp:2-3-1"], ["derive", "neuron"],
                                  ["kernels", "show", "mlp:2-3-2", "--generated-only"],
                                  ["train", "mlp:2-3-1", "--data", "xor", "--epochs", "1"]])
def test_every_command_defaults_to_relu(cli, args):
    assert cli.json(args)["activation"] == "relu"


@pytest.mark.parametrize("model", ["mlp:2-3-1", "cnn:1x6x6-conv3x3x2-dense2", "lenet5"])
def test_derivations_and_kernels_share_the_default(model):
    """derive net's default is the one the kernels (train, gradcheck, kernels show) build."""
    spec = parse_spec(model)
    assert resolve_choices(spec, None, "softmax_ce", None)[0] == default_activation(spec)
    assert default_activation(spec) == ("tanh" if model == "lenet5" else "relu")


@pytest.mark.parametrize("command", [["train", "mlp:2-3-1", "--data", "xor"],
                                     ["gradcheck", "mlp:2-3-2"], ["kernels", "show", "mlp:2-3-2"],
                                     ["rules"], ["evaluate", "ck.npz", "--data", "xor"],
                                     ["predict", "ck.npz", "--input", "0,1"]])
def test_format_offers_only_what_the_command_produces(cli, command):
    name = command[:2] if command[0] == "kernels" else command[:1]
    help_text = " ".join(cli.run([*name, "--help"]).stdout.split())
    assert "latex" not in help_text.split("--format")[1][:80]
    assert "'latex' is not one of 'text', 'markdown', 'json'" in \
        cli.fails([*command, "--format", "latex"])


@pytest.mark.parametrize("model", ["mlp:2-3-2", "cnn:1x6x6-conv3x3x2-maxpool2-dense2"])
def test_gradcheck_names_parameters_as_summary_names_layers(cli, model):
    summary = cli.json(["summary", model])
    with_params = [layer["name"] for layer in summary["layers"] if layer["params"] > 0]
    checks = cli.json(["gradcheck", model, "--coords", "2"])["checks"]
    assert [c["param"] for c in checks] == [f"{name}.{kind}" for name in with_params
                                            for kind in ("weight", "bias")]
    assert checks[0]["key"] == "layer0.weight"  # the network's own key, kept beside
    assert with_params[0] in cli.run(["gradcheck", model, "--coords", "2"]).stdout


def test_lenet5_gradcheck_uses_lenet_names(cli):
    checks = cli.json(["gradcheck", "lenet5", "--coords", "1", "--samples", "1"])["checks"]
    assert [c["param"] for c in checks][::2] == ["C1.weight", "C3.weight", "C5.weight",
                                                 "F6.weight", "OUTPUT.weight"]


@pytest.mark.parametrize("command", [["summary", "mlp:784"], ["derive", "net", "mlp:4"],
                                     ["train", "mlp:2", "--data", "xor"]])
def test_an_mlp_spec_with_only_an_input_size_is_refused(cli, command):
    assert "names only the input size" in cli.fails(command)
    assert cli.json(["summary", "linear:3"])["total"] == 4  # linear:N is N → 1 by definition


def test_summary_lenet5_fits_80_columns_with_its_notes_as_footnotes(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    output = cli.run(["summary", "lenet5"]).stdout
    assert max(len(line) for line in output.splitlines()) <= 80
    assert "[1] the 28×28 image padded by 2 → 32×32" in output  # whole, not "ima…"
    assert "…" not in output


def test_kernels_show_prints_code_lines_whole_at_80_columns(cli, monkeypatch):
    """No panel, no wrapping, no cropping: each source line is one output line, so the code
    can be copied from the terminal."""
    monkeypatch.setenv("COLUMNS", "80")
    text = cli.run(["kernels", "show", "mlp:4-5-3", "--generated-only"]).stdout
    modules = cli.json(["kernels", "show", "mlp:4-5-3", "--generated-only"])["modules"]
    printed = {line.rstrip() for line in text.splitlines()}
    source_lines = [line.rstrip() for m in modules for line in m["source"].splitlines()]
    assert max(map(len, source_lines)) > 80  # the case that used to wrap
    assert [line for line in source_lines if line not in printed] == []
    assert "│" not in text


@pytest.mark.parametrize("command", [["derive", "net", "mlp:2-3-1"], ["derive", "neuron"],
                                     ["derive", "expr", "x*y", "--wrt", "x"], ["summary", "mlp:2-3"]])
def test_latex_is_the_body_unless_standalone(cli, command):
    """The same --standalone default everywhere: a body to paste, or a document on request."""
    body = cli.run([*command, "--format", "latex"]).stdout
    document = cli.run([*command, "--format", "latex", "--standalone"]).stdout
    assert "\\documentclass" not in body and "\\documentclass" in document


def test_derive_net_states_the_keep_probability_train_uses(cli):
    """--dropout RATE means the same in derive net and train: the p stated beside the derived
    equations is the scale train's inverted dropout divides kept units by (measured)."""
    import re

    import numpy as np

    from chainrule.train.network import build_network

    rate = 0.25
    payload = cli.json(["derive", "net", "mlp:3-4-2", "--dropout", str(rate)])
    layer = next(item for item in payload["layers"] if item["name"] == "dense_1 dropout")
    stated = float(re.search(r"p = ([0-9.]+), the keep probability", layer["forward"][0]["note"])[1])
    net = build_network(parse_spec("mlp:3-4-2"), activation="linear", dropout=rate,
                        dtype=np.float64)
    x = np.random.default_rng(1).standard_normal((64, 3))
    plain = net.layers[0].forward(net.params, x, train=False)
    dropped = net.layers[0].forward(net.params, x, train=True, rng=np.random.default_rng(2))
    kept = dropped != 0
    assert 0 < kept.sum() < kept.size  # some units dropped, some kept
    np.testing.assert_allclose(dropped[kept] * stated, plain[kept], rtol=1e-12)
    assert stated == 1 - rate
