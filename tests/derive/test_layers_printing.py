"""Printers of layer equations: exact LaTeX, text, Markdown, JSON, and ASCII-safe prose."""

from __future__ import annotations

import sympy as sp

from chainrule.derive.conv_example import convolve
from chainrule.derive.layers import dense_layer
from chainrule.derive.net import derive_net
from chainrule.derive.printing.latex import latex
from chainrule.derive.printing.latex_layers import text_to_latex
from chainrule.derive.printing.layers_json import equation_payload, net_payload
from chainrule.derive.printing.layers_markdown import conv_markdown, equation_markdown
from chainrule.derive.printing.layers_text import equation_text

BP4_LATEX = r"""\begin{align*}
\text{BP4:} \quad & \frac{\partial C}{\partial w^{l}} = \delta^{l} (a^{l-1})^{T} \\
{\frac{\partial C}{\partial w}}_{j,k} &= {a^{l-1}}_{k} {\delta}_{j} \\
{\frac{\partial C}{\partial w}}_{j,k} &= \sum_{u=0}^{J - 1} \left(\frac{\partial}{\partial {w}_{j,k}} \left({b}_{u} + \sum_{r=0}^{K - 1} {a^{l-1}}_{r} {w}_{u,r}\right)\right) {\delta}_{u} && \text{(chain)} \\
 &= \sum_{u=0}^{J - 1} {\delta}_{u} \sum_{r=0}^{K - 1} \mathbf{1}[j = u] \mathbf{1}[k = r] {a^{l-1}}_{r} && \text{(sum)} \\
 &= {a^{l-1}}_{k} {\delta}_{j} && \text{(simplify)}
\end{align*}"""


def test_bp4_latex_exactly() -> None:
    assert latex(dense_layer("sigmoid").equation("BP4")) == BP4_LATEX


def test_bp4_text_and_json() -> None:
    eq = dense_layer("sigmoid").equation("BP4")
    assert equation_text(eq) == "∂C/∂w[j,k] = a⁽ˡ⁻¹⁾[k]·δ[j]"
    payload = equation_payload(eq)
    assert payload["sympy"] == "a_prev[k]*delta[j]"
    assert payload["matrix"] == "∂C/∂wˡ = δˡ (aˡ⁻¹)ᵀ"
    assert payload["indices"] == {"j": "J", "k": "K"}
    assert [step["rule"] for step in payload["steps"]] == ["chain", "sum", "simplify"]


def test_markdown_lists_steps_with_rules() -> None:
    text = equation_markdown(dense_layer("tanh").equation("BP2"))
    assert text.startswith("**BP2** (matrix form): $$\\delta^{l} = ")
    assert "2. `tanh`:" in text


def test_prose_becomes_ascii_latex() -> None:
    assert text_to_latex("∂C/∂w = λ·w_j (§7.1) 100%") == \
        r"$\partial $C/$\partial $w = $\lambda \cdot $w\_j (\S{}7.1) 100\%"
    assert text_to_latex("ü") == r'\"u'  # kept, never "?"


def test_net_payload_shapes_and_sizes() -> None:
    payload = net_payload(derive_net("cnn:1x6x6-conv3x3x2-avgpool2-dense3"))
    conv = payload["layers"][0]
    assert (conv["kind"], conv["input_shape"], conv["output_shape"]) == ("conv", [1, 6, 6],
                                                                         [2, 4, 4])
    assert conv["sizes"] == {"C": 1, "F": 2, "K": 3, "H": 6, "W": 6, "H_out": 4, "W_out": 4,
                             "s": 1, "P": 0}
    assert [layer["kind"] for layer in payload["layers"]] == [
        "conv", "activation", "avgpool", "flatten", "dense", "softmax_ce", "minibatch"]


def test_conv_markdown_table() -> None:
    text = conv_markdown(convolve([[1, 2], [3, 4]], [[1]]))
    assert "| 1 | 2 |\n| 3 | 4 |" in text
    assert "First cell: 1·1 = 1" in text


def test_jupyter_repr_is_the_latex() -> None:
    layer = dense_layer("relu")
    assert layer.equation("BP3")._repr_latex_() == latex(layer.equation("BP3"))
    assert layer._repr_latex_().count(r"\begin{align*}") == len(layer.equations)


def test_the_kronecker_delta_is_one_indicator_in_every_printer_never_delta() -> None:
    """δ is the error; the Kronecker delta prints as 𝟙[i = j] (LaTeX \\mathbf{1}[i = j])."""
    import re

    from chainrule.derive.layers.notation import index
    from chainrule.derive.printing.layers_markdown import net_markdown
    from chainrule.derive.printing.layers_text import expr_text
    from chainrule.derive.printing.text import text

    i, j = index("i"), index("j")
    assert text(sp.KroneckerDelta(i, j)) == expr_text(sp.KroneckerDelta(i, j)) == "𝟙[i = j]"
    assert latex(sp.KroneckerDelta(i, j)) == r"\mathbf{1}[i = j]"
    assert latex(sp.KroneckerDelta(i, j) ** 2 * sp.Symbol("s")) == r"s \mathbf{1}[i = j]"
    softmax = next(layer for layer in derive_net("cnn:1x4x4-flatten-dense3").layers
                   if layer.derivation.title.startswith("softmax"))
    jacobian = next(eq for eq in softmax.derivation.equations if "s" in eq.name and "z" in eq.name)
    assert "𝟙[" in equation_text(jacobian) and "δ(" not in equation_text(jacobian)
    printed = latex(jacobian)
    assert r"\mathbf{1}[" in printed and not re.search(r"\\delta_\{[a-z] [a-z]'?\}", printed)
    assert r"\mathbf{1}[" in net_markdown(derive_net("cnn:1x4x4-flatten-dense3"))


def _free_indices(expr: object) -> set:
    """The free index symbols of ``expr``, those of a derivative's variable x[q] included
    (unless a sum binds q)."""
    seen = expr.replace(lambda e: isinstance(e, sp.Derivative),  # type: ignore[attr-defined]
                        lambda e: sp.Function("D")(e.expr, *e.variables))
    return {s for s in seen.free_symbols if s.is_integer and s.is_nonnegative is None}  # sizes ≥ 0


def test_each_printed_chain_of_steps_keeps_the_index_names_of_its_left_side() -> None:
    """A chain that starts from ∂L/∂w[o′,c′,m′,n′] must not end in o, c, m, n (issue 8): every
    right-hand side uses only the free indices of the left side it continues."""
    net = derive_net("cnn:1x6x6-conv3x3x2p1-maxpool2-flatten-dense3")
    layers = [*net.layers, *derive_net("mlp:2-2-1", activation="elu", penalty="l1").layers,
              *derive_net("mlp:2-3-1", activation="leaky_relu", penalty="l2", dropout=True).layers]
    chains = 0
    for layer in layers:
        for eq in layer.derivation.equations:
            assert _free_indices(eq.rhs) <= _free_indices(eq.lhs), (eq.name, eq.rhs)
            lhs, previous = None, None
            for step in eq.steps:
                if step.before != previous:  # the printers start a new line with its left side
                    lhs, chains = step.before, chains + 1
                assert _free_indices(step.after) <= _free_indices(lhs), \
                    (layer.name, eq.name, step.rule, step.after)
                previous = step.after
    assert chains > 10
    printed = latex(net.layers[0].derivation.equation("dL/dw"))
    assert "(rename)" in printed and r"{\frac{\partial L}{\partial w}}_{o,c,m,n} &=" in printed
