"""gradcheck: every layer type, activation and loss passes in float64; a broken gradient fails."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.derive.activations import ACTIVATIONS
from chainrule.derive.spec import parse_spec
from chainrule.train import gradcheck as gradcheck_module
from chainrule.train.gradcheck import TOLERANCE, gradcheck

LOSSES = ("softmax_ce", "bce", "mse", "half_mse")


@pytest.mark.parametrize("spec", ["mlp:4-5-3", "cnn:1x8x8-conv3x3x2-maxpool2-dense3",
                                  "cnn:2x7x7-conv3x3x3s2p1-avgpool2-flatten-dense2",
                                  "linear:3-2"])
@pytest.mark.parametrize("loss", LOSSES)
def test_layer_types_and_losses_pass(spec: str, loss: str) -> None:
    result = gradcheck(parse_spec(spec), loss=loss)
    assert result.passed, result
    assert result.max_rel_err < TOLERANCE


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_every_activation_passes(activation: str) -> None:
    result = gradcheck(parse_spec("mlp:3-4-4-2"), activation=activation, loss="mse",
                       output_activation=activation)
    assert result.passed, result


def test_lenet5_checks_a_subset_of_every_parameter() -> None:
    result = gradcheck(parse_spec("lenet5"), max_coords=5)
    assert result.passed, result
    assert [c.param for c in result.checks][:2] == ["layer0.weight", "layer0.bias"]
    weight = result.checks[0]
    assert (weight.size, weight.checked) == (150, 5)


def test_a_wrong_gradient_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    original = gradcheck_module.Network.loss_and_gradients

    def broken(self, x, y, *, rng=None):
        loss, grads, predictions = original(self, x, y, rng=rng)
        grads["layer0.weight"] = grads["layer0.weight"] * 1.001
        return loss, grads, predictions

    monkeypatch.setattr(gradcheck_module.Network, "loss_and_gradients", broken)
    result = gradcheck(parse_spec("mlp:4-5-3"))
    assert not result.passed
    failing = {c.param for c in result.checks if c.rel_err >= TOLERANCE}
    assert failing == {"layer0.weight"}


def test_json_shape() -> None:
    payload = gradcheck(parse_spec("mlp:2-2")).to_json()
    assert set(payload) >= {"checks", "max_rel_err", "passed"}
    assert payload["checks"][0]["param"] == "layer0.weight"
    assert isinstance(payload["checks"][0]["rel_err"], float)
    assert np.isfinite(payload["max_rel_err"])
