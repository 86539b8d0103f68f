"""The verification matrix for dense, dropout and penalty layers of ``derive net``, generated.

Every activation of the registry (each parametric one at its default α and at α = 0.1) × every
loss × penalty none/L1/L2 × dropout off/on, on a random mlp:K-J-M (sizes and values seeded per
combination). For each combination the equations that ``derive_net`` prints for its dense,
dropout and penalty layers are evaluated from their SymPy right-hand sides
(:func:`chainrule.derive.layers.evaluate`):

* the forward equations are composed into the cost (the loss itself is written in NumPy here, an
  independent reference), and every backward equation is compared with float64 central
  differences of that composition;
* every printed matrix form (``Equation.matrix_numpy``) is compared with its index form;
* structure: no index on a right-hand side that is neither summed nor on the left, no Kronecker
  delta left in a backward equation, and α printed as a symbol with its value stated.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from functools import cache
from typing import Any

import numpy as np
import pytest
import sympy as sp
from conftest import central_difference, rel_err

from chainrule.derive.activations import ACTIVATIONS, ALPHA, get_activation
from chainrule.derive.layers import Equation, evaluate
from chainrule.derive.losses import LOSSES
from chainrule.derive.net import NetLayer, derive_net
from chainrule.derive.penalties import PENALTIES

ACTS = [name for entry in ACTIVATIONS.values()
        for name in ([entry.name, f"{entry.name}:0.1"] if entry.parameter else [entry.name])]
PENALTY_CHOICES = [None, *PENALTIES]
COMBOS = list(itertools.product(ACTS, list(LOSSES), PENALTY_CHOICES, (False, True)))
TOL = 1e-6


def _loss(name: str, out: np.ndarray, t: np.ndarray, weights: np.ndarray) -> float:
    """The cost C₀ in NumPy, written independently of the registry ("none": any smooth C)."""
    if name == "mse":
        return float(np.mean((t - out) ** 2))
    if name == "half_mse":
        return float(0.5 * np.sum((t - out) ** 2))
    if name == "bce":
        return float(-np.mean(t * np.log(out) + (1 - t) * np.log(1 - out)))
    if name == "softmax_ce":  # out: the logits
        shifted = out - np.max(out)
        return float(-np.sum(t * (shifted - np.log(np.sum(np.exp(shifted))))))
    return float(np.sum(weights * np.sin(out) + out**2 / 2))  # "none": ∇ₐC given, C arbitrary


@cache
def _extents(indices: tuple, sizes: tuple[tuple[str, int], ...]) -> list[tuple[sp.Symbol, int]]:
    named = dict(sizes)
    return [(idx, int(sp.sympify(n).subs({s: named[s.name] for s in sp.sympify(n).free_symbols})))
            for idx, n in indices]


def _ev(eq: Equation, sizes: Mapping[str, int], values: Mapping[str, Any]) -> np.ndarray:
    return evaluate(eq.rhs, _extents(eq.indices, tuple(sorted(sizes.items()))),
                    {**sizes, **values})


def _free_indices(expr: sp.Expr) -> set[sp.Symbol]:
    return {s for s in expr.free_symbols if s.is_integer and not s.is_positive}


class Case:
    """One combination: the derived net, random values, and the forward pass composed from the
    printed forward equations."""

    def __init__(self, act: str, loss: str, penalty: str | None, dropout: bool, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.act, self.loss, self.penalty, self.dropout = act, loss, penalty, dropout
        k, j = (int(n) for n in rng.integers(2, 4, size=2))
        m = int(rng.integers(2 if loss == "softmax_ce" else 1, 4))
        self.net = derive_net(f"mlp:{k}-{j}-{m}", activation=act, loss=loss, penalty=penalty,
                              dropout=dropout)
        kinds = {layer.derivation.kind: layer for layer in self.net.layers}
        dense = [layer for layer in self.net.layers if layer.derivation.kind == "dense"]
        self.hidden, self.out = dense
        self.drop: NetLayer | None = kinds.get("dropout")
        self.softmax: NetLayer | None = kinds.get("softmax_ce")
        self.pen: NetLayer | None = kinds.get(f"{penalty}_penalty")
        entry = get_activation(act)
        self.alpha = float(entry.value) if entry.value is not None else None
        self.x = rng.normal(size=k)
        self.w1, self.w2 = rng.normal(size=(j, k)), rng.normal(size=(m, j))
        self.mask = (rng.random(j) < 0.6).astype(float)
        self.mask[rng.integers(j)] = 1.0
        self.keep = float(rng.uniform(0.5, 0.9))
        self.lam, self.eta = float(rng.uniform(0.05, 0.5)), float(rng.uniform(0.05, 0.5))
        self.t = (np.eye(m)[rng.integers(m)] if loss == "softmax_ce" else rng.uniform(0.1, 0.9, m))
        self.c = rng.normal(size=m)  # the "none" loss's weights
        # biases that put each pre-activation away from the kinks at 0, and the output where the
        # loss is defined (0 < a < 1 for bce)
        self.b1 = self._zone(rng, j, False) - self.w1 @ self.x
        self.b2 = np.zeros(m)
        self.b2 = self._zone(rng, m, loss == "bce") - self.w2 @ self.y1(self.a1(self.z1(self.w1, self.b1)))

    def _zone(self, rng: np.random.Generator, n: int, unit_interval: bool) -> np.ndarray:
        grid = np.linspace(-3, 3, 601)
        grid = grid[np.abs(grid) > 0.2]
        if unit_interval:
            a = _ev(self.out.derivation.equation("forward a"), {"J": grid.size},
                    self._act_values(grid))
            grid = grid[(a > 0.05) & (a < 0.95)]
            if grid.size == 0:
                pytest.skip(f"bce is undefined for {self.act}'s outputs (never inside (0, 1))")
        return rng.choice(grid, size=n)

    def _act_values(self, z: np.ndarray) -> dict[str, Any]:
        values: dict[str, Any] = {"z": z}
        if self.alpha is not None:
            values["alpha"] = self.alpha
        return values

    # the forward pass, each stage an equation that derive net printed
    def z1(self, w1: np.ndarray, b1: np.ndarray) -> np.ndarray:
        h = self.hidden
        return _ev(h.derivation.equation("forward z"), h.sizes, {"w": w1, "a_prev": self.x, "b": b1})

    def a1(self, z1: np.ndarray) -> np.ndarray:
        return _ev(self.hidden.derivation.equation("forward a"), self.hidden.sizes,
                   self._act_values(z1))

    def y1(self, a1: np.ndarray) -> np.ndarray:
        if self.drop is None:
            return a1
        return _ev(self.drop.derivation.equation("forward"), self.drop.sizes,
                   {"a": a1, "mask": self.mask, "p": self.keep})

    def z2(self, y1: np.ndarray, w2: np.ndarray, b2: np.ndarray) -> np.ndarray:
        return _ev(self.out.derivation.equation("forward z"), self.out.sizes,
                   {"w": w2, "a_prev": y1, "y_prev": y1, "b": b2})

    def a2(self, z2: np.ndarray) -> np.ndarray:
        if self.softmax is not None:
            return z2  # the logits: the softmax is in the loss
        return _ev(self.out.derivation.equation("forward a"), self.out.sizes, self._act_values(z2))

    def cost_of_z2(self, z2: np.ndarray) -> float:
        return _loss(self.loss, self.a2(z2), self.t, self.c)

    def cost_of_y1(self, y1: np.ndarray) -> float:
        return self.cost_of_z2(self.z2(y1, self.w2, self.b2))

    def cost_of_a1(self, a1: np.ndarray) -> float:
        return self.cost_of_y1(self.y1(a1))

    def cost_of_z1(self, z1: np.ndarray) -> float:
        return self.cost_of_a1(self.a1(z1))

    def cost0(self, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray) -> float:
        return self.cost_of_z2(self.z2(self.y1(self.a1(self.z1(w1, b1))), w2, b2))

    def penalised(self, cost0: float, w: np.ndarray) -> float:
        """C = C₀ + penalty(w) by the printed cost equation."""
        assert self.pen is not None
        rows, cols = w.shape
        return float(_ev(self.pen.derivation.equation("cost"), {"J": rows, "K": cols},
                         {"C_0": cost0, "w": w, "lambda": self.lam}))


class Faults(list):
    """The faults found, and how many comparisons were made."""

    checks = 0


def _check(name: str, derived: np.ndarray, reference: np.ndarray, faults: Faults) -> None:
    faults.checks += 1
    err = rel_err(derived, reference)
    if not err < TOL:  # also catches NaN
        faults.append(f"{name}: rel err {err:.2e}")


def _check_matrix(eq: Equation, index_form: np.ndarray, values: Mapping[str, Any], where: str,
                  faults: Faults) -> None:
    if eq.matrix_numpy is None:
        faults.append(f"{where} {eq.name}: no matrix_numpy")
        return
    _check(f"{where} {eq.name} matrix form", np.asarray(eq.matrix_numpy(values)), index_form,
           faults)


def _structure(layer: NetLayer, act: str, faults: Faults) -> None:
    """Free indices, Kronecker deltas and α on every equation of ``layer``."""
    entry = get_activation(act)
    stated = entry.note.split(",")[0]  # "α = 0.1"
    for eq in layer.derivation.equations:
        faults.checks += 1
        lhs = {idx for idx, _ in eq.indices}
        stray = _free_indices(eq.rhs) - lhs
        if stray:
            faults.append(f"{layer.name} {eq.name}: free index {sorted(map(str, stray))} on the rhs")
        if eq in layer.derivation.backward and eq.rhs.has(sp.KroneckerDelta):
            faults.append(f"{layer.name} {eq.name}: Kronecker delta left")
        if entry.parameter is not None and eq.rhs.has(ALPHA) and stated not in eq.note:
            faults.append(f"{layer.name} {eq.name}: α printed without its value ({stated})")
        if entry.value is not None and entry.value not in (0, 1) and eq.rhs.has(entry.value):
            faults.append(f"{layer.name} {eq.name}: α printed as the number {entry.value}")


def run_case(act: str, loss: str, penalty: str | None, dropout: bool, seed: int
             ) -> Faults:
    """Check one combination: the faults found, and how many checks were made."""
    case, faults = Case(act, loss, penalty, dropout, seed), Faults()
    hidden, out = case.hidden.derivation, case.out.derivation
    z1 = case.z1(case.w1, case.b1)
    a1 = case.a1(z1)
    y1 = case.y1(a1)
    z2 = case.z2(y1, case.w2, case.b2)
    a2 = case.a2(z2)
    act_values = case._act_values

    # forward matrix forms
    _check_matrix(hidden.equation("forward z"), z1, {"w": case.w1, "a_prev": case.x, "b": case.b1},
                  "hidden", faults)
    _check_matrix(hidden.equation("forward a"), a1, act_values(z1), "hidden", faults)
    _check_matrix(out.equation("forward z"), z2, {"w": case.w2, "a_prev": y1, "y_prev": y1,
                                                   "b": case.b2}, "output", faults)
    if case.softmax is None:
        _check_matrix(out.equation("forward a"), a2, act_values(z2), "output", faults)

    # BP1 (or the softmax layer's δ = s − t), against ∂C/∂z² by central differences
    numeric_delta2 = central_difference(case.cost_of_z2, z2)
    if case.softmax is not None:
        sm = case.softmax
        s = _ev(sm.derivation.equation("forward s"), sm.sizes, {"z": z2})
        delta2 = _ev(sm.derivation.equation("dL/dz"), sm.sizes, {"s": s, "t": case.t})
    else:
        values = {**act_values(z2), "a": a2, "t": case.t}
        if loss == "none":
            values["nabla_a"] = central_difference(lambda a: _loss("none", a, case.t, case.c), a2)
        bp1 = out.equation("BP1")
        delta2 = _ev(bp1, case.out.sizes, values)
        _check_matrix(bp1, delta2, values, "output", faults)
    _check("BP1 δᴸ", delta2, numeric_delta2, faults)

    # BP3, BP4 of the output layer
    weights = (case.w1, case.b1, case.w2, case.b2)
    bp3 = out.equation("BP3")
    db2 = _ev(bp3, case.out.sizes, {"delta": delta2})
    _check("output BP3", db2, central_difference(lambda b: case.cost0(*weights[:3], b),
                                                 case.b2), faults)
    _check_matrix(bp3, db2, {"delta": delta2}, "output", faults)
    bp4 = out.equation("BP4")
    prev = {"delta": delta2, "a_prev": y1, "y_prev": y1}
    dw2 = _ev(bp4, case.out.sizes, prev)
    numeric_dw2 = central_difference(lambda w: case.cost0(*weights[:2], w, case.b2), case.w2)
    _check("output BP4", dw2, numeric_dw2, faults)
    _check_matrix(bp4, dw2, prev, "output", faults)

    # BP2 of the hidden layer (μ/p with dropout), BP3, BP4
    bp2 = hidden.equation("BP2")
    values = {**act_values(z1), "w_next": case.w2, "delta_next": delta2, "mask": case.mask,
              "p": case.keep}
    delta1 = _ev(bp2, case.hidden.sizes, values)
    _check("BP2 δˡ", delta1, central_difference(case.cost_of_z1, z1), faults)
    _check_matrix(bp2, delta1, values, "hidden", faults)
    db1 = _ev(hidden.equation("BP3"), case.hidden.sizes, {"delta": delta1})
    _check("hidden BP3", db1, central_difference(lambda b: case.cost0(case.w1, b, *weights[2:]),
                                                 case.b1), faults)
    _check_matrix(hidden.equation("BP3"), db1, {"delta": delta1}, "hidden", faults)
    prev = {"delta": delta1, "a_prev": case.x}
    dw1 = _ev(hidden.equation("BP4"), case.hidden.sizes, prev)
    numeric_dw1 = central_difference(lambda w: case.cost0(w, *weights[1:]), case.w1)
    _check("hidden BP4", dw1, numeric_dw1, faults)
    _check_matrix(hidden.equation("BP4"), dw1, prev, "hidden", faults)

    if case.drop is not None:  # ∂C/∂a = μ ⊙ (∂C/∂y) / p
        dy = central_difference(case.cost_of_y1, y1)
        values = {"mask": case.mask, "p": case.keep, "dC_dy": dy, "a": a1}
        da = _ev(case.drop.derivation.equation("dC/da"), case.drop.sizes, values)
        _check("dropout dC/da", da, central_difference(case.cost_of_a1, a1), faults)
        _check_matrix(case.drop.derivation.equation("dC/da"), da, values, "dropout", faults)
        _check_matrix(case.drop.derivation.equation("forward"), y1, values, "dropout", faults)

    if case.pen is not None:  # ∂C/∂w = ∂C₀/∂w + penalty term, and the update, for each layer
        pen = case.pen.derivation
        c0 = case.cost0(*weights)
        for w, dw0, numeric_dw0 in ((case.w1, dw1, numeric_dw1), (case.w2, dw2, numeric_dw2)):
            sizes = {"J": w.shape[0], "K": w.shape[1]}
            values = {"w": w, "dC0_dw": dw0, "lambda": case.lam, "eta": case.eta, "C_0": c0}
            # C = C₀ + penalty by the printed cost equation: ∂C/∂w = ∂C₀/∂w + ∂penalty/∂w
            numeric = numeric_dw0 + central_difference(lambda w_: case.penalised(c0, w_), w)
            grad = _ev(pen.equation("dC/dw"), sizes, values)
            _check(f"{pen.kind} dC/dw", grad, numeric, faults)
            _check_matrix(pen.equation("dC/dw"), grad, values, pen.kind, faults)
            new = _ev(pen.equation("update"), sizes, values)
            _check(f"{pen.kind} update", new, w - case.eta * numeric, faults)
            _check_matrix(pen.equation("update"), new, values, pen.kind, faults)
            cost_value = _ev(pen.equation("cost"), sizes, values)
            _check_matrix(pen.equation("cost"), cost_value, values, pen.kind, faults)

    for layer in (case.hidden, case.out, case.drop, case.pen):
        if layer is not None:
            _structure(layer, act, faults)
    return faults


@pytest.mark.parametrize(("act", "loss", "penalty", "dropout"), COMBOS,
                         ids=[f"{a}-{l}-{p or 'nopen'}-{'drop' if d else 'nodrop'}"
                              for a, l, p, d in COMBOS])
def test_dense_dropout_penalty_equations(act: str, loss: str, penalty: str | None,
                                         dropout: bool) -> None:
    seed = COMBOS.index((act, loss, penalty, dropout))
    faults = run_case(act, loss, penalty, dropout, seed)
    assert faults.checks >= 12
    assert not faults, "\n".join(faults)


def test_the_matrix_covers_every_activation_loss_penalty_and_dropout() -> None:
    assert {"leaky_relu", "leaky_relu:0.1", "elu", "elu:0.1"} <= set(ACTS)
    assert set(ACTS) >= set(ACTIVATIONS)
    assert {loss for _, loss, _, _ in COMBOS} == set(LOSSES)
    assert len(COMBOS) == len(ACTS) * len(LOSSES) * 3 * 2


def test_the_checks_catch_a_wrong_equation(monkeypatch: pytest.MonkeyPatch) -> None:
    """A matrix that cannot fail is no check: BP2 without its activation derivative fails it."""
    from dataclasses import replace

    import chainrule.derive.net as net_module

    real = net_module.dense_layer

    def broken(*args: Any, **kwargs: Any) -> Any:
        layer = real(*args, **kwargs)
        if kwargs.get("output"):
            return layer
        bp2 = layer.equation("BP2")
        wrong = replace(bp2, rhs=bp2.rhs * sp.Rational(11, 10))
        return replace(layer, backward=(wrong, *layer.backward[1:]))

    monkeypatch.setattr(net_module, "dense_layer", broken)
    faults = run_case("leaky_relu:0.1", "half_mse", None, False, seed=5)
    assert any(fault.startswith("BP2 δˡ:") for fault in faults)
    assert any(fault.startswith("hidden BP2 matrix form") for fault in faults)
