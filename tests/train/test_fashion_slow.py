"""E20: training on Fashion-MNIST from the CLI reaches the accuracy of the decks (slow; needs the
real data set: ``apt-get install dataset-fashion-mnist`` or ``$CHAINRULE_DATA``).

Run with ``pytest -m slow tests/train/test_fashion_slow.py``.
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


def test_e20_mlp_reaches_088(cli):
    result = cli.json(["train", "mlp:784-128-10", "--data", "fashion-mnist", "--epochs", "10",
                       "--batch", "64", "--lr", "0.1"])
    assert len(result["epochs"]) == 10
    assert result["test_acc"] >= 0.88, [e["test_acc"] for e in result["epochs"]]


def test_e20_lenet5_reaches_091(cli):
    result = cli.json(["train", "lenet5", "--data", "fashion-mnist", "--epochs", "10",
                       "--batch", "64", "--lr", "0.1"])
    assert result["test_acc"] >= 0.91, [e["test_acc"] for e in result["epochs"]]
