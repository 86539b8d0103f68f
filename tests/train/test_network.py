"""Networks built from specs: parameters, seeding, forward, gradients, dropout and dtypes."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import central_difference, rel_err

from chainrule.derive.spec import parse_spec
from chainrule.errors import ChainruleError
from chainrule.train.network import build_network
from chainrule.train.optim import make_optimizer

CNN = "cnn:1x8x8-conv3x3x2-maxpool2-dense3"


def test_mlp_params_are_ordered_and_shaped() -> None:
    net = build_network(parse_spec("mlp:4-5-3"))
    assert list(net.params) == ["layer0.weight", "layer0.bias", "layer1.weight", "layer1.bias"]
    assert net.params["layer0.weight"].shape == (5, 4)
    assert net.params["layer1.bias"].shape == (3,)
    assert net.dtype == np.float32 and net.output_activation == "softmax"
    assert net.activation == "relu"


def test_lenet5_shapes_and_counts_e17() -> None:
    net = build_network(parse_spec("lenet5"))
    assert net.activation == "tanh"
    assert net.params["layer0.weight"].shape == (6, 1, 5, 5)
    counts = {name.split(".")[0]: 0 for name in net.params}
    for name, value in net.params.items():
        counts[name.split(".")[0]] += value.size
    assert counts["layer4"] == 48_120  # C5 = 400·120 + 120
    assert counts["layer6"] == 10_164  # F6 = 120·84 + 84
    assert net.forward(np.zeros((2, 1, 28, 28))).shape == (2, 10)


def test_same_seed_same_bits_and_dtypes_share_the_draw() -> None:
    a = build_network(parse_spec(CNN), seed=5)
    b = build_network(parse_spec(CNN), seed=5)
    c = build_network(parse_spec(CNN), seed=6)
    d = build_network(parse_spec(CNN), seed=5, dtype=np.float64)
    for name in a.params:
        assert a.params[name].tobytes() == b.params[name].tobytes()
        np.testing.assert_array_equal(a.params[name], d.params[name].astype(np.float32))
    assert not np.array_equal(a.params["layer0.weight"], c.params["layer0.weight"])


def test_he_and_xavier_scales() -> None:
    relu = build_network(parse_spec("mlp:400-300-10"), activation="relu")
    tanh = build_network(parse_spec("mlp:400-300-10"), activation="tanh")
    assert np.std(relu.params["layer0.weight"]) == pytest.approx(np.sqrt(2 / 400), rel=0.05)
    bound = np.sqrt(6 / 700)
    assert np.abs(tanh.params["layer0.weight"]).max() <= bound
    assert np.std(tanh.params["layer0.weight"]) == pytest.approx(bound / np.sqrt(3), rel=0.05)


def test_forward_is_softmax_and_matches_training_predictions() -> None:
    net = build_network(parse_spec(CNN), dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((4, 1, 8, 8))
    probs = net.forward(x)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)
    _, _, predictions = net.loss_and_gradients(x, np.array([0, 1, 2, 0]))
    np.testing.assert_array_equal(predictions, probs)


def test_numpy_reference_forward_for_an_mlp() -> None:
    net = build_network(parse_spec("mlp:3-4-2"), activation="sigmoid", loss="mse", seed=2,
                        dtype=np.float64)
    net.params["layer0.bias"][:] = [0.1, -0.2, 0.3, 0.0]
    x = np.random.default_rng(1).standard_normal((5, 3))
    w0, b0 = net.params["layer0.weight"], net.params["layer0.bias"]
    w1, b1 = net.params["layer1.weight"], net.params["layer1.bias"]
    hidden = 1 / (1 + np.exp(-(x @ w0.T + b0)))
    expected = hidden @ w1.T + b1  # linear output for mse
    np.testing.assert_allclose(net.forward(x), expected, rtol=1e-12)
    t = np.ones((5, 2))
    loss, _, _ = net.loss_and_gradients(x, t)
    assert loss == pytest.approx(np.mean(np.mean((t - expected) ** 2, axis=1)), rel=1e-12)


def test_gradients_match_finite_differences_with_dropout_mask() -> None:
    net = build_network(parse_spec("mlp:4-6-5-3"), activation="tanh", dropout=0.5,
                        dtype=np.float64, seed=3)
    x = np.random.default_rng(2).standard_normal((3, 4))
    y = np.array([2, 0, 1])

    def loss_at(name: str):
        def f(value: np.ndarray) -> float:
            saved = net.params[name].copy()
            net.params[name][...] = value
            loss = net.loss_and_gradients(x, y, rng=np.random.default_rng(9))[0]
            net.params[name][...] = saved
            return loss
        return f

    _, grads, _ = net.loss_and_gradients(x, y, rng=np.random.default_rng(9))
    for name, value in net.params.items():
        assert rel_err(grads[name], central_difference(loss_at(name), value)) < 1e-7, name


def test_dropout_changes_training_but_not_inference() -> None:
    net = build_network(parse_spec("mlp:4-50-3"), dropout=0.5, dtype=np.float64)
    x = np.random.default_rng(2).standard_normal((3, 4))
    y = np.array([2, 0, 1])
    plain = net.loss_and_gradients(x, y)[0]
    dropped = net.loss_and_gradients(x, y, rng=np.random.default_rng(0))[0]
    assert plain != dropped
    assert plain == net.loss_and_gradients(x, y, rng=None)[0]
    np.testing.assert_array_equal(net.forward(x), net.loss_and_gradients(x, y)[2])


def test_inverted_dropout_keeps_the_mean() -> None:
    net = build_network(parse_spec("mlp:1-4000-1"), activation="linear", loss="mse",
                        dropout=0.3, dtype=np.float64)
    net.params["layer0.weight"][:] = 1.0
    net.params["layer1.weight"][:] = 1.0 / 4000
    x = np.ones((1, 1))
    _, _, with_mask = net.loss_and_gradients(x, np.zeros((1, 1)), rng=np.random.default_rng(1))
    assert with_mask[0, 0] == pytest.approx(1.0, abs=0.03)  # E[mask/p] = 1


@pytest.mark.parametrize("spec", ["mlp:4-5-3", CNN, "lenet5"])
def test_float32_agrees_with_float64(spec: str) -> None:
    model = parse_spec(spec)
    low = build_network(model, dtype=np.float32, seed=4)
    high = build_network(model, dtype=np.float64, seed=4)
    x = np.random.default_rng(3).standard_normal((4, *model.input_shape))
    y = np.array([0, 1, 2, 1])
    low.params["layer0.bias"][:] = 0.1  # exercise the biases too
    high.params["layer0.bias"][:] = 0.1
    loss32, grads32, pred32 = low.loss_and_gradients(x, y)
    loss64, grads64, pred64 = high.loss_and_gradients(x, y)
    assert grads32["layer0.weight"].dtype == np.float32
    assert abs(loss32 - loss64) < 1e-3
    np.testing.assert_allclose(pred32, pred64, atol=1e-3)
    for name in grads64:
        assert np.max(np.abs(grads32[name] - grads64[name])) < 1e-3, name


def test_flat_inputs_are_reshaped_and_labels_one_hot() -> None:
    net = build_network(parse_spec(CNN), dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((2, 64))
    np.testing.assert_array_equal(net.forward(x), net.forward(x.reshape(2, 1, 8, 8)))
    assert net.loss_and_gradients(x, np.array([1, 2]))[0] == \
        net.loss_and_gradients(x, np.eye(3)[[1, 2]])[0]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"loss": "none"}, "cannot train a network"),
    ({"loss": "mse", "output_activation": "softmax"}, "does not fit loss"),
    ({"activation": "swish"}, "unknown activation 'swish'"),
    ({"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
    ({"dtype": np.int32}, "dtype must be float32 or float64"),
    ({"device": "tpu"}, "unknown device"),
])
def test_bad_choices_raise_one_clear_error(kwargs: dict, message: str) -> None:
    with pytest.raises(ChainruleError, match=message):
        build_network(parse_spec("mlp:4-5-3"), **kwargs)


def test_bad_shapes_raise_clear_errors() -> None:
    net = build_network(parse_spec("mlp:4-5-3"))
    with pytest.raises(ChainruleError, match=r"input of shape \(2, 5\) does not fit"):
        net.forward(np.zeros((2, 5)))
    with pytest.raises(ChainruleError, match=r"targets of shape \(2, 4\) do not fit"):
        net.loss_and_gradients(np.zeros((2, 4)), np.zeros((2, 4)))
    with pytest.raises(ChainruleError, match="must end with a dense layer"):
        build_network(parse_spec("cnn:1x8x8-conv3x3x2"))


def test_training_steps_are_bit_identical() -> None:
    def train(seed: int) -> dict[str, np.ndarray]:
        net = build_network(parse_spec("cnn:2x9x9-conv3x3x4-maxpool2-dense8-dense3"), seed=seed,
                            dropout=0.2)
        optimizer = make_optimizer("sgd", net.params, lr=0.1)
        rng = np.random.default_rng(1)
        x = rng.standard_normal((16, 2, 9, 9))
        y = rng.integers(0, 3, 16)
        for _ in range(3):
            net.train_step(x, y, optimizer, rng=rng)
        return net.params

    first, second = train(3), train(3)
    assert all(first[k].tobytes() == second[k].tobytes() for k in first)


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_avg_pool_fused_with_conv_gives_the_same_bits(
        monkeypatch: pytest.MonkeyPatch, dropout: float) -> None:
    from chainrule.kernels import lowering

    spec = parse_spec("cnn:2x11x11-conv3x3x4p1-avgpool2-conv3x3x3-avgpool2-dense3")

    def step() -> tuple[float, dict[str, np.ndarray], np.ndarray]:
        net = build_network(spec, seed=5, dropout=dropout, activation="tanh")
        rng = np.random.default_rng(2)
        x = rng.standard_normal((6, 2, 11, 11)).astype(np.float32)  # 11 = 2·5 + 1: a row no
        return net.loss_and_gradients(x, rng.integers(0, 3, 6), rng=rng)  # window covers

    loss, fused, predictions = step()
    net = build_network(spec)
    assert [type(layer).__name__ for layer in net.layers].count("ConvAvgPool") == 2
    monkeypatch.delitem(lowering._FUSIONS, ("conv", "pool", "cpu"))
    assert "ConvAvgPool" not in [type(layer).__name__ for layer in build_network(spec).layers]
    loss_separate, separate, predictions_separate = step()  # unfused
    assert loss == loss_separate
    assert predictions.tobytes() == predictions_separate.tobytes()
    assert all(fused[k].tobytes() == separate[k].tobytes() for k in fused)


FUSED_CASES = [("mlp:4-5-3", (6, 4), 0.2),
               ("cnn:2x11x11-conv3x3x4p1-avgpool2-conv3x3x3-avgpool2-dense3", (5, 2, 11, 11), 0.0),
               ("cnn:8x6x6-conv3x3x8-maxpool2-dense3", (5, 8, 6, 6), 0.0),  # im2col conv
               ("cnn:2x5x5-conv5x5x4-dense3", (4, 2, 5, 5), 0.3)]  # a conv that is a dense layer


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize(("spec", "shape", "dropout"), FUSED_CASES)
def test_fused_step_equals_gradients_then_step_bit_for_bit(spec: str, shape: tuple[int, ...],
                                                           dropout: float, optimizer: str) -> None:
    """The step fused into the backward pass against the same rules run on stored gradients."""
    def run(fused: bool) -> dict[str, np.ndarray]:
        net = build_network(parse_spec(spec), seed=2, dropout=dropout)
        opt = make_optimizer(optimizer, net.params, lr=0.05, l2=0.01, l1=0.001)
        data, masks = np.random.default_rng(0), np.random.default_rng(1)
        x, y = data.standard_normal(shape), data.integers(0, 3, shape[0])
        for _ in range(3):
            if fused:
                assert net.train_step(x, y, opt, rng=masks)[2] == 0
            else:
                _, grads, _ = net.loss_and_gradients(x, y, rng=masks)
                opt.step(net.params, grads)
        return net.params

    fused, separate = run(True), run(False)
    assert all(fused[k].tobytes() == separate[k].tobytes() for k in fused)
    assert any(not np.array_equal(fused[k], build_network(parse_spec(spec), seed=2).params[k])
               for k in fused)  # the steps moved the weights


def test_train_step_with_a_nan_loss_leaves_the_weights() -> None:
    net = build_network(parse_spec("mlp:2-3-1"), loss="mse")
    before = {k: v.copy() for k, v in net.params.items()}
    loss, _, _ = net.train_step(np.array([[0.5, 1.0]]), np.array([[np.nan]]),
                                make_optimizer("sgd", net.params, lr=0.1))
    assert np.isnan(loss)
    assert all(np.array_equal(before[k], net.params[k]) for k in before)


def test_train_step_counts_weights_that_overflow() -> None:
    net = build_network(parse_spec("mlp:2-3-1"), loss="mse", activation="relu")
    x, t = np.array([[1e18, 1e18]]), np.array([[0.0]])
    assert net.train_step(x, t, make_optimizer("sgd", net.params, lr=1e30))[2] > 0


def test_a_new_loss_is_one_registry_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    # trainable, default output and the listed names all come from the entry: no side table
    import sympy as sp

    from chainrule.derive import losses
    from chainrule.train.network import resolve_choices

    quarter = losses.Loss("quarter_se", (losses.T - losses.A) ** 2 / 4,
                          sp.Sum((losses.T_VEC[losses.I] - losses.S_VEC[losses.I]) ** 2,
                                 (losses.I, 0, losses.N - 1)) / 4, "quarter squared error",
                          "power", "tanh")
    monkeypatch.setitem(losses.LOSSES, "quarter_se", quarter)
    spec = parse_spec("mlp:4-5-3")
    assert resolve_choices(spec, None, "quarter_se", None) == ("relu", "tanh", "quarter_se")
    assert quarter.unit_factor(3) == 1.0  # Σ over the units, each ¼(t − a)²
    with pytest.raises(ChainruleError, match="expected one of: .*half_mse.*quarter_se$"):
        build_network(spec, loss="none")
