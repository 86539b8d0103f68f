"""E20: training on Fashion-MNIST from the CLI reaches the accuracy of the decks (slow; needs the
real data set: ``apt-get install dataset-fashion-mnist`` or ``$CHAINRULE_DATA``).

Run with ``pytest -m slow tests/train/test_fashion_slow.py`` (about 10 minutes on 2 cores).
Measured on the 2-core dev machine (seed 0, test accuracy after 10 epochs):

* ``mlp:784-128-10`` SGD lr 0.1 batch 64 (the issue's command): 0.8626 (seeds 1–3: 0.869, 0.871,
  0.875; a plain NumPy reference of the same run: 0.871). Plain SGD at lr 0.1 oscillates around
  0.86–0.875 here, so this test is expected to FAIL until the acceptance numbers are revisited.
* ``mlp:784-128-10`` Adam lr 0.001 (seed 002's Keras ``compile(optimizer='adam')``): 0.8824.
* ``lenet5`` (tanh, average pooling) SGD lr 0.1: 0.8832; with momentum 0.02: 0.8888, with Adam:
  0.8905 — the 1998 architecture stays under 0.91 in 10 epochs; expected to FAIL.
* a small ReLU/max-pool CNN with 16 and 32 filters, Adam lr 0.001: 0.9118 (about 6 minutes).
"""

import pytest

from chainrule.errors import ChainruleError
from chainrule.train.data.discovery import find_named


def _have_fashion() -> bool:
    try:
        find_named("fashion-mnist")
    except ChainruleError:
        return False
    return True


pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not _have_fashion(), reason="Fashion-MNIST not installed")]
COMMON = ["--data", "fashion-mnist", "--epochs", "10", "--batch", "64"]
SMALL_CNN = "cnn:1x28x28-conv5x5x16p2-maxpool2-conv5x5x32-maxpool2-dense128-dense10"


def _test_acc(cli, args):
    result = cli.json(["train", *args])
    assert len(result["epochs"]) == 10
    return result["test_acc"], [e["test_acc"] for e in result["epochs"]]


def test_e20_mlp_issue_command_reaches_088(cli):
    acc, curve = _test_acc(cli, ["mlp:784-128-10", *COMMON, "--lr", "0.1"])
    assert acc >= 0.88, curve


def test_e20_mlp_keras_settings_reach_088(cli):
    acc, curve = _test_acc(cli, ["mlp:784-128-10", *COMMON, "--optimizer", "adam", "--lr",
                                 "0.001"])
    assert acc >= 0.88, curve


def test_e20_lenet5_reaches_091(cli):
    acc, curve = _test_acc(cli, ["lenet5", *COMMON, "--lr", "0.1"])
    assert acc >= 0.91, curve


def test_e20_small_cnn_reaches_091(cli):
    acc, curve = _test_acc(cli, [SMALL_CNN, *COMMON, "--activation", "relu", "--optimizer", "adam",
                                 "--lr", "0.001"])
    assert acc >= 0.91, curve
