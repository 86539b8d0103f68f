"""``--activation leaky_relu:0.1`` in every command that takes an activation: derive net and
neuron print α and state its value, train keeps the name in its checkpoint, gradcheck passes, and
kernels show prints α = 0.1 as a constant of the derived expression. Bad values are one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

LEAKY = ["--activation", "leaky_relu:0.1"]


def test_derive_net_prints_alpha_and_states_it(cli) -> None:
    payload = cli.json(["derive", "net", "mlp:2-2-1", *LEAKY])
    assert payload["activation"] == "leaky_relu:0.1"
    hidden = payload["layers"][0]
    bp2 = next(eq for eq in hidden["backward"] if eq["name"] == "BP2")
    assert "alpha" in bp2["sympy"] and "α = 0.1" in bp2["note"]
    assert "KroneckerDelta" not in bp2["sympy"] and "z[p]" not in bp2["sympy"]
    text = cli.run(["derive", "net", "mlp:2-2-1", *LEAKY]).stdout
    assert "α = 0.1" in text and "1/10" not in text


def test_derive_net_default_slope_is_stated(cli) -> None:
    text = cli.run(["derive", "net", "mlp:2-2-1", "--activation", "leaky_relu"]).stdout
    assert "α = 0.01" in text and "1/100" not in text


def test_derive_neuron_takes_the_slope(cli) -> None:
    payload = cli.json(["derive", "neuron", *LEAKY, "--at", "x=[-1],w=[1],b=0,t=1"])
    # z = −1 < 0: ∂a/∂z = α = 0.1, so ∂L/∂w = (a − t)·0.1·x with a = 0.1·(−1)
    assert payload["gradients"]["w"][0] == pytest.approx((-0.1 - 1) * 0.1 * -1)


def test_train_one_epoch_and_the_checkpoint_keeps_the_name(cli, tmp_path: Path) -> None:
    out = tmp_path / "leaky.npz"
    payload = cli.json(["train", "mlp:2-3-3", "--data", "blobs", "--epochs", "1", "--limit", "16",
                        *LEAKY, "--out", str(out)])
    assert payload["activation"] == "leaky_relu:0.1"
    meta = json.loads(str(np.load(out)["meta"]))
    assert meta["model"]["activation"] == "leaky_relu:0.1"
    evaluated = cli.json(["evaluate", str(out), "--data", "blobs"])
    assert np.isfinite(evaluated["loss"])


def test_gradcheck_passes(cli) -> None:
    payload = cli.json(["gradcheck", "mlp:4-3-2", *LEAKY])
    assert payload["passed"] is True and payload["max_rel_err"] < 1e-6


def test_kernels_show_prints_the_slope_from_the_expression(cli) -> None:
    text = cli.run(["kernels", "show", "mlp:4-3-2", *LEAKY, "--generated-only"]).stdout
    assert "leaky_relu(z, 1/10)" in text  # the derived expression, cited
    assert "1.0/10.0" in text  # α printed as a constant
    assert "1.0/100.0" not in text


@pytest.mark.parametrize("command", [["derive", "net", "mlp:2-2-1"], ["derive", "neuron"],
                                     ["gradcheck", "mlp:2-2-1"], ["kernels", "show", "mlp:2-2-1"]])
@pytest.mark.parametrize("value", ["1", "-0.1", "nan", "inf", "x", ""])
def test_bad_slope_is_one_line(cli, command: list[str], value: str) -> None:
    line = cli.fails([*command, "--activation", f"leaky_relu:{value}"])
    assert line == f"error: leaky_relu: α must be a finite number in [0, 1), got {value!r}"
