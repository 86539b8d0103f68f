"""Synthetic sets: the deck's numbers (seed 001 xor3, seed 002 line), gates, seeded 2-D sets."""

import numpy as np
import pytest

from chainrule.errors import ChainruleError
from chainrule.train.data import load_dataset, one_hot
from chainrule.train.data.dataset import fit_inputs, fit_targets


def test_xor3_is_the_seed_001_table():
    data = load_dataset("xor3")
    np.testing.assert_array_equal(data.x_train, [[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
    np.testing.assert_array_equal(data.y_train, [0, 1, 1, 0])
    assert data.n_classes == 2


def test_line_is_y_equals_3x_plus_1():
    data = load_dataset("line")
    np.testing.assert_array_equal(data.x_train.ravel(), [-1, 0, 1, 2, 3, 4])
    np.testing.assert_array_equal(data.y_train.ravel(), [-2, 1, 4, 7, 10, 13])
    assert data.task == "regression" and data.n_targets == 1


@pytest.mark.parametrize(("name", "labels"), [("or", [0, 1, 1, 1]), ("and", [0, 0, 0, 1]),
                                              ("nand", [1, 1, 1, 0]), ("xor", [0, 1, 1, 0])])
def test_gates(name, labels):
    data = load_dataset(name)
    np.testing.assert_array_equal(data.x_train, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(data.y_train, labels)


@pytest.mark.parametrize("name", ["moons", "circles", "spirals", "blobs"])
def test_2d_sets_are_seeded_and_split(name):
    a, b, c = load_dataset(name, seed=0), load_dataset(name, seed=0), load_dataset(name, seed=1)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)
    assert a.input_shape == (2,)
    n = len(a.x_train) + len(a.x_test)
    assert len(a.x_test) == round(0.2 * n)
    assert set(np.unique(a.y_train)) == set(range(a.n_classes))


def test_moons_are_two_interleaved_half_circles():
    data = load_dataset("moons")
    x = np.concatenate([data.x_train, data.x_test])
    y = np.concatenate([data.y_train, data.y_test])
    # the upper moon sits around y = 0.64, the lower one around y = -0.14 (means of sin / 0.5 − sin)
    assert x[y == 0, 1].mean() == pytest.approx(2 / np.pi, abs=0.05)
    assert x[y == 1, 1].mean() == pytest.approx(0.5 - 2 / np.pi, abs=0.05)


def test_one_hot_of_label_2_over_10_classes():
    np.testing.assert_array_equal(one_hot(np.array([2]), 10)[0], [0, 0, 1, 0, 0, 0, 0, 0, 0, 0])


def test_fit_inputs_rejects_a_wrong_size():
    data = load_dataset("xor")
    with pytest.raises(ChainruleError, match="has 2 inputs per sample.*expects 3"):
        fit_inputs(data.x_train, (3,), model="mlp:3-4-1", data="xor")


def test_fit_targets_encodings():
    data = load_dataset("blobs")
    assert fit_targets(data, data.y_train[:3], 3, model="m").shape == (3, 3)
    xor = load_dataset("xor")
    np.testing.assert_array_equal(fit_targets(xor, xor.y_train, 1, model="m").ravel(), [0, 1, 1, 0])
    with pytest.raises(ChainruleError, match="3 classes.*4 outputs"):
        fit_targets(data, data.y_train, 4, model="m")


def test_limit_keeps_the_first_samples():
    data = load_dataset("moons").limited(10)
    assert len(data.x_train) == 10 and len(data.x_test) == 40


def test_unknown_data_lists_the_names():
    with pytest.raises(ChainruleError, match="unknown data 'nope'.*xor3.*fashion-mnist"):
        load_dataset("nope")
