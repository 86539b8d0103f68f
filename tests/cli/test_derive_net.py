"""``chainrule derive net``: E10 (BP1–BP4 and the update), E18 (pooling backward), LeNet-5 LaTeX."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import assert_compiles, needs_pdflatex


def equations(payload: dict, layer: str) -> dict[str, dict]:
    found = next(item for item in payload["layers"] if item["name"] == layer)
    return {eq["name"]: eq for eq in found["forward"] + found["backward"]}


def test_e10_bp1_to_bp4_and_update(cli) -> None:
    payload = cli.json(["derive", "net", "mlp:4-3-2", "--activation", "sigmoid"])
    hidden, output = equations(payload, "dense_1"), equations(payload, "dense_2")
    assert hidden["BP2"]["sympy"] == ("(1 - sigmoid(z[j]))*sigmoid(z[j])*"
                                      "Sum(delta_next[k]*w_next[k, j], (k, 0, N - 1))")
    assert hidden["BP2"]["rhs"] == "(1 - σ(z[j]))·σ(z[j])·Σ[k=0..N - 1] (δ⁽ˡ⁺¹⁾[k]·w⁽ˡ⁺¹⁾[k,j])"
    assert hidden["BP2"]["matrix"] == "δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ)"
    assert output["BP1"]["matrix"] == "δᴸ = ∇ₐC ⊙ σ′(zᴸ)"
    assert output["BP1"]["rhs"] == "(1 - σ(z[j]))·(a[j] - t[j])·σ(z[j])"
    assert hidden["BP3"]["rhs"] == "δ[j]"
    assert hidden["BP4"]["rhs"] == "a⁽ˡ⁻¹⁾[k]·δ[j]"
    assert [s["rule"] for s in hidden["BP4"]["steps"]] == ["chain", "sum", "simplify"]
    update = equations(payload, "update")
    assert update["update w"]["sympy"] == "-eta*Sum(a_prev[x, k]*delta[x, j], (x, 0, m - 1))/m + w[j, k]"
    assert update["update b"]["sympy"] == "-eta*Sum(delta[x, j], (x, 0, m - 1))/m + b[j]"
    sizes = next(item for item in payload["layers"] if item["name"] == "dense_1")["sizes"]
    assert sizes == {"J": 3, "K": 4, "N": 2}


def test_e18_backprop_through_max_pooling(cli) -> None:
    payload = cli.json(["derive", "net", "cnn:1x28x28-conv5x5x3-maxpool2-dense10"])
    pool = next(item for item in payload["layers"] if item["kind"] == "maxpool")
    assert pool["input_shape"] == [3, 24, 24] and pool["output_shape"] == [3, 12, 12]
    backward = pool["backward"][0]
    assert "M[c, i, j, -i*s + u, -j*s + v]*delta[c, i, j]" in backward["sympy"]
    assert "argmax" in backward["matrix"]
    assert payload["loss"] == "softmax_ce"
    softmax = equations(payload, "softmax + cross-entropy")
    assert softmax["dL/dz"]["rhs"] == "s[j] - t[j]"


def test_regularisation_and_dropout_sections(cli) -> None:
    payload = cli.json(["derive", "net", "mlp:4-3-2", "--l2", "0.01", "--dropout", "0.2"])
    assert equations(payload, "l2 penalty")["dC/dw"]["rhs"] == "λ·w[j,k] + ∂C₀/∂w[j,k]"
    assert equations(payload, "dense_1 dropout")["dC/da"]["rhs"] == "∂C/∂y[j]·μ[j]/p"
    assert "μ[j]" in equations(payload, "dense_1")["BP2"]["rhs"]  # dropout reaches BP2
    assert "y⁽ˡ⁻¹⁾[k]" in equations(payload, "dense_2")["forward z"]["rhs"]


def test_lenet5_is_instantiated_not_expanded(cli) -> None:
    payload = cli.json(["derive", "net", "lenet5"])
    names = [layer["name"] for layer in payload["layers"]]
    assert names[:3] == ["C1", "C1 tanh", "S2"] and "F6" in names
    c5 = next(item for item in payload["layers"] if item["name"] == "C5")
    assert c5["sizes"]["C"] == 16 and c5["sizes"]["F"] == 120
    assert c5["backward"][0]["sympy"].startswith("Sum(")  # a symbolic sum, not 120·400 terms
    assert payload["activation"] == "tanh"


@needs_pdflatex
def test_lenet5_latex_compiles(cli, tmp_path: Path) -> None:
    tex = tmp_path / "lenet5.tex"
    cli.run(["derive", "net", "lenet5", "--format", "latex", "--standalone", "--out", str(tex)])
    assert_compiles(tex)
    assert (tmp_path / "lenet5.pdf").exists()


def test_loss_none_keeps_the_general_bp1_and_mse_keeps_its_mean(cli) -> None:
    general = equations(cli.json(["derive", "net", "mlp:3-2", "--loss", "none", "-a", "sigmoid"]), "dense_1")
    assert general["BP1"]["rhs"] == "(1 - σ(z[j]))·σ(z[j])·∇ₐC[j]"
    mse = equations(cli.json(["derive", "net", "mlp:3-2", "--loss", "mse", "-a", "sigmoid"]), "dense_1")
    assert mse["BP1"]["sympy"] == "(1 - sigmoid(z[j]))*(2*a[j] - 2*t[j])*sigmoid(z[j])/J"


def test_a_cnn_ending_in_a_conv_has_no_dense_update(cli) -> None:
    payload = cli.json(["derive", "net", "cnn:1x8x8-conv3x3x2"])
    assert [layer["kind"] for layer in payload["layers"]] == ["conv", "activation"]
    assert payload["loss"] == "half_mse"


def test_markdown_and_text(cli) -> None:
    markdown = cli.run(["derive", "net", "mlp:3-2", "--format", "markdown"]).stdout
    assert "## dense_1" in markdown and "$$" in markdown
    text = cli.run(["derive", "net", "mlp:3-2"]).stdout
    assert "BP1" in text and "z[j]" in text


@pytest.mark.parametrize(("args", "words"), [
    (["cnn:1x4x4-conv5x5x2"], "larger than its padded input"),
    (["mlp:3-x"], "bad layer size"),
    (["mlp:3-2", "--activation", "swish"], "unknown activation"),
    (["mlp:3-2", "--loss", "hinge"], "unknown loss"),
    (["mlp:3-1", "--loss", "softmax_ce"], "at least 2 outputs"),
    (["mlp:3-2", "--penalty", "l3"], "unknown penalty"),
    (["cnn:1x8x8-conv3x3x2s0"], "at least 1"),
    (["cnn:1x8x8-conv3x3x2", "--loss", "softmax_ce"], "needs a dense output layer"),
])
def test_bad_input_fails_with_one_line(cli, args: list[str], words: str) -> None:
    assert words in cli.fails(["derive", "net", *args])


# --l2 λ, --l1 λ and --dropout RATE mean what they mean in train (issue 11): a nonzero value adds
# the layer, and the value is stated in a note beside the equations that use it.

def notes(payload: dict, layer: str) -> dict[str, str]:
    return {name: eq["note"] for name, eq in equations(payload, layer).items()}


def test_l2_and_dropout_values_are_stated_beside_the_equations(cli) -> None:
    payload = cli.json(["derive", "net", "mlp:4-3-2", "--l2", "0.01", "--dropout", "0.2"])
    penalty = notes(payload, "l2 penalty")
    assert all("λ = 0.01, the L2 penalty strength" in penalty[name]
               for name in ("cost", "dC/dw", "update"))
    dropout = notes(payload, "dense_1 dropout")
    keep = 1.0 - 0.2  # train keeps a unit when a uniform draw is below 1 − rate
    stated = f"p = {keep:g}, the keep probability 1 − rate for dropout rate 0.2"
    assert stated in dropout["forward"] and stated in dropout["dC/da"]
    assert stated in notes(payload, "dense_1")["BP2"]  # BP2 carries μ/p too
    assert "p = " not in notes(payload, "dense_1")["BP3"]  # only where p appears


def test_l1_and_l2_together_give_two_penalty_sections(cli) -> None:
    payload = cli.json(["derive", "net", "mlp:3-2", "--l1", "0.5", "--l2", "0.25"])
    names = [layer["name"] for layer in payload["layers"]]
    assert names == ["dense_1", "l2 penalty", "l1 penalty", "update"]
    assert equations(payload, "l1 penalty")["dC/dw"]["rhs"] == "λ·sign(w[j,k]) + ∂C₀/∂w[j,k]"
    assert "λ = 0.5, the L1 penalty strength" in notes(payload, "l1 penalty")["dC/dw"]
    assert "λ = 0.25, the L2 penalty strength" in notes(payload, "l2 penalty")["dC/dw"]


def test_zero_means_off_as_in_train(cli) -> None:
    payload = cli.json(["derive", "net", "mlp:4-3-2", "--l2", "0", "--l1", "0", "--dropout", "0"])
    assert [layer["name"] for layer in payload["layers"]] == ["dense_1", "dense_2", "update"]
    assert "μ" not in equations(payload, "dense_1")["BP2"]["rhs"]


def test_old_penalty_form_keeps_lambda_symbolic(cli) -> None:
    payload = cli.json(["derive", "net", "mlp:3-2", "--penalty", "l2"])
    assert equations(payload, "l2 penalty")["dC/dw"]["rhs"] == "λ·w[j,k] + ∂C₀/∂w[j,k]"
    assert "λ =" not in notes(payload, "l2 penalty")["dC/dw"]
    assert "give --l2 λ or --penalty l2" in cli.fails(
        ["derive", "net", "mlp:3-2", "--penalty", "l2", "--l2", "0.1"])


@pytest.mark.parametrize(("args", "words"), [
    (["--l2", "-1"], "--l2 must be a finite number ≥ 0 (λ), got -1"),
    (["--l2", "nan"], "--l2 must be a finite number ≥ 0 (λ), got nan"),
    (["--l1", "inf"], "--l1 must be a finite number ≥ 0 (λ), got inf"),
    (["--dropout", "1"], "--dropout must be a rate in [0, 1), got 1"),
    (["--dropout", "-0.1"], "--dropout must be a rate in [0, 1), got -0.1"),
    (["--dropout", "nan"], "--dropout must be a rate in [0, 1), got nan"),
    (["--dropout", "--format", "text"], "--dropout takes the rate, as train does"),
    (["--dropout", "half"], "--dropout takes the rate, as train does"),
    (["--dropout"], "--dropout"),  # the old bare switch, last: still one line, exit 2
])
def test_penalty_and_dropout_values_are_validated(cli, args: list[str], words: str) -> None:
    assert words in cli.fails(["derive", "net", "mlp:4-3-2", *args])


def test_help_states_train_meanings(cli) -> None:
    text = " ".join(cli.run(["derive", "net", "--help"]).stdout.replace("│", " ").split())
    assert "--l2" in text and "--l1" in text and "RATE" in text
    assert "keep probability p = 1 − rate" in text and "0 = off" in text
