"""Parameter counting (E16, E17) in the Keras and the LeCun (1998) conventions."""

from __future__ import annotations

import pytest

from chainrule.derive.params import count_params, layer_names
from chainrule.derive.spec import parse_spec
from chainrule.errors import ChainruleError


def counts(model: str, convention: str = "keras") -> dict[str, int]:
    return {row.name: row.params for row in count_params(parse_spec(model),
                                                         convention=convention).layers}


def test_dense_is_n_out_times_n_in_plus_one() -> None:
    summary = count_params(parse_spec("mlp:784-128-10"))
    assert [row.params for row in summary.layers] == [128 * 785, 10 * 129]
    assert summary.total == 128 * 785 + 10 * 129
    assert summary.layers[0].formula == "128·(784+1) = 100,480"


def test_conv_is_filters_times_kernel_area_times_channels_plus_one() -> None:
    row = count_params(parse_spec("cnn:3x32x32-conv3x3x8s2p1")).layers[0]
    assert (row.params, row.output_shape) == (8 * (3 * 3 * 3 + 1), (8, 16, 16))


def test_lenet5_keras() -> None:
    assert counts("lenet5") == {"C1": 156, "S2": 0, "C3": 2416, "S4": 0, "C5": 48120,
                                "flatten_1": 0, "F6": 10164, "OUTPUT": 850}


def test_lenet5_paper() -> None:
    assert counts("lenet5", "paper") == {"C1": 156, "S2": 12, "C3": 1516, "S4": 32, "C5": 48120,
                                         "flatten_1": 0, "F6": 10164, "OUTPUT": 850}


def test_paper_convention_leaves_max_pooling_without_parameters() -> None:
    assert counts("cnn:1x8x8-maxpool2", "paper") == {"maxpool_1": 0}
    assert counts("cnn:2x8x8-avgpool2", "paper") == {"avgpool_1": 4}


def test_names_are_numbered_per_kind() -> None:
    spec = parse_spec("cnn:1x12x12-conv3x3x2-maxpool2-conv3x3x4-dense5-dense2")
    assert layer_names(spec) == ["conv_1", "maxpool_1", "conv_2", "flatten_1", "dense_1",
                                 "dense_2"]


def test_unknown_convention() -> None:
    with pytest.raises(ChainruleError, match="keras or paper"):
        count_params(parse_spec("lenet5"), convention="caffe")


@pytest.mark.parametrize("convention", ["keras", "paper"])
def test_lenet5_note_is_for_lenet5_only(convention: str) -> None:
    """Issue 8: every summary ended with "C3 fully connected to S2's maps", even mlp:784-30."""
    for model in ("mlp:784-30", "cnn:1x12x12-conv3x3x2-avgpool2-dense5"):
        assert "C3" not in count_params(parse_spec(model), convention=convention).convention_note
    assert "C3" in count_params(parse_spec("lenet5"), convention=convention).convention_note


def test_summary_command_prints_the_lenet5_note_for_lenet5_only(cli) -> None:
    assert "C3" not in cli.run(["summary", "mlp:784-30"]).stdout
    assert "C3 fully connected" in cli.run(["summary", "lenet5"]).stdout
