"""Fashion-MNIST/MNIST discovery: $CHAINRULE_DATA, the user data folder, the Debian folder."""

import numpy as np
import pytest
from test_data_idx import write_set

from chainrule.train.data import discovery, load_dataset
from chainrule.train.data.discovery import MissingData


@pytest.fixture
def nowhere(monkeypatch, tmp_path):
    monkeypatch.delenv("CHAINRULE_DATA", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setitem(discovery.SYSTEM_DIRS, "fashion-mnist", [tmp_path / "system"])
    return tmp_path


def test_missing_fashion_says_how_to_get_it(nowhere):
    with pytest.raises(MissingData) as info:
        load_dataset("fashion-mnist")
    message = str(info.value)
    assert "apt-get install dataset-fashion-mnist" in message and "CHAINRULE_DATA" in message
    assert "\n" not in message


def test_missing_mnist_names_chainrule_data(nowhere):
    with pytest.raises(MissingData, match="CHAINRULE_DATA"):
        load_dataset("mnist")


@pytest.mark.parametrize("where", ["env", "env_sub", "user", "system"])
def test_search_order(nowhere, monkeypatch, where):
    folders = {"env": nowhere / "env", "env_sub": nowhere / "env" / "fashion-mnist",
               "user": nowhere / "xdg" / "chainrule" / "fashion-mnist", "system": nowhere / "system"}
    write_set(folders[where], n_train=4 + len(where))
    if where.startswith("env"):
        monkeypatch.setenv("CHAINRULE_DATA", str(nowhere / "env"))
    data = load_dataset("fashion-mnist")
    assert len(data.x_train) == 4 + len(where)


def test_chainrule_data_comes_first(nowhere, monkeypatch):
    write_set(nowhere / "system", n_train=7)
    write_set(nowhere / "env", n_train=9)
    monkeypatch.setenv("CHAINRULE_DATA", str(nowhere / "env"))
    assert len(load_dataset("fashion-mnist").x_train) == 9


def test_mnist_from_chainrule_data(nowhere, monkeypatch):
    write_set(nowhere / "env" / "mnist", n_train=8)
    monkeypatch.setenv("CHAINRULE_DATA", str(nowhere / "env"))
    assert load_dataset("mnist").x_train.shape == (8, 1, 6, 6)


REAL = discovery.Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(discovery.idx_files(REAL) is None, reason="dataset-fashion-mnist not installed")
def test_real_fashion_mnist(monkeypatch):
    monkeypatch.delenv("CHAINRULE_DATA", raising=False)
    data = load_dataset("fashion-mnist")
    assert data.x_train.shape == (60000, 1, 28, 28) and data.x_test.shape == (10000, 1, 28, 28)
    assert data.n_classes == 10
    np.testing.assert_array_equal(np.bincount(data.y_test), [1000] * 10)
    assert data.x_train.dtype == np.float32
    assert float(data.x_train.mean()) == pytest.approx(0.0, abs=1e-4)
    assert float(data.x_train.std()) == pytest.approx(1.0, abs=1e-3)
    assert data.input_norm == pytest.approx((0.2860, 0.3530), abs=1e-4)  # Xiao et al.'s figures


@pytest.mark.skipif(discovery.idx_files(REAL) is None, reason="dataset-fashion-mnist not installed")
def test_real_fashion_mnist_trains_a_few_batches(monkeypatch):
    from chainrule.train.session import TrainOptions, start

    monkeypatch.delenv("CHAINRULE_DATA", raising=False)
    session = start("mlp:784-16-10", "fashion-mnist",
                    TrainOptions(epochs=1, batch=64, lr=0.1, limit=640, seed=0))
    assert session.batches.x_train.shape == (640, 784)
    assert session.batches.t_train.shape == (640, 10)
    stats = session.run().history[0]
    assert stats.loss < 2.3  # below ln 10, the loss of a uniform guess
    assert stats.test_acc > 0.3  # ten classes: chance is 0.1
