"""Verification matrix (issue 8) for ``derive neuron``: every activation × every loss.

Generated with ``itertools.product`` over the activation registry (with α: leaky_relu:0.1 and
elu:0.5 besides the defaults) and the losses, at seeded random points, one sample and a batch.
For each combination every printed step is evaluated at the point and compared with float64
central differences of the *printed* forward expressions (the loss L(a, t), the activation g(z),
the weighted sum z = Σ wᵢxᵢ + b; for softmax_ce the cross-entropy −Σ tᵢ ln sᵢ and z_k = Σ_j w_kj
x_j + b_k), and the printed numbers (z, a or s, L and the gradients) with an independent NumPy
forward pass and its central differences. Structural checks: no index on a right-hand side that
the left does not have, and no Kronecker delta in a final gradient.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import pytest
import sympy as sp
from conftest import central_difference, rel_err

from chainrule.derive.activations import ACTIVATIONS, A, Z, get_activation
from chainrule.derive.functions import elementary
from chainrule.derive.layers import evaluate
from chainrule.derive.losses import T
from chainrule.derive.neuron import (
    _CLASSES,
    _I,
    _J,
    _K,
    CLASS_SUM,
    CROSS_ENTROPY,
    WEIGHTED_SUM,
    B,
    derive_neuron,
)
from chainrule.errors import ChainruleError

H = 1e-6
INPUTS, CLASSES = 3, 3

# Independent NumPy references (not SymPy): activations and per-output losses.
ALPHA = {"leaky_relu": 0.01, "leaky_relu:0.1": 0.1, "elu": 1.0, "elu:0.5": 0.5}
NUMPY_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "leaky_relu:0.1": lambda z: np.where(z > 0, z, 0.1 * z),
    "elu": lambda z: np.where(z > 0, z, np.expm1(z)),
    "elu:0.5": lambda z: np.where(z > 0, z, 0.5 * np.expm1(z)),
    "softplus": lambda z: np.log1p(np.exp(z)),
    "linear": lambda z: z,
    "hardlim": lambda z: (z >= 0).astype(np.float64),
}
NUMPY_LOSSES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "mse": lambda a, t: (t - a) ** 2,
    "half_mse": lambda a, t: (t - a) ** 2 / 2,
    "bce": lambda a, t: -(t * np.log(a) + (1 - t) * np.log(1 - a)),
    "none": lambda a, t: a,
}
ACTIVATION_NAMES = [*ACTIVATIONS, "leaky_relu:0.1", "elu:0.5"]
SCALAR_LOSSES = list(NUMPY_LOSSES)
UNDEFINED = {("hardlim", "bce")}  # a ∈ {0, 1}: ln 0
GRID = [(a, loss) for a, loss in itertools.product(ACTIVATION_NAMES, SCALAR_LOSSES)
        if (a, loss) not in UNDEFINED]


def test_the_grid_is_every_activation_times_every_loss() -> None:
    assert set(NUMPY_ACTIVATIONS) == set(ACTIVATION_NAMES)
    assert len(GRID) + len(UNDEFINED) == len(ACTIVATION_NAMES) * len(SCALAR_LOSSES)


def point(activation: str, loss: str, rng: np.random.Generator, samples: int | None) -> dict:
    """x, w, b, t with every z away from the kinks (and a inside (0, 1) for bce)."""
    shape = (INPUTS,) if samples is None else (samples, INPUTS)
    x, w = rng.normal(size=shape), rng.normal(size=INPUTS)
    count = 1 if samples is None else samples
    if loss == "bce":  # every a = g(z) in (0, 1): z in (0.1, 0.4)
        z = rng.uniform(0.1, 0.4, size=count)
    else:
        z = rng.choice([-1.0, 1.0], size=count) * rng.uniform(0.2, 1.5, size=count)
    # one b for every sample: shift x so that each sample's z is the one drawn
    b = 0.05 if loss == "bce" else float(rng.normal())
    x2 = np.atleast_2d(x)
    x2 = x2 + ((z - b - x2 @ w) / (w @ w))[:, None] * w[None, :]
    t = rng.uniform(0.1, 0.9, size=count)
    return {"x": x2[0].tolist() if samples is None else x2.tolist(), "w": w.tolist(), "b": b,
            "t": float(t[0]) if samples is None else t.tolist()}


def numpy_loss(activation: str, loss: str, values: Mapping[str, Any]) -> float:
    x = np.atleast_2d(np.asarray(values["x"], dtype=np.float64))
    a = NUMPY_ACTIVATIONS[activation](x @ np.asarray(values["w"]) + values["b"])
    return float(np.mean(NUMPY_LOSSES[loss](a, np.atleast_1d(values["t"]))))


def numpy_gradients(activation: str, loss: str, values: dict) -> dict[str, np.ndarray]:
    out = {}
    for key in ("w", "b", "x"):
        def f(v: np.ndarray, key: str = key) -> float:
            return numpy_loss(activation, loss, {**values, key: v if v.ndim else float(v)})
        out[key] = central_difference(f, np.asarray(values[key], dtype=np.float64))
    return out


@lru_cache(maxsize=512)
def _compiled(expr: sp.Expr) -> Callable[..., float]:
    return sp.lambdify([Z, A, T], elementary(expr), "math")


def scalar(expr: sp.Expr, **numbers: float) -> float:
    """A step's expression in z, a, t at numbers (named activations made elementary)."""
    return float(_compiled(expr)(*(numbers.get(name, 0.0) for name in ("z", "a", "t"))))


def derivative(f: Callable[[float], float], at: float) -> float:
    return (f(at + H) - f(at - H)) / (2 * H)


def no_stray_indices(before: sp.Expr, after: sp.Expr) -> None:
    """Every index free on the right is free on the left (bound ones are not free)."""
    def free(expr: sp.Expr) -> set[sp.Basic]:
        return {s for s in expr.free_symbols if isinstance(s, sp.Idx)
                or (isinstance(s, sp.Symbol) and s.is_integer and not s.is_positive)}
    left = free(before) | {i for d in before.atoms(sp.Derivative) for v in d.variables
                           for i in free(v)}
    assert free(after) <= left, (before, after, free(after) - left)


@pytest.mark.parametrize(("activation", "loss"), GRID, ids=[f"{a}-{l}" for a, l in GRID])
@pytest.mark.parametrize("samples", [None, 3], ids=["one", "batch"])
def test_neuron_matrix(activation: str, loss: str, samples: int | None) -> None:
    rng = np.random.default_rng(zlib.crc32(f"{activation} {loss} {samples}".encode()))
    values = point(activation, loss, rng, samples)
    report = derive_neuron(activation, loss, values)
    assert report.activation == get_activation(activation).name
    steps = report.steps
    # the printed forward numbers, against NumPy
    x = np.atleast_2d(np.asarray(values["x"]))
    z = x @ np.asarray(values["w"]) + values["b"]
    a = NUMPY_ACTIVATIONS[activation](z)
    assert np.allclose(np.atleast_1d(report.forward["z"]), z, rtol=1e-12, atol=1e-12)
    assert np.allclose(np.atleast_1d(report.forward["a"]), a, rtol=1e-12, atol=1e-12)
    assert report.forward["L"] == pytest.approx(numpy_loss(activation, loss, values), rel=1e-12)
    # each symbolic step at each sample, against central differences of the printed forward
    alpha = get_activation(activation).values  # {α: value}: the steps print α as a symbol
    assert not alpha or all(e.has(*alpha) for e in (steps[1].before, steps[1].after,
                                                     steps[2].after))
    loss_expr, g_expr = steps[0].before.expr, steps[1].before.expr.subs(alpha)
    for zz, tt in zip(z, np.atleast_1d(values["t"]), strict=True):
        aa = scalar(g_expr, z=zz)
        assert aa == pytest.approx(float(NUMPY_ACTIVATIONS[activation](np.array(zz))), rel=1e-12)
        dl_da = derivative(lambda v, t=tt: scalar(loss_expr, a=v, t=t), aa)
        assert scalar(steps[0].after, a=aa, t=tt) == pytest.approx(dl_da, rel=1e-6, abs=1e-8)
        da_dz = derivative(lambda v: scalar(g_expr, z=v), zz)
        assert scalar(steps[1].after.subs(alpha), z=zz, a=aa) == pytest.approx(da_dz, rel=1e-6, abs=1e-8)
        delta = derivative(lambda v, t=tt: scalar(loss_expr, a=scalar(g_expr, z=v), t=t), zz)
        assert scalar(steps[2].after.subs(alpha), z=zz, a=aa, t=tt) == pytest.approx(
            delta, rel=1e-6, abs=1e-8)
    assert steps[3:6] == WEIGHTED_SUM_STEPS  # checked numerically once, below
    _chain_steps(steps[6:], report, activation, values)
    numeric = numpy_gradients(activation, loss, values)
    for key in ("w", "b", "x"):
        assert rel_err(report.gradients[key], numeric[key]) < 1e-6, key
    for step in steps:
        no_stray_indices(step.before, step.after)
    assert not any(step.after.has(sp.KroneckerDelta) for step in steps)


WEIGHTED_SUM_STEPS = derive_neuron("linear", "none").steps[3:6]


def test_weighted_sum_steps() -> None:
    """∂z/∂w_j = x_j, ∂z/∂b = 1, ∂z/∂x_j = w_j against central differences of z = Σ w_i x_i + b
    (the same three steps for every activation and loss)."""
    rng, steps = np.random.default_rng(2), WEIGHTED_SUM_STEPS
    x, w = rng.normal(size=INPUTS), rng.normal(size=INPUTS)
    numbers = {"x": np.pad(x, (1, 0)), "w": np.pad(w, (1, 0)), "b": 0.3,  # sums run over 1 … n
               "n": INPUTS}

    def z_of(v: Mapping[str, Any]) -> float:
        return float(evaluate(WEIGHTED_SUM, [], v))

    for step, wrt in zip(steps, ("w", "b", "x"), strict=True):
        printed = evaluate(step.after, [(_J, INPUTS + 1)], numbers)
        if wrt == "b":
            numeric = derivative(lambda v: z_of({**numbers, "b": v}), 0.3)
            assert np.allclose(printed, numeric)
            continue
        for j in range(1, INPUTS + 1):
            def f(v: float, j: int = j, wrt: str = wrt) -> float:
                moved = numbers[wrt].copy()
                moved[j] = v
                return z_of({**numbers, wrt: moved})
            assert printed[j] == pytest.approx(derivative(f, numbers[wrt][j]), rel=1e-6)


def _chain_steps(steps: tuple, report: Any, activation: str, values: dict) -> None:
    """δ·x_j, δ and δ·w_j with the printed δ at each sample: the printed gradients (w and b are
    the batch mean, x is per sample and divided by the batch size, as the text says)."""
    x = np.atleast_2d(np.asarray(values["x"]))
    z = x @ np.asarray(values["w"]) + values["b"]
    a = NUMPY_ACTIVATIONS[activation](z)
    t = np.atleast_1d(values["t"])
    alpha = get_activation(activation).values  # α printed as a symbol: its value put in
    deltas = [scalar(report.steps[2].after.subs(alpha), z=zz, a=aa, t=tt)
              for zz, aa, tt in zip(z, a, t, strict=True)]
    delta = sp.Symbol("delta", real=True)
    for step, key in zip(steps, ("w", "b", "x"), strict=True):
        rows = []
        for sample, d in enumerate(deltas):
            numbers = {"x": np.pad(x[sample], (1, 0)), "w": np.pad(np.asarray(values["w"]), (1, 0))}
            rows.append(evaluate(step.after.subs(delta, d), [(_J, INPUTS + 1)], numbers)[1:])
        printed = np.array(rows)
        printed = printed.mean(axis=0) if key in ("w", "b") else printed / len(rows)
        expected = np.asarray(report.gradients[key], dtype=np.float64)
        if key == "b":
            printed = printed[0]  # δ has no free j
        assert rel_err(printed.reshape(expected.shape), expected) < 1e-10, (key, printed, expected)


@pytest.mark.parametrize(("activation", "loss"), sorted(UNDEFINED))
def test_undefined_combinations_are_refused(activation: str, loss: str) -> None:
    with pytest.raises(ChainruleError, match="not finite"):
        derive_neuron(activation, loss, {"x": [1.0], "w": [0.5], "b": 0.1, "t": 0.5})


# -- softmax with cross-entropy: a layer of K neurons -------------------------------------------

def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def one_based(expr: sp.Expr, extents: list[tuple[sp.Idx, int]], values: dict) -> np.ndarray:
    """Evaluate an expression whose indices run 1 … n (the neuron's convention)."""
    shifted = {k: np.pad(v, [(1, 0)] * np.ndim(v), constant_values=1.0)  # index 0 is dropped
               if isinstance(v, np.ndarray) else v
               for k, v in values.items()}
    out = evaluate(expr, [(index, n + 1) for index, n in extents], shifted)
    return out[tuple(slice(1, None) for _ in extents)]


@pytest.mark.parametrize("target", ["one-hot", "probability"])
@pytest.mark.parametrize("samples", [None, 2], ids=["one", "batch"])
def test_softmax_ce_neuron_matrix(target: str, samples: int | None) -> None:
    rng = np.random.default_rng(31 + (samples or 0))
    count = samples or 1
    x = rng.normal(size=(count, INPUTS))
    w, b = rng.normal(size=(CLASSES, INPUTS)), rng.normal(size=CLASSES)
    t = (np.eye(CLASSES)[rng.integers(CLASSES, size=count)] if target == "one-hot"
         else rng.dirichlet(np.ones(CLASSES), size=count))
    values = {"x": x[0].tolist() if samples is None else x.tolist(), "w": w.tolist(),
              "b": b.tolist(), "t": t[0].tolist() if samples is None else t.tolist()}
    report = derive_neuron(None, "softmax_ce", values)
    assert report.activation == "softmax" and set(report.forward) >= {"z", "s", "L"}
    z = x @ w.T + b
    s = _softmax(z)
    assert rel_err(np.asarray(report.forward["s"]), s[0] if samples is None else s) < 1e-12
    assert rel_err(np.asarray(report.forward["z"]), z[0] if samples is None else z) < 1e-12

    def mean_loss(w_: np.ndarray, b_: np.ndarray, x_: np.ndarray) -> float:
        return float(np.mean(-np.sum(t * np.log(_softmax(x_ @ w_.T + b_)), axis=1)))

    assert report.forward["L"] == pytest.approx(mean_loss(w, b, x), rel=1e-12)
    numeric = {"w": central_difference(lambda v: mean_loss(v, b, x), w),
               "b": central_difference(lambda v: mean_loss(w, v, x), b),
               "x": central_difference(lambda v: mean_loss(w, b, v), x) * count}
    numeric["x"] = numeric["x"][0] if samples is None else numeric["x"] / count
    for key in ("w", "b", "x"):
        assert rel_err(report.gradients[key], numeric[key]) < 1e-6, key
    steps = report.steps
    for sample in range(count):
        check_softmax_sample(steps, w, b, x[sample], t[sample])
    for step in steps:
        no_stray_indices(step.before, step.after)
    finals = (steps[4], *steps[8:])
    assert not any(step.after.has(sp.KroneckerDelta) for step in finals)
    assert _CLASSES in steps[10].after.free_symbols  # Σ_k runs over the K classes


SIZES = {"K": CLASSES, "n": INPUTS}


def cross_entropy(s_: np.ndarray, t_: np.ndarray) -> float:
    """The printed L = −Σ_i t_i ln s_i."""
    return float(one_based(CROSS_ENTROPY, [], {"s": s_, "t": t_, **SIZES}))


def check_softmax_sample(steps: tuple, w: np.ndarray, b: np.ndarray, x: np.ndarray,
                         t: np.ndarray) -> None:
    """Each printed step at one sample against central differences of the printed forward."""
    z = w @ x + b
    s = _softmax(z)
    dl_ds = one_based(steps[0].after, [(_K, CLASSES)], {"s": s, "t": t, **SIZES})
    assert rel_err(dl_ds, central_difference(lambda v: cross_entropy(v, t), s)) < 1e-6
    jac = one_based(steps[1].after, [(_I, CLASSES), (_K, CLASSES)], {"s": s, **SIZES})
    rows = [central_difference(lambda v, r=r: float(_softmax(v)[r]), z) for r in range(CLASSES)]
    assert rel_err(jac, np.array(rows)) < 1e-6
    dl_dz = central_difference(lambda v: cross_entropy(_softmax(v), t), z)
    for step in steps[2:5]:  # the chain, the contraction and s − t (Σt = 1 here)
        printed = one_based(step.after, [(_K, CLASSES)], {"s": s, "t": t, **SIZES})
        assert rel_err(printed, dl_dz) < 1e-6, step.rule
    assert steps[4].rule == "target_sum" and np.sum(t) == pytest.approx(1.0)
    # z_k = Σ_j w_kj x_j + b_k: its derivatives, and the chain to w, b and x
    numbers = {"w": w, "x": x, "b": b, "delta": s - t, **SIZES}

    def z_k(v: Mapping[str, Any]) -> np.ndarray:
        return one_based(CLASS_SUM, [(_K, CLASSES)], v)

    assert rel_err(z_k(numbers), z) < 1e-12
    dz_dw = one_based(steps[5].after, [(_K, CLASSES), (_J, INPUTS)], numbers)
    assert rel_err(dz_dw, np.broadcast_to(x, (CLASSES, INPUTS))) < 1e-12
    dz_dx = one_based(steps[7].after, [(_K, CLASSES), (_J, INPUTS)], numbers)
    dz_dx_numeric = np.array([central_difference(lambda v, k=k: float(z_k({**numbers, "x": v})[k]),
                                                 x) for k in range(CLASSES)])
    assert rel_err(dz_dx, dz_dx_numeric) < 1e-6
    printed = {"w": one_based(steps[8].after, [(_K, CLASSES), (_J, INPUTS)], numbers),
               "b": one_based(steps[9].after, [(_K, CLASSES)], numbers),
               "x": one_based(steps[10].after, [(_J, INPUTS)], numbers)}
    loss_of = {"w": lambda v: cross_entropy(_softmax(v @ x + b), t),
               "b": lambda v: cross_entropy(_softmax(w @ x + v), t),
               "x": lambda v: cross_entropy(_softmax(w @ v + b), t)}
    for key, base in (("w", w), ("b", b), ("x", x)):
        assert rel_err(printed[key], central_difference(loss_of[key], base)) < 1e-6, key


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_softmax_ce_takes_no_other_activation(activation: str) -> None:
    with pytest.raises(ChainruleError, match="does not apply"):
        derive_neuron(activation, "softmax_ce")
    assert B not in derive_neuron(None, "softmax_ce").steps[-1].after.free_symbols
