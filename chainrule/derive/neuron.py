"""One neuron, forward and backward: z = Σ wᵢxᵢ + b, a = g(z), L = loss(a, t).

The gradient is derived factor by factor, each factor a :class:`Step` citing its rule:
∂L/∂a (``sympy.diff`` of the loss), ∂a/∂z (``sympy.diff`` of the activation, a named identity),
δ = ∂L/∂z (their product, simplified by :func:`output_delta`: σ with BCE gives a − t), then
∂z/∂wᵢ = xᵢ, ∂z/∂b = 1, ∂z/∂xᵢ = wᵢ (``sympy.diff`` of the weighted sum) and the chain rule.
Over a batch the loss is the mean over the samples, so half-MSE gives C = 1/(2n)·Σ(t − a)².
An activation with a parameter (leaky ReLU's slope, ELU's scale) keeps it as the symbol α in every
formula (the registry entry's ``symbolic`` form), and the report's ``note`` states its value; the
numbers put the value in.
With ``softmax_ce`` the unit is a softmax layer of K neurons (w is K × n, the activation is the
softmax, its output s) and the steps are in index form: ∂L/∂s_k, the Jacobian ∂s_i/∂z_k, δ_k =
s_k Σ_i t_i − t_k, then δ_k = s_k − t_k as its own step that states Σ_i t_i = 1, and
∂L/∂w_kj = δ_k x_j, ∂L/∂b_k = δ_k, ∂L/∂x_j = Σ_k δ_k w_kj.

Follows Nielsen, *Neural Networks and Deep Learning* (2015), ch. 1–3, and Goodfellow, Bengio &
Courville, *Deep Learning* (2016), §6.5.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import sympy as sp

from chainrule.derive.activations import A, Z, get_activation
from chainrule.derive.derivation import Step
from chainrule.derive.functions import elementary
from chainrule.derive.losses import T, get_loss
from chainrule.derive.output_delta import S, output_delta
from chainrule.derive.values import Value
from chainrule.errors import ChainruleError

SOFTMAX = "softmax"  # the activation of the softmax_ce layer
_I, _J = sp.Idx("i"), sp.Idx("j")
_N = sp.Symbol("n", integer=True, positive=True)
W_VEC, X_VEC = sp.IndexedBase("w", real=True), sp.IndexedBase("x", real=True)
B = sp.Symbol("b", real=True)
L_SYM = sp.Symbol("L", real=True)
DELTA = sp.Symbol("delta", real=True)
WEIGHTED_SUM = sp.Sum(W_VEC[_I] * X_VEC[_I], (_I, 1, _N)) + B  # z = Σ wᵢxᵢ + b
# The softmax layer: K classes k, n inputs j; z_k = Σ_j w_kj x_j + b_k, s = softmax(z).
_K, _CLASSES = sp.Idx("k"), sp.Symbol("K", integer=True, positive=True)
Z_VEC, S_VEC = sp.IndexedBase("z", real=True), sp.IndexedBase("s", positive=True)
T_VEC, B_VEC = sp.IndexedBase("t", real=True), sp.IndexedBase("b", real=True)
DELTA_VEC = sp.IndexedBase("delta", real=True)
CLASS_SUM = sp.Sum(W_VEC[_K, _I] * X_VEC[_I], (_I, 1, _N)) + B_VEC[_K]  # z_k
CROSS_ENTROPY = -sp.Sum(T_VEC[_I] * sp.log(S_VEC[_I]), (_I, 1, _CLASSES))  # L = −Σ_i t_i ln s_i


@dataclass(frozen=True)
class NeuronData:
    """Numbers for a neuron: x is (samples, inputs), w is (outputs, inputs), t is (samples, outputs)."""

    x: np.ndarray
    w: np.ndarray
    b: np.ndarray  # (outputs,)
    t: np.ndarray
    batch: bool  # x was given as several samples


@dataclass(frozen=True)
class NeuronReport:
    """The derivation (``steps``) and, when numbers were given, ``forward`` and ``gradients``."""

    activation: str
    loss: str
    steps: tuple[Step, ...]
    forward: dict[str, float | list] = field(default_factory=dict)
    gradients: dict[str, float | list] = field(default_factory=dict)
    data: NeuronData | None = None
    note: str = ""  # the activation's parameter, e.g. "α = 0.1, the slope for z < 0"

    def _repr_latex_(self) -> str:
        from chainrule.derive.printing.latex import latex  # the printer imports this module's types

        return latex(self)

    def step_values(self) -> list[float | list | None]:
        """The number each step comes to at the given values (None where there is none)."""
        values: list[float | list | None] = []
        for step in self.steps:
            key = _chain_key(step)
            values.append(self.gradients.get(key) if key in ("w", "b", "x") else step.value)
        return values


@dataclass(frozen=True)
class NeuronFactors:
    """The derived per-unit expressions, in z, a (= g(z)) and t (s for softmax), with an
    activation's parameter kept as its symbol α (its value in ``values``)."""

    g: sp.Expr  # a = g(z)
    loss: sp.Expr  # L(a, t)
    dl_da: sp.Expr  # ∂L/∂a
    da_dz: sp.Expr  # ∂a/∂z (for softmax: the Jacobian ∂s_i/∂z_k = s_i(𝟙[i = k] − s_k))
    delta: sp.Expr  # ∂L/∂z, simplified
    values: dict[sp.Symbol, sp.Expr] = field(default_factory=dict)  # {α: 1/10}; {} without one

    def numeric(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` with the parameter's value put in for α (what is evaluated)."""
        return expr.subs(self.values) if self.values else expr


@lru_cache(maxsize=64)
def neuron_factors(activation: str, loss: str) -> NeuronFactors:
    """Derive the factors of ∂L/∂z for one unit by SymPy differentiation, α kept symbolic."""
    loss_def = get_loss(loss)
    if loss_def.name == "softmax_ce":
        loss_expr = -T * sp.log(S)  # one class's term of −Σ tᵢ ln sᵢ
        jacobian = S_VEC[_I] * (sp.KroneckerDelta(_I, _K) - S_VEC[_K])  # named identity
        return NeuronFactors(S, loss_expr, sp.diff(loss_expr, S), jacobian,
                             output_delta(SOFTMAX, loss_def.name))
    act = get_activation(activation)
    loss_expr = loss_def.scalar
    return NeuronFactors(act.symbolic, loss_expr, loss_def.derivative(),
                         sp.diff(act.symbolic, Z),
                         output_delta(activation, loss_def.name, symbolic=True), act.values)


def derive_neuron(activation: str | None, loss: str,
                  values: dict[str, Value] | None = None) -> NeuronReport:
    """The neuron's derivation, and its numbers at ``values`` (x, w, b, t) when given.

    ``activation`` None means ReLU (every command's default), or the softmax for ``softmax_ce`` (which takes no other).
    """
    loss_def = get_loss(loss)
    name = activation_name(activation, loss_def.name)
    factors = neuron_factors(name, loss_def.name)
    note = "" if name == SOFTMAX else get_activation(name).note
    if values is None:
        return NeuronReport(name, loss_def.name, symbolic_steps(name, loss_def.name), note=note)
    data = neuron_data(values, loss=loss_def.name)
    forward, gradients, deltas = evaluate(factors, data, activation=name, loss=loss_def.name)
    steps = symbolic_steps(name, loss_def.name, forward=forward, gradients=gradients,
                           deltas=deltas)
    return NeuronReport(name, loss_def.name, steps, forward, gradients, data, note)


def activation_name(activation: str | None, loss: str) -> str:
    """The registry name of ``activation``; "softmax" for softmax_ce, which allows no other."""
    if loss == "softmax_ce":
        if activation not in (None, SOFTMAX):
            raise ChainruleError(f"softmax_ce puts a softmax on the K outputs: --activation "
                                 f"{activation} does not apply (leave it out)")
        return SOFTMAX
    if activation == SOFTMAX:
        raise ChainruleError("the softmax activation goes with --loss softmax_ce")
    return get_activation(activation or "relu").name


def symbolic_steps(activation: str, loss: str, *, forward: dict | None = None,
                   gradients: dict | None = None, deltas: np.ndarray | None = None) -> tuple[Step, ...]:
    """∂L/∂a, ∂a/∂z, δ, ∂z/∂w, ∂z/∂b, ∂z/∂x, then the three chain-rule products."""
    if loss == "softmax_ce":
        return _softmax_steps(gradients, batch=forward is not None and "L_samples" in forward)
    f = neuron_factors(activation, loss)
    out = A
    note = get_activation(activation).note
    stated = f" ({note})" if note else ""
    single = forward is not None and "L_samples" not in forward
    steps = [
        Step(get_loss(loss).rule, sp.Derivative(f.loss, out), f.dl_da,
             f"differentiate the {loss} loss with respect to the output {out}",
             value=_single(forward, "dL_da") if single else None),
        _activation_step(activation, f, value=_single(forward, "da_dz") if single else None),
        Step(_delta_rule(activation, loss), sp.Mul(sp.Derivative(L_SYM, out),
                                                   sp.Derivative(out, Z), evaluate=False),
             f.delta, f"δ = ∂L/∂z: chain rule through the activation, simplified{stated}",
             value=float(deltas[0, 0]) if single and deltas is not None and deltas.size == 1
             else None),
    ]
    steps += _weighted_sum_steps()
    steps += _chain_steps(gradients, batch=forward is not None and not single)
    return tuple(steps)


def _chain_key(step: Step) -> str | None:
    """"w", "b" or "x" for the three final chain-rule steps (∂L/∂w, ∂L/∂b, ∂L/∂x), else None."""
    before = step.before.function if isinstance(step.before, sp.Sum) else step.before
    if step.rule != "chain" or not isinstance(before, sp.Mul):
        return None
    inner = [arg for arg in before.args  # the ∂z/∂(·) factor
             if isinstance(arg, sp.Derivative) and arg.expr in (Z, Z_VEC[_K])]
    if not inner:
        return None
    wrt = inner[0].variables[0]
    return "b" if wrt == B else str(wrt.base)


def _activation_step(activation: str, f: NeuronFactors, *, value: float | None) -> Step:
    act = get_activation(activation)
    stated = f"; {act.note}" if act.note else ""
    return Step(act.rule, sp.Derivative(f.g, Z), f.da_dz,
                f"the derivative of {activation} (named identity){stated}", value=value)


def _delta_rule(activation: str, loss: str) -> str:
    if activation == "sigmoid" and loss == "bce":
        return "sigmoid_bce"
    return "chain"


def _weighted_sum_steps() -> list[Step]:
    steps = []
    for wrt, what in ((W_VEC[_J], "weight"), (B, "bias"), (X_VEC[_J], "input")):
        derivative = sp.diff(WEIGHTED_SUM, wrt).doit()
        if isinstance(derivative, sp.Piecewise):  # the branch with j inside 1..n
            derivative = derivative.args[0].expr
        steps.append(Step("sum", sp.Derivative(WEIGHTED_SUM, wrt), derivative,
                          f"the weighted sum is linear in each {what}"))
    return steps


def _chain_steps(gradients: dict | None, *, batch: bool) -> list[Step]:
    mean = " averaged over the batch" if batch else ""
    pairs = ((W_VEC[_J], DELTA * X_VEC[_J], "w"), (B, DELTA, "b"), (X_VEC[_J], DELTA * W_VEC[_J], "x"))
    steps = []
    for wrt, after, key in pairs:
        value = gradients.get(key) if gradients else None
        numeric = None if value is None else f"∂L/∂{key} = {_show(value)}"
        steps.append(Step("chain", sp.Mul(sp.Derivative(L_SYM, Z), sp.Derivative(Z, wrt),
                                          evaluate=False), after,
                          f"chain rule: ∂L/∂{key} = δ · ∂z/∂{key}{mean}", numeric=numeric,
                          value=value if isinstance(value, float) else None))
    return steps


def _softmax_steps(gradients: dict | None, *, batch: bool) -> tuple[Step, ...]:
    """The softmax layer's steps in index form: class k, input j, the sums over i and k shown."""
    dl_ds = _in_range(sp.diff(CROSS_ENTROPY, S_VEC[_K]).doit())  # −t_k / s_k
    jacobian = neuron_factors(SOFTMAX, "softmax_ce").da_dz  # s_i (𝟙[i = k] − s_k)
    chained = sp.Sum(dl_ds.xreplace({_K: _I}) * jacobian, (_I, 1, _CLASSES))
    expanded = sp.expand(chained.function)
    contracted = _in_range(sp.Add(*[sp.Sum(term, (_I, 1, _CLASSES)).doit()
                                    for term in sp.Add.make_args(expanded)]))
    contracted = sp.collect(sp.factor_terms(contracted), S_VEC[_K])  # s_k Σ_i t_i − t_k
    delta = contracted.subs(sp.Sum(T_VEC[_I], (_I, 1, _CLASSES)), 1)
    dl_dz = sp.Derivative(L_SYM, Z_VEC[_K])
    steps = [
        Step("log", sp.Derivative(CROSS_ENTROPY, S_VEC[_K]), dl_ds,
             "differentiate L = −Σ_i t_i ln s_i with respect to the output s_k (log rule)"),
        Step("softmax_jacobian", sp.Derivative(S_VEC[_I], Z_VEC[_K]), jacobian,
             "the softmax Jacobian ∂s_i/∂z_k = s_i(𝟙[i = k] − s_k), i.e. diag(s) − s sᵀ "
             "(𝟙[i = k] is the Kronecker delta)"),
        Step("chain", dl_dz, chained,
             "chain rule through every output s_i: ∂L/∂z_k = Σ_i ∂L/∂s_i · ∂s_i/∂z_k"),
        Step("simplify", chained, contracted, "contract the Kronecker delta 𝟙[i = k]"),
        Step("target_sum", contracted, delta,
             "assume Σ_i t_i = 1 (a one-hot target, or a probability vector): δ_k = s_k − t_k"),
    ]
    for wrt, what in ((W_VEC[_K, _J], "weight"), (B_VEC[_K], "bias"), (X_VEC[_J], "input")):
        steps.append(Step("sum", sp.Derivative(CLASS_SUM, wrt),
                          _in_range(sp.diff(CLASS_SUM, wrt).doit()),
                          f"z_k = Σ_j w_kj x_j + b_k is linear in each {what}"))
    mean = " averaged over the batch" if batch else ""
    pairs = ((W_VEC[_K, _J], DELTA_VEC[_K] * X_VEC[_J], "w", "∂L/∂w_kj = δ_k x_j"),
             (B_VEC[_K], DELTA_VEC[_K], "b", "∂L/∂b_k = δ_k"),
             (X_VEC[_J], sp.Sum(DELTA_VEC[_K] * W_VEC[_K, _J], (_K, 1, _CLASSES)), "x",
              "∂L/∂x_j = Σ_k δ_k w_kj: x_j feeds every class k"))
    for wrt, after, key, sentence in pairs:
        value = gradients.get(key) if gradients else None
        before = sp.Mul(dl_dz, sp.Derivative(Z_VEC[_K], wrt), evaluate=False)
        if key == "x":
            before = sp.Sum(before, (_K, 1, _CLASSES))
        steps.append(Step("chain", before, after, f"chain rule: {sentence}{mean}",
                          numeric=None if value is None else f"∂L/∂{key} = {_show(value)}"))
    return tuple(steps)


def _in_range(expr: sp.Expr) -> sp.Expr:
    """The branch of each ``Piecewise`` that SymPy adds for an index inside its range."""
    return expr.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[0].expr)


def evaluate(factors: NeuronFactors, data: NeuronData, *, activation: str,
             loss: str) -> tuple[dict, dict, np.ndarray]:
    """Forward and backward with the derived factors, as NumPy arrays over the batch."""
    z = data.x @ data.w.T + data.b  # (samples, outputs)
    if loss == "softmax_ce":
        a = _softmax(z)
        per_sample = _numeric(factors.loss, {S: a, T: data.t}).sum(axis=1)  # (samples,)
        dl_da = da_dz = None
        delta = _numeric(factors.delta, {S: a, T: data.t})
    else:
        put = factors.numeric  # α's value in: the numbers are those of the activation as named
        a = _numeric(put(factors.g), {Z: z})
        per_sample = _numeric(factors.loss, {A: a, T: data.t}).sum(axis=1)
        dl_da = _numeric(factors.dl_da, {A: a, T: data.t})
        da_dz = _numeric(put(factors.da_dz), {Z: z, A: a})
        delta = _numeric(put(factors.delta), {Z: z, A: a, T: data.t})  # (samples, outputs)
    samples = data.x.shape[0]
    grad_w = delta.T @ data.x / samples  # (outputs, inputs): mean over the batch
    grad_b = delta.mean(axis=0)  # (outputs,)
    grad_x = delta @ data.w  # (samples, inputs): per sample, not averaged over the batch
    _check_finite(per_sample, grad_w)
    output = "s" if loss == "softmax_ce" else "a"  # the same name as in the steps
    forward = {"z": _shape(z, data), output: _shape(a, data), "L": float(per_sample.mean())}
    if data.batch:
        forward["L_samples"] = per_sample.tolist()
    elif loss != "softmax_ce":
        forward.update({"dL_da": _shape(dl_da, data), "da_dz": _shape(da_dz, data)})
    gradients = {"w": _weights(grad_w), "b": _scalar_or_list(grad_b),
                 "x": (grad_x / samples).tolist() if data.batch else grad_x[0].tolist()}
    return forward, gradients, delta


def neuron_loss(activation: str, loss: str, values: dict[str, Value]) -> float:
    """The loss alone at ``values`` (for finite-difference checks)."""
    loss_name = get_loss(loss).name
    name = activation_name(activation, loss_name)
    data = neuron_data(values, loss=loss_name)
    forward, _, _ = evaluate(neuron_factors(name, loss_name), data, activation=name, loss=loss_name)
    return float(forward["L"])


def neuron_data(values: dict[str, Value], *, loss: str) -> NeuronData:
    """Check and shape x, w, b, t: one sample or a batch, one output (or K for softmax_ce)."""
    needed = ["x", "w", "b"] + ([] if loss == "none" else ["t"])
    missing = [name for name in needed if name not in values]
    if missing:
        raise ChainruleError(f"missing values for {', '.join(missing)}: expected --at "
                             f"\"{','.join(f'{n}=…' for n in needed)}\"")
    extra = sorted(set(values) - {"x", "w", "b", "t"})
    if extra:
        raise ChainruleError(f"unknown values {', '.join(extra)}: expected x, w, b and t")
    w = _weights_matrix(values["w"], softmax=loss == "softmax_ce")
    x, batch = _inputs(values["x"], w.shape[1])
    b = np.atleast_1d(np.asarray(values["b"], dtype=np.float64))
    if b.ndim != 1 or b.size != w.shape[0]:
        raise ChainruleError(f"b has {b.size} values but there are {w.shape[0]} outputs: "
                             "expected one bias per output")
    t = _targets(values.get("t", 0.0), x.shape[0], w.shape[0])
    return NeuronData(x, w, b, t, batch)


def _weights_matrix(value: Value, *, softmax: bool) -> np.ndarray:
    w = np.asarray(value, dtype=np.float64)
    if softmax:
        if w.ndim != 2 or w.shape[0] < 2:
            raise ChainruleError(f"softmax_ce needs w as a K×n matrix with K ≥ 2 classes, "
                                 f"got shape {w.shape}")
        return w
    if w.ndim > 1:
        raise ChainruleError(f"w must be a number or a vector for one neuron, got shape {w.shape}")
    return np.atleast_1d(w)[None, :]  # (1, inputs)


def _inputs(value: Value, n_inputs: int) -> tuple[np.ndarray, bool]:
    x = np.asarray(value, dtype=np.float64)
    if x.ndim == 2:
        if x.shape[1] != n_inputs:
            raise ChainruleError(f"x has rows of {x.shape[1]} values but w has {n_inputs}: "
                                 "expected the same length")
        return x, True
    x = np.atleast_1d(x)
    if x.size == n_inputs:
        return x[None, :], False
    if n_inputs == 1:  # one input per sample: x lists the samples
        return x[:, None], True
    raise ChainruleError(f"x has {x.size} values but w has {n_inputs}: expected the same length")


def _targets(value: Value, samples: int, outputs: int) -> np.ndarray:
    t = np.asarray(value, dtype=np.float64)
    shaped = t.reshape(samples, outputs) if t.size == samples * outputs else None
    if shaped is None or (t.ndim == 2 and t.shape != (samples, outputs)):
        raise ChainruleError(f"t has {t.size} values but there are {samples} samples × "
                             f"{outputs} outputs: expected {samples * outputs}")
    return shaped


@lru_cache(maxsize=256)
def _compiled(expr: sp.Expr, symbols: tuple[sp.Symbol, ...]):
    return sp.lambdify(symbols, elementary(expr), modules="numpy")


def _numeric(expr: sp.Expr, values: dict[sp.Symbol, np.ndarray]) -> np.ndarray:
    symbols = tuple(values)
    shape = np.broadcast_shapes(*(np.shape(v) for v in values.values()))
    with np.errstate(all="ignore"):
        result = _compiled(expr, symbols)(*values.values())
    return np.broadcast_to(np.asarray(result, dtype=np.float64), shape)


def _softmax(z: np.ndarray) -> np.ndarray:
    shifted = np.exp(z - z.max(axis=1, keepdims=True))  # (samples, outputs)
    return shifted / shifted.sum(axis=1, keepdims=True)


def _check_finite(*arrays: np.ndarray) -> None:
    if not all(np.all(np.isfinite(a)) for a in arrays):
        raise ChainruleError("the loss or its gradient is not finite at these values "
                             "(for bce, a must stay strictly between 0 and 1)")


def _shape(values: np.ndarray | None, data: NeuronData) -> float | list | None:
    if values is None:
        return None
    if data.batch:
        return values[:, 0].tolist() if values.shape[1] == 1 else values.tolist()
    return float(values[0, 0]) if values.shape[1] == 1 else values[0].tolist()


def _weights(grad_w: np.ndarray) -> list:
    return grad_w[0].tolist() if grad_w.shape[0] == 1 else grad_w.tolist()


def _scalar_or_list(values: np.ndarray) -> float | list:
    return float(values[0]) if values.size == 1 else values.tolist()


def _single(forward: dict | None, key: str) -> float | None:
    value = (forward or {}).get(key)
    return float(value) if isinstance(value, float | int | np.floating) else None


def _show(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return f"{float(value):.4g}"  # type: ignore[arg-type]  # a number or a nested list of them
