"""The output-layer error δ = ∂L/∂z for an activation and a loss (BP1 in Nielsen's numbering).

For a scalar loss it is ``sympy.diff(L(g(z), t), z)``, simplified. Two pairs have stable closed forms
that the simplification reaches and the rule table names: σ with binary cross-entropy gives a − t,
and softmax with cross-entropy gives s − t (Bishop, *PRML*, §4.3.2 and §4.3.4). The softmax case is
derived on three explicit classes and generalised per class k, which the tests check.
"""

from __future__ import annotations

import sympy as sp

from chainrule.derive.activations import A, Z, get_activation
from chainrule.derive.losses import T, get_loss
from chainrule.errors import ChainruleError

S = sp.Symbol("s", real=True)  # softmax output s_k of the class in question


def output_delta(activation: str, loss: str, *, symbolic: bool = False) -> sp.Expr:
    """δ = ∂L/∂z for one output unit, in the symbols z, a (= g(z)) and t (and α if ``symbolic``:
    the activation's parameter kept as its symbol, as derivations print it).

    For ``softmax_ce`` the activation is ignored (softmax is part of the loss) and the result is in
    s and t.
    """
    loss_def = get_loss(loss)
    if loss_def.name == "softmax_ce":
        return softmax_ce_delta()
    act = get_activation(activation)
    if loss_def.scalar is None:
        raise ChainruleError(f"loss {loss!r} has no per-unit form")
    g = act.symbolic if symbolic else act.expr
    raw = sp.diff(loss_def.scalar.subs(A, g), Z)  # chain rule through g
    return sp.factor(sp.cancel(raw.subs(g, A)))


def softmax_ce_delta(classes: int = 3) -> sp.Expr:
    """∂/∂z_0 of −Σ t_i ln softmax(z)_i, derived on ``classes`` explicit classes, written as s − t."""
    zs = sp.symbols(f"z0:{classes}", real=True)
    ts = sp.symbols(f"t0:{classes}", real=True)
    total = sum(sp.exp(z) for z in zs)
    loss = -sum(t * (z - sp.log(total)) for t, z in zip(ts, zs, strict=True))
    derivative = sp.diff(loss, zs[0])
    softmax_0 = sp.exp(zs[0]) / total
    # Σ t_i = 1 for a one-hot (or probability) target.
    derivative = sp.expand(derivative.subs(ts[-1], 1 - sum(ts[:-1])))
    result = derivative.subs(sp.expand(softmax_0), S).subs(ts[0], T)
    if result.free_symbols - {S, T}:
        raise AssertionError(f"softmax-CE derivation did not close: {result}")
    return result
