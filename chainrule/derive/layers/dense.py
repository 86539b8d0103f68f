"""A dense (fully connected) layer and its backpropagation equations BP1–BP4, derived.

Forward: z^l_j = Σ_k w^l_jk a^{l−1}_k + b^l_j and a^l_j = σ(z^l_j). The four equations of
Nielsen, *Neural Networks and Deep Learning* (2015), ch. 2, come out of :func:`chain_rule`:
BP1 δ^L = ∇_a C ⊙ σ'(z^L), BP2 δ^l = ((w^{l+1})ᵀ δ^{l+1}) ⊙ σ'(z^l), BP3 ∂C/∂b^l_j = δ^l_j and
BP4 ∂C/∂w^l_jk = a^{l−1}_k δ^l_j. Nothing is expanded element by element: J and K stay symbols.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from chainrule.derive import losses
from chainrule.derive.activations import get_activation
from chainrule.derive.derivation import Step
from chainrule.derive.layers.activation_names import activation_latex, activation_text
from chainrule.derive.layers.chain import chain_rule
from chainrule.derive.layers.equations import Equation, LayerDerivation
from chainrule.derive.layers.notation import index, size, tensor
from chainrule.errors import ChainruleError

j, k, p, q = index("j"), index("k"), index("p"), index("q")
J, K, N = size("J"), size("K"), size("N")  # units in this layer, in the previous, in the next
w, b, a_prev, z, a = tensor("w"), tensor("b"), tensor("a_prev"), tensor("z"), tensor("a")
delta, nabla_a = tensor("delta"), tensor("nabla_a")
w_next, delta_next = tensor("w_next"), tensor("delta_next")


def weighted_input(unit: sp.Expr = j, inner: sp.Symbol = k) -> sp.Expr:
    """z_j = Σ_k w_jk a^{l−1}_k + b_j."""
    return sp.Sum(w[unit, inner] * a_prev[inner], (inner, 0, K - 1)) + b[unit]


@lru_cache(maxsize=32)
def dense_layer(activation: str = "sigmoid", *, output: bool = False) -> LayerDerivation:
    """Forward and backward equations of a dense layer; BP1 if ``output`` else BP2."""
    act = get_activation(activation)
    g, gt = activation_latex(act.name), activation_text(act.name)
    forward = (
        Equation("forward z", z[j], weighted_input(), ((j, J),),
                 r"z^{l} = w^{l} a^{l-1} + b^{l}", "zˡ = wˡ aˡ⁻¹ + bˡ"),
        Equation("forward a", a[j], act.at(z[j]), ((j, J),),
                 rf"a^{{l}} = {g}(z^{{l}})", f"aˡ = {gt}(zˡ)"),
    )
    error = output_error(act.name) if output else hidden_error(act.name)
    return LayerDerivation("dense", f"dense layer K → J ({act.name})", _CITATION, forward,
                           (error, bias_gradient(), weight_gradient()), (J, K))


def output_error(activation: str) -> Equation:
    """BP1: δ^L_j = ∂C/∂a_j · σ'(z_j), with C a function of the outputs a_j = σ(z_j)."""
    act = get_activation(activation)
    steps, rhs = chain_rule(upstream=nabla_a[k], output=act.at(z[k]), limits=[(k, 0, J - 1)],
                            wrt=z[q], wrt_extents=[(q, J)], names={q: j}, local_rule=act.rule,
                            local_text=f"differentiate a_k = {act.name}(z_k) by its rule; "
                            "∂z_k/∂z_j = δ_kj")
    g, gt = activation_latex(act.name), activation_text(act.name)
    return Equation("BP1", delta[j], rhs, ((j, J),),
                    rf"\delta^{{L}} = \nabla_{{a}} C \odot {g}'(z^{{L}})",
                    f"δᴸ = ∇ₐC ⊙ {gt}′(zᴸ)", steps)


def hidden_error(activation: str) -> Equation:
    """BP2: δ^l_j = Σ_k w^{l+1}_kj δ^{l+1}_k σ'(z^l_j), through z^{l+1}_k = Σ_j w^{l+1}_kj σ(z^l_j) + b."""
    act = get_activation(activation)
    z_next = sp.Sum(w_next[k, p] * act.at(z[p]), (p, 0, J - 1)) + tensor("b_next")[k]
    steps, rhs = chain_rule(upstream=delta_next[k], output=z_next, limits=[(k, 0, N - 1)],
                            wrt=z[q], wrt_extents=[(q, J)], names={q: j}, local_rule=act.rule,
                            local_text=f"differentiate z⁽ˡ⁺¹⁾_k term by term; {act.name} by its "
                            "rule, ∂z_p/∂z_j = δ_pj")
    g, gt = activation_latex(act.name), activation_text(act.name)
    return Equation("BP2", delta[j], rhs, ((j, J),),
                    rf"\delta^{{l}} = \left((w^{{l+1}})^{{T}} \delta^{{l+1}}\right) \odot "
                    rf"{g}'(z^{{l}})", f"δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ {gt}′(zˡ)", steps)


def bias_gradient() -> Equation:
    """BP3: ∂C/∂b_j = δ_j."""
    u, r = index("u"), index("r")
    steps, rhs = chain_rule(upstream=delta[u], output=weighted_input(u, r), limits=[(u, 0, J - 1)],
                            wrt=b[p], wrt_extents=[(p, J)], names={p: j})
    return Equation("BP3", tensor("dC_db")[j], rhs,
                    ((j, J),), r"\frac{\partial C}{\partial b^{l}} = \delta^{l}",
                    "∂C/∂bˡ = δˡ", steps)


def weight_gradient() -> Equation:
    """BP4: ∂C/∂w_jk = a^{l−1}_k δ_j."""
    u, r = index("u"), index("r")
    steps, rhs = chain_rule(upstream=delta[u], output=weighted_input(u, r), limits=[(u, 0, J - 1)],
                            wrt=w[p, q], wrt_extents=[(p, J), (q, K)], names={p: j, q: k})
    return Equation("BP4", tensor("dC_dw")[j, k], rhs, ((j, J), (k, K)),
                    r"\frac{\partial C}{\partial w^{l}} = \delta^{l} (a^{l-1})^{T}",
                    "∂C/∂wˡ = δˡ (aˡ⁻¹)ᵀ", steps)


_CITATION = "Nielsen, Neural Networks and Deep Learning (2015), ch. 2"


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
    return Equation("BP1", delta[j], rhs, ((j, J),), bp1.matrix_latex, bp1.matrix_text,
                    (*bp1.steps, *steps, substituted), note=f"loss: {loss_def.description}")
