"""A dense (fully connected) layer and its backpropagation equations BP1–BP4, derived.

Forward: z^l_j = Σ_k w^l_jk a^{l−1}_k + b^l_j and a^l_j = σ(z^l_j). The four equations of
Nielsen, *Neural Networks and Deep Learning* (2015), ch. 2, come out of :func:`chain_rule`:
BP1 δ^L = ∇_a C ⊙ σ'(z^L), BP2 δ^l = ((w^{l+1})ᵀ δ^{l+1}) ⊙ σ'(z^l), BP3 ∂C/∂b^l_j = δ^l_j and
BP4 ∂C/∂w^l_jk = a^{l−1}_k δ^l_j. Nothing is expanded element by element: J and K stay symbols.

An activation's parameter (leaky ReLU's slope α) stays the symbol α in every equation, and the
equations that use it state its value in their note. With inverted dropout on this layer's
output (``dropout=True``) the next layer reads y_j = μ_j a_j / p, so BP2 carries μ/p; a layer
whose input was dropped out (``dropped_input=True``) reads y^{l−1} instead of a^{l−1}.
Each equation's ``matrix_numpy`` computes its printed matrix form with NumPy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp

from chainrule.derive import losses
from chainrule.derive.activations import ALPHA, Activation, Z, get_activation
from chainrule.derive.derivation import Step
from chainrule.derive.functions import elementary
from chainrule.derive.layers.chain import chain_rule
from chainrule.derive.layers.dropout import KEEP
from chainrule.derive.layers.equations import Equation, LayerDerivation
from chainrule.derive.layers.evaluate import evaluate
from chainrule.derive.layers.notation import index, size, tensor
from chainrule.errors import ChainruleError

j, k, p, q, r = index("j"), index("k"), index("p"), index("q"), index("r")
J, K, N = size("J"), size("K"), size("N")  # units in this layer, in the previous, in the next
w, b, a_prev, z, a = tensor("w"), tensor("b"), tensor("a_prev"), tensor("z"), tensor("a")
y_prev, mask = tensor("y_prev"), tensor("mask")
delta, nabla_a = tensor("delta"), tensor("nabla_a")
w_next, delta_next = tensor("w_next"), tensor("delta_next")
Values = Mapping[str, Any]


def weighted_input(unit: sp.Expr = j, inner: sp.Symbol = k, *, dropped: bool = False) -> sp.Expr:
    """z_j = Σ_k w_jk a^{l−1}_k + b_j (y^{l−1}_k when the input was dropped out)."""
    source = y_prev if dropped else a_prev
    return sp.Sum(w[unit, inner] * source[inner], (inner, 0, K - 1)) + b[unit]


@lru_cache(maxsize=64)
def dense_layer(activation: str = "sigmoid", *, output: bool = False, dropout: bool = False,
                dropped_input: bool = False) -> LayerDerivation:
    """Forward and backward equations of a dense layer; BP1 if ``output`` else BP2 (with the
    dropout mask μ/p if ``dropout``); its input is y^{l−1} if ``dropped_input``."""
    act = get_activation(activation)
    g, gt = act.latex_name, act.text_name
    src, src_text, src_key = (("y^{l-1}", "yˡ⁻¹", "y_prev") if dropped_input else
                              ("a^{l-1}", "aˡ⁻¹", "a_prev"))
    forward = (
        Equation("forward z", z[j], weighted_input(dropped=dropped_input), ((j, J),),
                 rf"z^{{l}} = w^{{l}} {src} + b^{{l}}", f"zˡ = wˡ {src_text} + bˡ",
                 matrix_numpy=lambda v: np.asarray(v["w"]) @ v[src_key] + v["b"]),
        Equation("forward a", a[j], act.at(z[j], symbolic=True), ((j, J),),
                 rf"a^{{l}} = {g}(z^{{l}})", f"aˡ = {gt}(zˡ)", note=act.note,
                 matrix_numpy=lambda v: _numpy(act, act.symbolic)(v["z"], v)),
    )
    if output:
        error = output_error(act.name)
    else:
        error = hidden_error(act.name, dropout=dropout)
    return LayerDerivation("dense", f"dense layer K → J ({act.name})", _CITATION, forward,
                           (error, bias_gradient(), weight_gradient(dropped_input)),
                           (J, K) if output else (J, K, N))  # BP2 sums over the next layer's N


@lru_cache(maxsize=64)
def output_error(activation: str) -> Equation:
    """BP1: δ^L_j = ∂C/∂a_j · σ'(z_j), with C a function of the outputs a_j = σ(z_j)."""
    act = get_activation(activation)
    steps, rhs = chain_rule(upstream=nabla_a[k], output=act.at(z[k], symbolic=True),
                            limits=[(k, 0, J - 1)], wrt=z[q], wrt_extents=[(q, J)], names={q: j},
                            local_rule=act.rule,
                            local_text=f"differentiate a_k = {act.base}(z_k) by its rule; "
                            "∂z_k/∂z_j = δ_kj")
    g, gt = act.latex_name, act.text_name
    return Equation("BP1", delta[j], rhs, ((j, J),),
                    rf"\delta^{{L}} = \nabla_{{a}} C \odot {g}'(z^{{L}})",
                    f"δᴸ = ∇ₐC ⊙ {gt}′(zᴸ)", steps, note=act.note,
                    matrix_numpy=lambda v: v["nabla_a"] * _numpy(act, _prime(act))(v["z"], v))


@lru_cache(maxsize=64)
def hidden_error(activation: str, *, dropout: bool = False) -> Equation:
    """BP2: δ^l_j = Σ_k w^{l+1}_kj δ^{l+1}_k σ'(z^l_j), through z^{l+1}_k = Σ_r w^{l+1}_kr y_r + b
    with y_r = σ(z^l_r), or y_r = μ_r σ(z^l_r) / p with dropout."""
    act = get_activation(activation)
    unit = act.at(z[r], symbolic=True)
    if dropout:
        unit = mask[r] * unit / KEEP
    z_next = sp.Sum(w_next[k, r] * unit, (r, 0, J - 1)) + tensor("b_next")[k]
    kept = "; the next layer reads y_r = μ_r a_r / p (inverted dropout)" if dropout else ""
    steps, rhs = chain_rule(upstream=delta_next[k], output=z_next, limits=[(k, 0, N - 1)],
                            wrt=z[q], wrt_extents=[(q, J)], names={q: j}, local_rule=act.rule,
                            local_text=f"differentiate z⁽ˡ⁺¹⁾_k term by term; {act.base} by its "
                            f"rule, ∂z_r/∂z_j = δ_rj{kept}")
    g, gt = act.latex_name, act.text_name
    latex_mask, text_mask = (r" \odot \frac{\mu^{l}}{p}", " ⊙ μˡ/p") if dropout else ("", "")
    notes = [act.note, "μ: this layer's dropout mask, p: keep probability" if dropout else ""]
    prime = _numpy(act, _prime(act))

    def matrix(v: Values) -> Any:
        back = np.asarray(v["w_next"]).T @ v["delta_next"]
        if dropout:
            back = back * v["mask"] / v["p"]
        return back * prime(v["z"], v)

    return Equation("BP2", delta[j], rhs, ((j, J),),
                    rf"\delta^{{l}} = \left((w^{{l+1}})^{{T}} \delta^{{l+1}}\right){latex_mask} "
                    rf"\odot {g}'(z^{{l}})", f"δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹){text_mask} ⊙ {gt}′(zˡ)", steps,
                    note="; ".join(n for n in notes if n), matrix_numpy=matrix)


@lru_cache(maxsize=64)
def bias_gradient() -> Equation:
    """BP3: ∂C/∂b_j = δ_j."""
    u = index("u")
    steps, rhs = chain_rule(upstream=delta[u], output=weighted_input(u, r), limits=[(u, 0, J - 1)],
                            wrt=b[p], wrt_extents=[(p, J)], names={p: j})
    return Equation("BP3", tensor("dC_db")[j], rhs,
                    ((j, J),), r"\frac{\partial C}{\partial b^{l}} = \delta^{l}",
                    "∂C/∂bˡ = δˡ", steps, matrix_numpy=lambda v: np.asarray(v["delta"]))


@lru_cache(maxsize=64)
def weight_gradient(dropped_input: bool = False) -> Equation:
    """BP4: ∂C/∂w_jk = a^{l−1}_k δ_j (y^{l−1}_k when the input was dropped out)."""
    u = index("u")
    steps, rhs = chain_rule(upstream=delta[u], output=weighted_input(u, r, dropped=dropped_input),
                            limits=[(u, 0, J - 1)], wrt=w[p, q], wrt_extents=[(p, J), (q, K)],
                            names={p: j, q: k})
    src, src_text, src_key = (("y^{l-1}", "yˡ⁻¹", "y_prev") if dropped_input else
                              ("a^{l-1}", "aˡ⁻¹", "a_prev"))
    return Equation("BP4", tensor("dC_dw")[j, k], rhs, ((j, J), (k, K)),
                    rf"\frac{{\partial C}}{{\partial w^{{l}}}} = \delta^{{l}} ({src})^{{T}}",
                    f"∂C/∂wˡ = δˡ ({src_text})ᵀ", steps,
                    matrix_numpy=lambda v: np.outer(v["delta"], v[src_key]))


_CITATION = "Nielsen, Neural Networks and Deep Learning (2015), ch. 2"


@lru_cache(maxsize=64)
def output_error_for_loss(activation: str, loss: str) -> Equation:
    """BP1 with ∇_a C derived from the loss over the J outputs (its vector form, so that the 1/J
    of the mean squared error and of the binary cross-entropy is kept)."""
    loss_def = losses.get_loss(loss)
    if loss_def.name in ("softmax_ce", "none"):
        raise ChainruleError(f"loss {loss_def.name!r} has no per-output BP1 form: expected mse, "
                             "half_mse or bce (softmax_ce is the softmax layer's)")
    t = tensor("t")
    cost = loss_def.vector.xreplace({losses.S_VEC: a, losses.T_VEC: t, losses.I: k, losses.N: J})
    steps, gradient = chain_rule(upstream=sp.Integer(1), output=cost, limits=[], wrt=a[q],
                                 wrt_extents=[(q, J)], names={q: j},
                                 local_text=f"differentiate C = {loss_def.description} "
                                 "term by term")
    bp1 = output_error(activation)
    rhs = bp1.rhs.subs(nabla_a[j], gradient)
    substituted = Step("chain", bp1.rhs, rhs, f"put ∇ₐC of the {loss_def.name} loss into BP1")
    note = "; ".join(n for n in (f"loss: {loss_def.description}", bp1.note) if n)

    def matrix(v: Values) -> Any:  # ∇ₐC is the loss's derived gradient, then BP1 as printed
        units = len(v["z"])
        nabla = evaluate(gradient, [(j, units)], {**v, "J": units})
        assert bp1.matrix_numpy is not None
        return bp1.matrix_numpy({**v, "nabla_a": nabla})

    return Equation("BP1", delta[j], rhs, ((j, J),), bp1.matrix_latex, bp1.matrix_text,
                    (*bp1.steps, *steps, substituted), note=note, matrix_numpy=matrix)


def _prime(act: Activation) -> sp.Expr:
    """g'(z) with the parameter as its symbol."""
    return sp.diff(act.symbolic, Z)


def _numpy(act: Activation, expr: sp.Expr) -> Callable[[Any, Values], Any]:
    """``expr`` of z (and α) as an elementwise NumPy function of (z, values)."""
    function = sp.lambdify((Z, ALPHA), elementary(expr), modules="numpy")

    def apply(zs: Any, v: Values) -> Any:
        alpha = v.get("alpha", act.value if act.value is not None else 0.0)
        values = np.asarray(zs, dtype=np.float64)
        return np.broadcast_to(function(values, float(alpha)), values.shape).astype(np.float64)

    return apply
