"""One neuron: E5's quadratic cost, the derived factors, and gradients against central differences."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import central_difference, rel_err

from chainrule.derive.activations import ACTIVATIONS, Z, get_activation
from chainrule.derive.encoding import one_hot
from chainrule.derive.functions import elementary
from chainrule.derive.losses import A, T, get_loss
from chainrule.derive.neuron import derive_neuron, neuron_factors, neuron_loss
from chainrule.derive.printing.latex import latex
from chainrule.derive.rules import RULES
from chainrule.errors import ChainruleError

E5_X = [float(x) for x in range(1, 9)]
E5_T = [2 * x + 4 for x in E5_X]  # data y = 2x + 4


def test_e5_quadratic_cost_over_a_batch() -> None:
    report = derive_neuron("linear", "half_mse", {"x": E5_X, "w": 3.0, "b": 2.0, "t": E5_T})
    assert report.forward["L"] == pytest.approx(92 / 16)
    assert report.forward["L_samples"] == pytest.approx([(t - (3 * x + 2)) ** 2 / 2
                                                        for x, t in zip(E5_X, E5_T, strict=True)])
    # ∂C/∂w = 1/n Σ (a − t) x and ∂C/∂b = 1/n Σ (a − t) for C = 1/(2n) Σ (t − a)²
    errors = [(3 * x + 2) - t for x, t in zip(E5_X, E5_T, strict=True)]
    assert report.gradients["w"] == pytest.approx([sum(e * x for e, x in zip(errors, E5_X,
                                                                              strict=True)) / 8])
    assert report.gradients["b"] == pytest.approx(sum(errors) / 8)


def test_e5_as_a_matrix_batch_is_the_same() -> None:
    rows = [[x] for x in E5_X]
    report = derive_neuron("linear", "half_mse", {"x": rows, "w": [3.0], "b": 2.0, "t": E5_T})
    assert report.forward["L"] == pytest.approx(5.75)


def test_factors_are_sympy_diff_of_the_registry_definitions() -> None:
    for name, act in ACTIVATIONS.items():
        for loss in ("mse", "half_mse", "bce", "none"):
            f = neuron_factors(name, loss)
            assert f.da_dz == sp.diff(act.symbolic, Z)  # α kept as its symbol
            for z in (-1.3, 0.7):  # with α's value in, it is g' of the entry's expression
                assert float(elementary(f.numeric(f.da_dz)).subs(Z, z)) == pytest.approx(
                    float(elementary(sp.diff(act.expr, Z)).subs(Z, z)), rel=1e-12)
            assert f.dl_da == sp.diff(get_loss(loss).scalar, A)


def test_steps_cite_their_rules() -> None:
    report = derive_neuron("sigmoid", "bce")
    rules = [step.rule for step in report.steps]
    assert rules == ["log", "sigmoid", "sigmoid_bce", "sum", "sum", "sum", "chain", "chain",
                     "chain"]
    assert all(rule in RULES for rule in rules)
    assert report.steps[2].after == A - T  # σ with BCE: δ = a − t
    assert derive_neuron("tanh", "mse").steps[1].rule == "tanh"
    assert derive_neuron("linear", "half_mse").steps[1].rule == "identity"
    softmax = derive_neuron(None, "softmax_ce").steps
    assert [step.rule for step in softmax] == ["log", "softmax_jacobian", "chain", "simplify",
                                               "target_sum", "sum", "sum", "sum", "chain",
                                               "chain", "chain"]
    assert all(step.rule in RULES for step in softmax)
    assert not derive_neuron("relu", "mse").forward


def test_single_sample_numbers_follow_the_chain() -> None:
    report = derive_neuron("sigmoid", "half_mse", {"x": [1.0, 2.0], "w": [0.5, -0.3],
                                                   "b": 0.4, "t": 1.0})
    z = 0.5 - 0.6 + 0.4
    a = 1 / (1 + np.exp(-z))
    delta = (a - 1.0) * a * (1 - a)
    assert report.forward["z"] == pytest.approx(z)
    assert report.forward["a"] == pytest.approx(a)
    assert report.gradients["w"] == pytest.approx([delta, 2 * delta])
    assert report.gradients["b"] == pytest.approx(delta)
    assert report.gradients["x"] == pytest.approx([0.5 * delta, -0.3 * delta])
    assert report.step_values()[2] == pytest.approx(delta)


# z = 0.3 for every case: away from every kink, and a = g(0.3) lies in (0, 1) for BCE.
POINT = {"x": [0.5, -1.0, 2.0], "w": [0.4, 0.3, 0.2], "b": 0.2, "t": 0.7}
CASES = [(a, l) for a in ACTIVATIONS for l in ("mse", "half_mse", "bce", "none")
         if not (a == "hardlim" and l == "bce")]  # ln 0 at a ∈ {0, 1}


def _fd_gradients(activation: str, loss: str, values: dict) -> dict[str, np.ndarray]:
    result = {}
    for key in ("w", "b", "x"):
        def f(v: np.ndarray, key: str = key) -> float:
            point = dict(values)
            point[key] = v.tolist() if v.ndim else float(v)
            return neuron_loss(activation, loss, point)

        result[key] = central_difference(f, np.asarray(values[key], dtype=np.float64))
    return result


@pytest.mark.parametrize(("activation", "loss"), CASES)
def test_gradients_match_central_differences(activation: str, loss: str) -> None:
    report = derive_neuron(activation, loss, POINT)
    numeric = _fd_gradients(activation, loss, POINT)
    for key in ("w", "b", "x"):
        exact = np.asarray(report.gradients[key])
        assert exact.shape == numeric[key].shape
        assert np.allclose(exact, numeric[key], rtol=1e-6, atol=1e-8), (key, exact, numeric[key])


@pytest.mark.parametrize(("activation", "loss"), [("sigmoid", "bce"), ("tanh", "mse"),
                                                  ("elu", "half_mse"), ("softplus", "none")])
def test_batch_gradients_match_central_differences(activation: str, loss: str) -> None:
    values = {"x": [[0.5, -1.0], [1.5, 0.3], [-0.7, 0.9]], "w": [0.4, -0.2], "b": 0.1,
              "t": [0.2, 0.9, 0.4]}
    report = derive_neuron(activation, loss, values)
    numeric = _fd_gradients(activation, loss, values)
    for key in ("w", "b", "x"):
        assert rel_err(report.gradients[key], numeric[key]) < 1e-7, key


def test_softmax_ce_layer_gradients_match_central_differences() -> None:
    values = {"x": [0.5, -1.0], "w": [[0.2, -0.4], [0.7, 0.1], [-0.3, 0.5]],
              "b": [0.1, 0.0, -0.2], "t": one_hot(1, 3)}
    report = derive_neuron(None, "softmax_ce", values)
    z = np.asarray(values["w"]) @ np.asarray(values["x"]) + np.asarray(values["b"])
    s = np.exp(z) / np.exp(z).sum()
    assert report.forward["L"] == pytest.approx(-np.log(s[1]))
    assert report.gradients["b"] == pytest.approx((s - np.asarray(values["t"])).tolist())
    numeric = _fd_gradients("softmax", "softmax_ce", values)
    for key in ("w", "b", "x"):
        assert rel_err(report.gradients[key], numeric[key]) < 1e-7, key


@pytest.mark.parametrize(("activation", "loss", "values", "message"), [
    ("swish", "mse", None, "unknown activation 'swish'"),
    ("sigmoid", "hinge", None, "unknown loss 'hinge'"),
    ("sigmoid", "mse", {"x": [1, 2, 3], "w": [1, 2], "b": 0, "t": 1}, "x has 3 values but w has 2"),
    ("sigmoid", "mse", {"x": [1, 2], "w": [1, 2], "t": 1}, "missing values for b"),
    ("sigmoid", "mse", {"x": [1, 2], "w": [1, 2], "b": 0}, "missing values for t"),
    ("sigmoid", "mse", {"x": [1, 2], "w": [1, 2], "b": 0, "t": [1, 0]}, "t has 2 values"),
    ("sigmoid", "mse", {"x": [1, 2], "w": [1, 2], "b": 0, "t": 1, "y": 2}, "unknown values y"),
    ("linear", "bce", {"x": [1], "w": [2], "b": 0, "t": 1}, "not finite"),
    (None, "softmax_ce", {"x": [1], "w": [2], "b": 0, "t": 1}, "K×n matrix"),
    ("sigmoid", "softmax_ce", None, "--activation sigmoid does not apply"),
    ("softmax", "mse", None, "goes with --loss softmax_ce"),
])
def test_bad_input_is_a_chainrule_error(activation: str, loss: str, values: dict | None,
                                        message: str) -> None:
    with pytest.raises(ChainruleError, match=message):
        derive_neuron(activation, loss, values)


def test_activation_registry_is_the_source() -> None:
    assert neuron_factors("sigmoid", "mse").g == get_activation("sigmoid").expr


def test_neuron_latex_exact() -> None:
    assert latex(derive_neuron("sigmoid", "half_mse")) == (
        "\\begin{align*}\n"
        "\\frac{\\partial}{\\partial a} \\left(\\frac{\\left(- a + t\\right)^{2}}{2}\\right) "
        "&= a - t "
        "&& \\text{power} \\\\\n"
        "\\frac{d}{d z} \\sigma\\left(z\\right) &= \\left(1 - \\sigma\\left(z\\right)\\right) "
        "\\sigma\\left(z\\right) && \\text{sigmoid} \\\\\n"
        "\\frac{\\partial L}{\\partial a} \\frac{\\partial a}{\\partial z} &= "
        "a \\left(- a + t\\right) \\left(a - 1\\right) && \\text{chain} \\\\\n"
        "\\frac{\\partial}{\\partial {w}_{j}} \\left(b + \\sum_{i=1}^{n} {w}_{i} {x}_{i}\\right) "
        "&= {x}_{j} && \\text{sum} \\\\\n"
        "\\frac{\\partial}{\\partial b} \\left(b + \\sum_{i=1}^{n} {w}_{i} {x}_{i}\\right) "
        "&= 1 && \\text{sum} \\\\\n"
        "\\frac{\\partial}{\\partial {x}_{j}} \\left(b + \\sum_{i=1}^{n} {w}_{i} {x}_{i}\\right) "
        "&= {w}_{j} && \\text{sum} \\\\\n"
        "\\frac{\\partial L}{\\partial z} \\frac{\\partial z}{\\partial {w}_{j}} &= "
        "\\delta {x}_{j} && \\text{chain} \\\\\n"
        "\\frac{\\partial L}{\\partial z} \\frac{\\partial z}{\\partial b} &= \\delta "
        "&& \\text{chain} \\\\\n"
        "\\frac{\\partial L}{\\partial z} \\frac{\\partial z}{\\partial {x}_{j}} &= "
        "\\delta {w}_{j} && \\text{chain}\n"
        "\\end{align*}"
    )


SOFTMAX_AT = "x=[1,2],w=[[0.1,0.2],[0.3,-0.1],[0.2,0.2]],b=[0,0,0],t=[0,1,0]"


def test_softmax_layer_is_labelled_softmax_and_names_its_output_s(cli) -> None:
    """Issue 8: it said "activation sigmoid" (also in JSON) and called the output a and s."""
    payload = cli.json(["derive", "neuron", "--loss", "softmax_ce", "--at", SOFTMAX_AT])
    assert payload["activation"] == "softmax"
    assert set(payload["forward"]) == {"z", "s", "L"}
    text = cli.run(["derive", "neuron", "--loss", "softmax_ce", "--at", SOFTMAX_AT]).stdout
    assert "activation softmax" in text and "sigmoid" not in text
    assert "Matrix(" not in text  # the Jacobian is printed in index form, not as a raw Matrix
    assert "│ a " not in text and "│ s " in text
    latex_doc = cli.run(["derive", "neuron", "--loss", "softmax_ce", "--at", SOFTMAX_AT,
                         "--format", "latex"]).stdout
    assert "s &= " in latex_doc and "Matrix" not in latex_doc
    assert "not apply" in cli.fails(["derive", "neuron", "-a", "relu", "--loss", "softmax_ce"])


def test_softmax_layer_index_forms_for_a_k_by_n_weight_matrix() -> None:
    """∂L/∂w[k,j] = δ_k·x_j, ∂L/∂b_k = δ_k, ∂L/∂x_j = Σ_k δ_k w_kj (it printed δ·x[j], δ·w[j])."""
    from chainrule.derive.neuron import _CLASSES, _J, _K, B_VEC, DELTA_VEC, W_VEC, X_VEC
    steps = derive_neuron(None, "softmax_ce").steps
    chain = [step for step in steps if step.rule == "chain"][1:]
    assert [step.after for step in chain] == [
        DELTA_VEC[_K] * X_VEC[_J], DELTA_VEC[_K],
        sp.Sum(DELTA_VEC[_K] * W_VEC[_K, _J], (_K, 1, _CLASSES))]
    assert [step.after for step in steps if step.rule == "sum"] == [X_VEC[_J], 1, W_VEC[_K, _J]]
    assert B_VEC[_K] in chain[1].before.atoms(sp.Indexed)


# Each parametric activation, written independently in NumPy with its α.
_NUMPY_G = {"leaky_relu": lambda z, al: np.where(z > 0, z, al * z),
            "elu": lambda z, al: np.where(z > 0, z, al * np.expm1(np.minimum(z, 0)))}


@pytest.mark.parametrize(("name", "alpha"), [("leaky_relu", 0.01), ("leaky_relu:0.1", 0.1),
                                             ("elu", 1.0), ("elu:0.5", 0.5)])
def test_alpha_is_symbolic_in_every_formula_and_its_value_stated(name: str, alpha: float) -> None:
    from chainrule.derive.activations import ALPHA

    values = {"x": [0.5, -1.0], "w": [0.4, 0.3], "b": -0.2, "t": 0.7}  # z = −0.3 < 0: α counts
    report = derive_neuron(name, "half_mse", values)
    activation, delta = report.steps[1], report.steps[2]
    for step in (activation, delta):
        assert step.after.has(ALPHA) and f"α = {alpha:g}, the " in step.text
    assert activation.before.has(ALPHA)  # ∂/∂z g(z, α)
    assert report.note.startswith(f"α = {alpha:g}, the ") and "for z < 0" in report.note
    assert not any(step.after.has(sp.Rational(1, 100)) for step in report.steps)
    # The numbers: NumPy forward with this α, gradients by central differences of it.
    g = _NUMPY_G[name.partition(":")[0]]
    x, w, b, t = (np.asarray(values[k], dtype=np.float64) for k in "xwbt")

    def loss(params: np.ndarray) -> float:
        return float((g(params[:2] @ x + params[2], alpha) - t) ** 2 / 2)

    fd = central_difference(loss, np.array([*w, b]))
    assert report.forward["a"] == pytest.approx(float(g(w @ x + b, alpha)), rel=1e-12)
    assert report.gradients["w"] == pytest.approx(fd[:2].tolist(), rel=1e-6)
    assert report.gradients["b"] == pytest.approx(float(fd[2]), rel=1e-6)
    assert report.step_values()[1] == pytest.approx(alpha if name.startswith("leaky") else
                                                    alpha * np.exp(-0.3), rel=1e-12)


def test_activations_without_a_parameter_state_nothing() -> None:
    assert derive_neuron("sigmoid", "bce").note == ""
    assert derive_neuron(None, "softmax_ce").note == ""
    assert "α" not in derive_neuron("tanh", "mse").steps[1].text
