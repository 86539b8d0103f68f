"""Verification matrix (issue 8): every printed equation of conv, pooling, flatten, softmax-CE, the
mini-batch update and lenet5's layers, checked numerically and structurally.

The cases are generated (``itertools.product``): conv with stride 1 and 2 × padding 0, 1, 2 × two
non-square shapes with several channels and filters; max and average pooling with K = 2, 3 ×
stride 1, 2 (overlapping windows where s < K); flatten; softmax-CE with one-hot, probability and
unnormalised targets; the mini-batch update; and every layer of ``derive net lenet5`` with its
shape symbols instantiated small (its own K, s and P). For each equation:

- its SymPy right-hand side is evaluated with :func:`chainrule.derive.layers.evaluate` at seeded
  random values;
- a backward equation is compared with float64 central differences (along random directions) of
  a loss built from the *printed forward equations*, evaluated the same way;
- ``matrix_numpy`` (the printed matrix form, in NumPy) is compared with the index form;
- no index on the right is free unless it is on the left, and no Kronecker delta is left to
  contract in a backward equation.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import sympy as sp
from conftest import rel_err

from chainrule.derive.layers import (
    LayerDerivation,
    conv_layer,
    dense_layer,
    evaluate,
    flatten_layer,
    minibatch_update,
    pool_layer,
    softmax_ce_layer,
)
from chainrule.derive.layers.equations import Equation
from chainrule.derive.net import derive_net

Values = dict[str, Any]
Loss = Callable[[Values], float]
H_STEP = 1e-6  # central-difference step (float64)


@dataclass
class Case:
    """One layer at concrete sizes and values, and how each backward equation is checked."""

    name: str
    layer: LayerDerivation
    values: Values  # tensors by name, sizes and scalars by name
    # backward equation → (the tensor it differentiates with respect to, the loss of that tensor
    # built from the printed forward equations)
    gradients: dict[str, tuple[str, Loss]] = field(default_factory=dict)
    extra: Callable[[Case], None] | None = None  # a check of its own (max = the window's max, …)


def extents(eq: Equation, values: Mapping[str, Any]) -> list[tuple[sp.Symbol, int]]:
    """The equation's free indices with their counts at these sizes."""
    sizes = {symbol: values[symbol.name] for _, n in eq.indices
             for symbol in sp.sympify(n).free_symbols}
    return [(index, int(sp.sympify(n).subs(sizes))) for index, n in eq.indices]


def run(eq: Equation, values: Values) -> np.ndarray:
    return evaluate(eq.rhs, extents(eq, values), values)


def weighted(layer: LayerDerivation, forward: str, upstream: str) -> Loss:
    """L = Σ upstream ⊙ (the printed forward equation), as a function of the values."""
    return lambda values: float(np.sum(values[upstream] * run(layer.equation(forward), values)))


def directional_check(loss: Loss, values: Values, wrt: str, gradient: np.ndarray,
                      rng: np.random.Generator, directions: int = 2) -> None:
    """⟨∇L, d⟩ against (L(x + h·d) − L(x − h·d)) / 2h for random unit directions d."""
    base = np.asarray(values[wrt], dtype=np.float64)
    assert gradient.shape == base.shape, (wrt, gradient.shape, base.shape)
    for _ in range(directions):
        d = rng.normal(size=base.shape)
        d /= np.linalg.norm(d)
        up = loss({**values, wrt: base + H_STEP * d})
        down = loss({**values, wrt: base - H_STEP * d})
        numeric = (up - down) / (2 * H_STEP)
        exact = float(np.sum(gradient * d))
        assert abs(numeric - exact) <= 1e-6 * max(1.0, abs(exact)), (wrt, numeric, exact)


def structural_check(layer: LayerDerivation, eq: Equation, backward: bool) -> None:
    """No index on the right that is neither summed nor on the left; no Kronecker delta left."""
    labels = {base.label for base in eq.rhs.atoms(sp.IndexedBase)}
    # index() symbols are integers, size() symbols positive integers (P: non-negative, declared)
    sizes = set(layer.sizes) | {s for s in eq.rhs.free_symbols if s.is_positive}
    free = {s for s in eq.rhs.free_symbols
            if s.is_integer and s not in sizes and s not in labels}
    lhs_indices = {index for index, _ in eq.indices}
    assert free <= lhs_indices, (layer.kind, eq.name, free - lhs_indices)
    lhs_free = set().union(*(sp.sympify(i).free_symbols for i in eq.lhs.indices)) \
        if isinstance(eq.lhs, sp.Indexed) else set()
    assert lhs_free == lhs_indices, (eq.name, lhs_free, lhs_indices)
    if backward:
        for delta in eq.rhs.atoms(sp.KroneckerDelta):
            # Only the softmax Jacobian's 𝟙[i = j] may stay: there it is the identity matrix over
            # two free indices of the left, not a sum left to contract.
            assert set(delta.args) <= lhs_indices and not _under_sum(eq.rhs, delta), \
                (layer.kind, eq.name, delta)


def _under_sum(expr: sp.Expr, atom: sp.Expr) -> bool:
    return any(s.function.has(atom) for s in expr.atoms(sp.Sum))


def check_case(case: Case, rng: np.random.Generator) -> int:
    """Run every check on every equation of ``case``; return how many equations it checked."""
    layer, values = case.layer, case.values
    results = {}
    for eq in layer.equations:
        structural_check(layer, eq, backward=eq in layer.backward)
        results[eq.name] = run(eq, values)
        assert np.all(np.isfinite(results[eq.name])), eq.name
        if eq.matrix_numpy is not None:
            printed = np.asarray(eq.matrix_numpy(values), dtype=np.float64)
            assert printed.shape == results[eq.name].shape, (eq.name, printed.shape)
            assert rel_err(printed, results[eq.name]) < 1e-12, (case.name, eq.name)
    for name, (wrt, loss) in case.gradients.items():
        directional_check(loss, values, wrt, results[name], rng)
    if case.extra is not None:
        case.extra(case)
    return len(layer.equations)


# -- conv ---------------------------------------------------------------------------------------

def conv_case(stride: int, pad: int, channels: int, filters: int, kernel: int, height: int,
              width: int, rng: np.random.Generator, name: str = "") -> Case:
    h_out, w_out = (height + 2 * pad - kernel) // stride + 1, (width + 2 * pad - kernel) // stride + 1
    layer = conv_layer()
    values = {"x": rng.normal(size=(channels, height, width)),
              "w": rng.normal(size=(filters, channels, kernel, kernel)),
              "b": rng.normal(size=filters), "delta": rng.normal(size=(filters, h_out, w_out)),
              "C": channels, "F": filters, "K": kernel, "H": height, "W": width,
              "H_out": h_out, "W_out": w_out, "s": stride, "P": pad}
    loss = weighted(layer, "forward", "delta")

    def forward_is_a_padded_correlation(case: Case) -> None:
        v = case.values
        xp = np.pad(v["x"], ((0, 0), (pad, pad), (pad, pad)))
        ref = np.array([[[np.sum(xp[:, i * stride:i * stride + kernel, j * stride:j * stride + kernel]
                                 * v["w"][o]) + v["b"][o] for j in range(w_out)]
                         for i in range(h_out)] for o in range(filters)])
        assert rel_err(run(case.layer.equation("forward"), v), ref) < 1e-12

    return Case(name or f"conv s{stride} P{pad} {channels}→{filters} K{kernel} {height}×{width}",
                layer, values, {"dL/dw": ("w", loss), "dL/db": ("b", loss), "dL/dx": ("x", loss)},
                forward_is_a_padded_correlation)


# (C, F, K, H, W): non-square images, several channels and filters
CONV_SHAPES = [(1, 2, 3, 5, 4), (2, 3, 2, 4, 6)]
CONV_GRID = list(itertools.product([1, 2], [0, 1, 2], CONV_SHAPES))


@pytest.mark.parametrize(("stride", "pad", "shape"), CONV_GRID,
                         ids=[f"s{s}-P{p}-{'x'.join(map(str, sh))}" for s, p, sh in CONV_GRID])
def test_conv_matrix(stride: int, pad: int, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(100 * stride + 10 * pad + shape[0])
    channels, filters, kernel, height, width = shape
    assert check_case(conv_case(stride, pad, channels, filters, kernel, height, width, rng),
                      rng) == 4


# -- pooling --------------------------------------------------------------------------------------

def windows(x: np.ndarray, k: int, stride: int) -> np.ndarray:
    return np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))[:, ::stride, ::stride]


def pool_case(mode: str, k: int, stride: int, channels: int, height: int, width: int,
              rng: np.random.Generator, name: str = "") -> Case:
    x = rng.permutation(channels * height * width).reshape(channels, height, width) / 7.0
    x = x + rng.uniform(0, 0.01, size=x.shape)  # distinct values: one argmax per window
    win = windows(x, k, stride)
    flat = win.reshape(*win.shape[:3], -1)
    mask = np.zeros_like(flat)
    np.put_along_axis(mask, flat.argmax(axis=-1)[..., None], 1.0, axis=-1)
    layer = pool_layer(mode)
    values = {"x": x, "M": mask.reshape(win.shape), "delta": rng.normal(size=win.shape[:3]),
              "C": channels, "K": k, "H": height, "W": width, "H_out": win.shape[1],
              "W_out": win.shape[2], "s": stride}
    # M is fixed (max is locally a selection); the steps of the central difference (1e-6) are far
    # smaller than the gap between a window's largest and second-largest values (≥ 1/7 − 0.01).
    loss = weighted(layer, "forward", "delta")

    def forward_is_the_window_max_or_mean(case: Case) -> None:
        w = windows(case.values["x"], k, stride)
        ref = w.max(axis=(-2, -1)) if mode == "max" else w.mean(axis=(-2, -1))
        assert rel_err(run(case.layer.equation("forward"), case.values), ref) < 1e-12
        true_loss = lambda v: float(np.sum(v["delta"] * (  # the real max, not Σ M·x
            windows(v["x"], k, stride).max(axis=(-2, -1)) if mode == "max"
            else windows(v["x"], k, stride).mean(axis=(-2, -1)))))
        directional_check(true_loss, case.values, "x",
                          run(case.layer.equation("dL/dx"), case.values), rng)

    return Case(name or f"{mode}pool K{k} s{stride}", layer, values, {"dL/dx": ("x", loss)},
                forward_is_the_window_max_or_mean)


POOL_GRID = list(itertools.product(["max", "avg"], [2, 3], [1, 2]))


@pytest.mark.parametrize(("mode", "k", "stride"), POOL_GRID,
                         ids=[f"{m}-K{k}-s{s}" for m, k, s in POOL_GRID])
def test_pool_matrix(mode: str, k: int, stride: int) -> None:
    rng = np.random.default_rng(7 * k + stride)
    assert check_case(pool_case(mode, k, stride, 2, 5, 6, rng), rng) == 2


# -- flatten ----------------------------------------------------------------------------------

def flatten_case(channels: int, height: int, width: int, rng: np.random.Generator) -> Case:
    layer = flatten_layer()
    values = {"x": rng.normal(size=(channels, height, width)),
              "delta": rng.normal(size=channels * height * width),
              "C": channels, "H": height, "W": width}

    def row_major(case: Case) -> None:
        assert np.array_equal(run(layer.equation("forward"), case.values),
                              case.values["x"].reshape(-1))

    return Case(f"flatten {channels}×{height}×{width}", layer, values,
                {"dL/dx": ("x", weighted(layer, "forward", "delta"))}, row_major)


@pytest.mark.parametrize("shape", [(2, 3, 4), (3, 1, 1), (1, 4, 2)])
def test_flatten_matrix(shape: tuple[int, int, int]) -> None:
    rng = np.random.default_rng(sum(shape))
    assert check_case(flatten_case(*shape, rng), rng) == 2


# -- softmax with cross-entropy ----------------------------------------------------------------

def softmax_case(classes: int, target: str, rng: np.random.Generator) -> Case:
    layer = softmax_ce_layer()
    z = rng.normal(size=classes)
    t = {"one-hot": np.eye(classes)[rng.integers(classes)],
         "probability": rng.dirichlet(np.ones(classes))}[target]
    values = {"z": z, "t": t, "N": classes}
    values["s"] = run(layer.equation("forward s"), values)

    def loss_of_z(v: Values) -> float:  # L(s(z)), both printed forward equations
        return float(run(layer.equation("forward L"), {**v, "s": run(layer.equation("forward s"),
                                                                       v)}))

    def jacobian_rows(case: Case) -> None:
        jac = run(layer.equation("ds/dz"), case.values)
        for row in range(classes):
            s_row = lambda v, r=row: float(run(layer.equation("forward s"), v)[r])
            directional_check(s_row, case.values, "z", jac[row], rng)

    return Case(f"softmax-CE N{classes} {target}", layer, values, {"dL/dz": ("z", loss_of_z)},
                jacobian_rows)


@pytest.mark.parametrize(("classes", "target"),
                         list(itertools.product([2, 4], ["one-hot", "probability"])))
def test_softmax_ce_matrix(classes: int, target: str) -> None:
    rng = np.random.default_rng(classes)
    assert check_case(softmax_case(classes, target, rng), rng) == 4


def test_softmax_ce_assumption_step_is_needed() -> None:
    """The step before target_sum, s_j Σt − t_j, is ∂L/∂z_j for any t; s − t only when Σt = 1."""
    layer, rng = softmax_ce_layer(), np.random.default_rng(3)
    z, t = rng.normal(size=3), rng.uniform(0.2, 1.0, size=3)  # Σt ≠ 1
    values = {"z": z, "t": t, "N": 3}
    values["s"] = run(layer.equation("forward s"), values)
    step = layer.equation("dL/dz").steps[-1]
    assert step.rule == "target_sum"
    from chainrule.derive.layers.softmax import j
    before = evaluate(step.before, [(j, 3)], values)
    after = evaluate(step.after, [(j, 3)], values)

    def loss(v: Values) -> float:
        return float(run(layer.equation("forward L"), {**v, "s": run(layer.equation("forward s"),
                                                                       v)}))
    directional_check(loss, values, "z", before, rng)
    assert rel_err(after, before) > 1e-3  # without Σt = 1, s − t is not the gradient


# -- the mini-batch update ----------------------------------------------------------------------

def minibatch_case(samples: int, outputs: int, inputs: int, rng: np.random.Generator) -> Case:
    layer = minibatch_update()
    forward_z = dense_layer("linear").equation("forward z")  # z^x = w a^x + b, as printed
    values = {"a_prev": rng.normal(size=(samples, inputs)), "w": rng.normal(size=(outputs, inputs)),
              "b": rng.normal(size=outputs), "delta": rng.normal(size=(samples, outputs)),
              "eta": 0.3, "m": samples, "J": outputs, "K": inputs,
              "C": rng.normal(size=samples)}

    def cost(v: Values) -> float:  # C = (1/m) Σ_x C_x with C_x = Σ_j δ^x_j z^x_j (linearised)
        per_sample = [float(np.sum(v["delta"][x] * run(forward_z, {**v, "a_prev": v["a_prev"][x]})))
                      for x in range(samples)]
        return float(run(layer.equation("cost"), {**v, "C": np.array(per_sample)}))

    return Case(f"minibatch m{samples}", layer, values, {"dC/dw": ("w", cost), "dC/db": ("b", cost)})


def test_minibatch_matrix() -> None:
    rng = np.random.default_rng(21)
    assert check_case(minibatch_case(3, 2, 4, rng), rng) == 5


# -- lenet5, every layer with its shape symbols instantiated small ------------------------------

def small_lenet_cases(rng: np.random.Generator) -> list[Case]:
    """Each layer of derive net lenet5, keeping its K, s and P, at small channel and image sizes."""
    cases = []
    for net_layer in derive_net("lenet5").layers:
        kind, sizes, name = net_layer.derivation.kind, net_layer.sizes, f"lenet5 {net_layer.name}"
        if kind == "conv":
            k, pad = sizes["K"], sizes["P"]
            cases.append(conv_case(sizes["s"], pad, min(sizes["C"], 2), min(sizes["F"], 2), k,
                                   k + 1, k + 2, rng, name))
        elif kind in ("avgpool", "maxpool"):
            cases.append(pool_case(kind[:3], sizes["K"], sizes["s"], min(sizes["C"], 2), 4, 6,
                                   rng, name))
        elif kind == "flatten":
            cases.append(flatten_case(min(sizes["C"], 3), sizes["H"], sizes["W"], rng))
        elif kind == "softmax_ce":
            cases.append(softmax_case(3, "one-hot", rng))
        elif kind == "minibatch":
            cases.append(minibatch_case(3, 2, 3, rng))
        elif kind == "activation":
            cases.append(activation_case(net_layer.derivation, name, rng))
        else:
            assert kind == "dense", kind
            cases.append(dense_case(net_layer.derivation, name, rng))
    return cases


def activation_case(layer: LayerDerivation, name: str, rng: np.random.Generator) -> Case:
    values = {"z": rng.normal(size=5), "delta_a": rng.normal(size=5), "N": 5}
    return Case(name, layer, values, {"dL/dz": ("z", weighted(layer, "forward", "delta_a"))})


def dense_case(layer: LayerDerivation, name: str, rng: np.random.Generator) -> Case:
    outputs, inputs, following = 3, 4, 2
    values = {"w": rng.normal(size=(outputs, inputs)), "b": rng.normal(size=outputs),
              "a_prev": rng.normal(size=inputs), "z": rng.normal(size=outputs),
              "delta": rng.normal(size=outputs), "w_next": rng.normal(size=(following, outputs)),
              "delta_next": rng.normal(size=following), "J": outputs, "K": inputs, "N": following}
    z_loss = weighted(layer, "forward z", "delta")  # BP3, BP4: L = Σ δ ⊙ z
    gradients = {"BP3": ("b", z_loss), "BP4": ("w", z_loss)}
    names = [eq.name for eq in layer.equations]
    if "BP2" in names:
        def next_layer(v: Values) -> float:  # L = Σ_k δˡ⁺¹_k (wˡ⁺¹ a(z))_k, a as printed
            return float(v["delta_next"] @ v["w_next"] @ run(layer.equation("forward a"), v))
        gradients["BP2"] = ("z", next_layer)
    return Case(name, layer, values, gradients)


LENET_CASES = small_lenet_cases(np.random.default_rng(5))


@pytest.mark.parametrize("index", range(len(LENET_CASES)),
                         ids=[case.name for case in LENET_CASES])
def test_lenet5_layers(index: int) -> None:
    case = LENET_CASES[index]
    assert check_case(case, np.random.default_rng(index)) == len(case.layer.equations)


def test_the_matrix_covers_every_layer_of_lenet5() -> None:
    kinds = {case.layer.kind for case in LENET_CASES}
    assert kinds == {"conv", "activation", "avgpool", "flatten", "dense", "softmax_ce",
                     "minibatch"}
    assert len(CONV_GRID) == 12 and len(POOL_GRID) == 8


def undeclared_sizes(layer: LayerDerivation) -> set[sp.Symbol]:
    """Shape symbols an equation uses that the layer's ``sizes`` does not list."""
    used = {s for eq in layer.equations for s in eq.rhs.free_symbols
            if isinstance(s, sp.Symbol) and s.is_integer and s.is_positive}
    return used - set(layer.sizes)


@pytest.mark.parametrize("index", range(len(LENET_CASES)),
                         ids=[case.name for case in LENET_CASES])
def test_every_size_an_equation_uses_is_declared(index: int) -> None:
    """Found by the matrix: a hidden dense layer's sizes left out N, which BP2 sums over."""
    layer = LENET_CASES[index].layer
    assert not undeclared_sizes(layer), undeclared_sizes(layer)
