"""Cross-entropy of a softmax output against a one-hot target (E8)

H(t, s) = −Σ tᵢ ln sᵢ with t = [0, 1, 0] and s = [0.228, 0.619, 0.153] is −ln 0.619 = 0.4797: only
the true class's term survives. The loss is the engine's ``softmax_ce`` definition, expanded over
three classes; its gradient with respect to the logits is the derived identity s − t (Bishop,
*PRML*, §4.3.4; Goodfellow et al., *Deep Learning*, §6.2.2.3).
"""

from __future__ import annotations

import sys
from pathlib import Path

import sympy as sp
from matplotlib.figure import Figure

from chainrule.cli.plots import save_figure
from chainrule.derive.losses import S_VEC, T_VEC, get_loss
from chainrule.derive.output_delta import output_delta
from chainrule.derive.printing.latex import document, latex
from chainrule.fsutil import atomic_write_text

T_ONE_HOT = [0, 1, 0]
S_SOFTMAX = [0.228, 0.619, 0.153]


def expanded_loss(classes: int) -> tuple[sp.Expr, sp.Expr]:
    """The registry's −Σ tᵢ ln sᵢ with a plain index (for printing), and written out term by term."""
    vector = get_loss("softmax_ce").vector
    (total,) = vector.atoms(sp.Sum)
    term, (index, _, _) = total.args[0], total.args[1]
    shown = vector.xreplace({index: sp.Symbol("i", integer=True)})
    explicit = vector.subs(total, sp.Add(*[term.subs(index, k) for k in range(classes)]))
    return shown, explicit


def build(out_dir: Path) -> list[Path]:
    """Write the loss, its value and its gradient as LaTeX and Markdown."""
    out_dir.mkdir(parents=True, exist_ok=True)
    shown, explicit = expanded_loss(len(T_ONE_HOT))
    values = {S_VEC[k]: sp.Float(s) for k, s in enumerate(S_SOFTMAX)}
    values.update({T_VEC[k]: sp.Integer(t) for k, t in enumerate(T_ONE_HOT)})
    with_numbers = explicit.subs(values)
    loss = float(with_numbers)
    delta = output_delta("linear", "softmax_ce")  # s − t, derived
    grads = [round(s - t, 4) for s, t in zip(S_SOFTMAX, T_ONE_HOT, strict=True)]
    body = ("\\begin{align*}\n"
            f"H(t, s) &= {latex(shown)} \\\\\n&= {latex(explicit)} \\\\\n"
            f"&= -\\ln {S_SOFTMAX[T_ONE_HOT.index(1)]} = {loss:.4f} \\\\\n"
            f"\\frac{{\\partial H}}{{\\partial z_k}} &= {latex(delta)} "
            f"= \\left[{', '.join(f'{g:g}' for g in grads)}\\right]\n"
            "\\end{align*}\n")
    tex = atomic_write_text(out_dir / "e08_cross_entropy.tex",
                            document(body, title="E8: cross-entropy",
                                     figure="e08_cross_entropy.png"))
    md = atomic_write_text(out_dir / "e08_cross_entropy.md",
                           "# E8: cross-entropy\n\n"
                           f"$H(t, s) = {latex(shown)}$\n\n"
                           f"t = {T_ONE_HOT}, s = {S_SOFTMAX}: H = −ln {S_SOFTMAX[1]} = "
                           f"**{loss:.4f}**\n\n"
                           f"Gradient with respect to the logits: ∂H/∂z = s − t = {grads}\n")
    png = _figure(out_dir / "e08_cross_entropy.png", grads)
    return [tex, md, png]


def _figure(path: Path, grads: list[float]) -> Path:
    """Bars of the target t, the softmax output s and the gradient s − t, class by class."""
    figure = Figure(figsize=(6.5, 2.8))
    axis = figure.subplots()
    classes = range(len(T_ONE_HOT))
    for offset, (values, label) in zip((-0.27, 0.0, 0.27), ((T_ONE_HOT, "target t"),
                                       (S_SOFTMAX, "softmax s"), (grads, "gradient s − t")),
                                       strict=True):
        axis.bar([k + offset for k in classes], values, width=0.25, label=label)
    axis.axhline(0, color="grey", linewidth=0.5)
    axis.set_xticks(list(classes), [f"class {k}" for k in classes])
    axis.legend(fontsize=8, loc="upper right")
    figure.tight_layout()
    return save_figure(figure, path)


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
