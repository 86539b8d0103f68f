"""An elementwise activation layer a_u = g(z_u) (after a convolution), and δ_z = δ_a ⊙ g'(z).

The derivative comes from ``sympy.diff`` of the activation's own expression (σ' = σ(1−σ),
tanh' = 1 − tanh², ReLU' = step, …, each by its rule). The index u stands for every position of
the tensor (for a feature map, (o, i, j)). Nielsen, *NNDL* (2015), ch. 2; Goodfellow et al. §6.3.
"""

from __future__ import annotations

from functools import lru_cache

from chainrule.derive.activations import get_activation
from chainrule.derive.layers.chain import chain_rule
from chainrule.derive.layers.equations import Equation, LayerDerivation
from chainrule.derive.layers.notation import index, size, tensor

u, r, q = index("u"), index("r"), index("q")
N = size("N")  # how many values the tensor holds
z, a, delta_a = tensor("z"), tensor("a"), tensor("delta_a")
SIZES = (N,)


@lru_cache(maxsize=16)
def activation_layer(activation: str) -> LayerDerivation:
    act = get_activation(activation)
    g, gt = act.latex_name, act.text_name
    forward = Equation("forward", a[u], act.at(z[u], symbolic=True), ((u, N),), rf"a = {g}(z)",
                       f"a = {gt}(z)", note=act.note)
    steps, rhs = chain_rule(upstream=delta_a[r], output=act.at(z[r], symbolic=True),
                            limits=[(r, 0, N - 1)], wrt=z[q], wrt_extents=[(q, N)], names={q: u},
                            local_rule=act.rule,
                            local_text=f"differentiate {act.base} by its rule; ∂z_r/∂z_u = δ_ru")
    backward = Equation("dL/dz", tensor("delta")[u], rhs, ((u, N),),
                        rf"\delta_{{z}} = \delta_{{a}} \odot {g}'(z)", f"δ_z = δ_a ⊙ {gt}′(z)",
                        steps, note=act.note)
    return LayerDerivation("activation", f"{act.name} (elementwise)",
                           "Nielsen, NNDL (2015), ch. 2; Goodfellow et al. (2016), §6.3",
                           (forward,), (backward,), SIZES)
