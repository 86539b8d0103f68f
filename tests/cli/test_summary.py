"""``chainrule summary``: shapes and parameter counts of E16, E17 and E18 (seed 003) via JSON."""

from __future__ import annotations

import pytest

IMAGE_E18 = "cnn:1x28x28-conv5x5x3-maxpool2-dense10"


def by_name(payload: dict) -> dict[str, dict]:
    return {layer["name"]: layer for layer in payload["layers"]}


def test_e16_conv_5x5_with_20_maps_has_520_parameters(cli) -> None:
    payload = cli.json(["summary", "cnn:1x28x28-conv5x5x20"])
    assert payload["layers"][0]["params"] == 520
    assert payload["layers"][0]["formula"] == "20·(5·5·1+1) = 520"
    assert payload["total"] == 520


def test_e16_dense_784_to_30_has_23550_parameters(cli) -> None:
    payload = cli.json(["summary", "mlp:784-30"])
    assert payload["layers"] == [{"name": "dense_1", "kind": "dense", "output_shape": [30],
                                  "params": 23550, "formula": "30·(784+1) = 23,550",
                                  "note": ""}]
    assert payload["total"] == 23550


def test_e17_lenet5_shapes_and_counts_keras(cli) -> None:
    payload = cli.json(["summary", "lenet5"])
    layers = by_name(payload)
    shapes = {name: layers[name]["output_shape"] for name in ("C1", "S2", "C3", "S4", "C5", "F6",
                                                              "OUTPUT")}
    assert shapes == {"C1": [6, 28, 28], "S2": [6, 14, 14], "C3": [16, 10, 10], "S4": [16, 5, 5],
                      "C5": [120, 1, 1], "F6": [84], "OUTPUT": [10]}
    assert layers["C5"]["params"] == 48120
    assert layers["C5"]["formula"] == "120·(5·5·16+1) = 48,120"
    assert layers["F6"]["params"] == 10164
    assert layers["F6"]["formula"] == "84·(120+1) = 10,164"
    assert layers["C3"]["params"] == 2416 and layers["S2"]["params"] == 0
    assert "32×32" in layers["C1"]["note"]
    assert payload["convention"] == "keras"
    assert payload["total"] == 156 + 2416 + 48120 + 10164 + 850


def test_e17_lenet5_paper_convention(cli) -> None:
    layers = by_name(cli.json(["summary", "lenet5", "--convention", "paper"]))
    assert (layers["C3"]["params"], layers["S2"]["params"], layers["S4"]["params"]) == (1516, 12,
                                                                                          32)
    assert layers["C3"]["formula"] == "(6·3+9·4+1·6)·5·5+16 = 1,516"
    assert layers["C5"]["params"] == 48120 and layers["F6"]["params"] == 10164


def test_e18_shapes(cli) -> None:
    payload = cli.json(["summary", IMAGE_E18])
    assert [layer["output_shape"] for layer in payload["layers"]] == [[3, 24, 24], [3, 12, 12],
                                                                      [432], [10]]
    assert payload["total"] == 3 * 26 + 10 * 433


def test_text_table_shows_formula_and_total(cli) -> None:
    text = cli.run(["summary", "mlp:784-30"]).stdout
    assert "23,550" in text and "total" in text


def test_help_documents_grammar_and_conventions(cli) -> None:
    text = cli.run(["summary", "--help"]).stdout
    for word in ("perceptron:N", "linear:N[-M]", "mlp:N-N", "lenet5", "convKxKxF[sS][pP]",
                 "maxpoolK[sS]", "paper", "keras", "Examples"):
        assert word in text


def test_latex_summary_compiles_markup(cli) -> None:
    text = cli.run(["summary", "lenet5", "--format", "latex"]).stdout
    assert r"48{,}120" in text


@pytest.mark.parametrize("spec", ["mlp:", "cnn:1x28-conv3x3x2", "cnn:1x4x4-conv5x5x2",
                                  "cnn:1x8x8-conv3x3x2s0", "blob", "cnn:1x8x8-conv3x3x2-pool2"])
def test_bad_specs_fail_with_one_line(cli, spec: str) -> None:
    line = cli.fails(["summary", spec])
    assert line.startswith("error: ")


def test_unknown_convention_fails(cli) -> None:
    assert "keras or paper" in cli.fails(["summary", "lenet5", "--convention", "tf"])
