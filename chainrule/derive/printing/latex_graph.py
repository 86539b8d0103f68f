"""LaTeX printing methods (``_print_<Node>``) for the graph objects; mixed into
:class:`chainrule.derive.printing.latex.ChainruleLatexPrinter`.

A :class:`~chainrule.derive.graph.ComputationGraph` prints as CS231n's staged forward/backward table
(each stage with its value and its gradient) followed by the chain of local derivatives for each
input; a :class:`~chainrule.derive.neuron.NeuronReport` as its derivation steps with their rules; a
:class:`~chainrule.derive.perceptron.PerceptronTrace` as Hagan's trace table (ch. 4).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sympy as sp

from chainrule.derive.printing.latex_derivation import math_cell, step_table
from chainrule.derive.printing.latex_layers import text_to_latex

if TYPE_CHECKING:
    from chainrule.derive.graph import ChainFactor, ComputationGraph
    from chainrule.derive.neuron import NeuronReport
    from chainrule.derive.perceptron import PerceptronTrace


class GraphLatexMixin:
    """``_print_<Node>`` methods for graph objects."""

    _print: Any
    _settings: dict[str, Any]
    number: Any

    # -- computation graph ------------------------------------------------------------------
    def _print_ComputationGraph(self, graph: ComputationGraph) -> str:
        if self._settings.get("environment") == "longtable":
            return self._graph_table(graph)
        rows = [self._graph_row(graph, node) for node in graph.nodes]
        chains = [self._graph_chain(graph, node.name) for node in graph.inputs]
        return ("\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}\n"
                "\\begin{align*}\n" + " \\\\\n".join(chains) + "\n\\end{align*}")

    def _graph_table(self, graph: ComputationGraph) -> str:
        """A stage table (stage, definition, forward value, gradient) that breaks across pages,
        then each input's chain of local derivatives as a :func:`step_table` row that wraps."""
        out = self._name(graph.output)
        rows = [f"${self._name(node.name)}$ & "
                + ("input" if node.is_input else f"${self._print(node.expr)}$")
                + f" & ${self.number(node.value)}$ & ${self.number(node.grad)}$ \\\\"
                for node in graph.nodes]
        stages = "\n".join([
            r"\begin{longtable}{@{}llrr@{}}",
            rf"stage & definition & forward value & gradient $\partial {out}/\partial\,\cdot$ \\",
            r"\hline", r"\endhead", *rows, r"\end{longtable}"])
        chains: list[tuple[str, str, str]] = []
        for node in graph.inputs:  # "head &= symbolic \\ &= numbers = total" → two rows
            lines = self._graph_chain(graph, node.name, factor_gap=r"\,").split(" \\\\\n")
            chains.append(("", math_cell(lines[0].replace("&", "")), "chain rule"))
            chains += [("", math_cell(line.replace("&", ""), indent=True), "") for line in lines[1:]]
        return stages + "\n\n" + step_table(chains)

    def _graph_row(self, graph: ComputationGraph, node: Any) -> str:
        defined = "" if node.is_input else f"{self._print(node.expr)} = "
        gradient = self._partial(graph.output, node.name)
        return (f"{self._name(node.name)} &= {defined}{self.number(node.value)}"
                f" & {gradient} &= {self.number(node.grad)}")

    def _graph_chain(self, graph: ComputationGraph, name: str, factor_gap: str = " ") -> str:
        paths = graph.chains(name)
        head = self._partial(graph.output, name)
        if not paths:
            return f"{head} &= 0"
        if len(paths) == 1 and len(paths[0]) <= 1:  # a direct edge (or the output itself)
            return f"{head} &= {self.number(graph.node(name).grad)}"
        symbolic = " + ".join(factor_gap.join(self._partial(f.child, f.parent) for f in path)
                              for path in paths)
        numeric = " + ".join(self._factor_numbers(path) for path in paths)
        more = graph.path_count(name) - len(paths)
        if more > 0:
            symbolic += f" + \\cdots \\text{{ ({more} more paths)}}"
            numeric += " + \\cdots"
        total = self.number(graph.node(name).grad)
        return f"{head} &= {symbolic} \\\\\n&= {numeric} = {total}"

    def _factor_numbers(self, path: Sequence[ChainFactor]) -> str:
        return " \\cdot ".join(self._signed(f.value) for f in path)

    def _signed(self, value: float) -> str:
        text = self.number(value)
        return f"\\left({text}\\right)" if text.startswith("-") else text

    def _partial(self, top: str, bottom: str) -> str:
        return f"\\frac{{\\partial {self._name(top)}}}{{\\partial {self._name(bottom)}}}"

    def _name(self, name: str) -> str:
        return self._print(sp.Symbol(name, real=True))

    # -- neuron -----------------------------------------------------------------------------
    def _print_NeuronReport(self, report: NeuronReport) -> str:
        if self._settings.get("environment") == "longtable":
            return self._neuron_document(report)
        lines = [self._neuron_step(step, value)
                 for step, value in zip(report.steps, report.step_values(), strict=True)]
        if report.forward:
            lines = [*self._neuron_forward(report), *lines]
        note = f"\n\n\\noindent\\emph{{{text_to_latex(report.note)}}}" if report.note else ""
        return "\\begin{align*}\n" + " \\\\\n".join(lines) + "\n\\end{align*}" + note

    def _neuron_document(self, report: NeuronReport) -> str:
        """A handout: the model, the definitions, the inputs, the forward pass, then the backward
        pass as a step/rule table."""
        parts = [r"\subsection*{Model}", self._neuron_model(report),
                 r"\subsection*{Definitions}", self._neuron_definitions(report)]
        if report.data is not None:
            parts += [r"\subsection*{Inputs}", self._neuron_inputs(report)]
        if report.forward:
            shown = r",\quad ".join(f"${line.replace('&', '')}$"
                                    for line in self._neuron_forward(report))
            parts += [r"\subsection*{Forward pass}", shown]
        rows = [(f"{number}.", math_cell(self._neuron_step(step, value).split(" && ")[0]
                                         .replace("&", "")), _rule_text(step.rule))
                for number, (step, value)
                in enumerate(zip(report.steps, report.step_values(), strict=True), start=1)]
        parts += [r"\subsection*{Backward pass}", step_table(rows, head=("step", "rule"))]
        return "\n\n".join(parts)

    def _neuron_model(self, report: NeuronReport) -> str:
        from chainrule.derive.neuron import WEIGHTED_SUM, neuron_factors

        batch = report.data is not None and report.data.batch
        mean = (" The loss of a batch is the mean of the samples' losses, and so each gradient"
                " of the parameters is the mean of the samples' gradients." if batch else "")
        if report.loss == "softmax_ce":
            return (r"A layer of $K$ neurons with a softmax: $z_k = \sum_{j=1}^{n} w_{k,j} x_j + b_k$,"
                    r" $s_k = e^{z_k} / \sum_{i=1}^{K} e^{z_i}$, and the cross-entropy loss "
                    r"$L = -\sum_{i=1}^{K} t_i \ln s_i$ against the target $t$." + mean)
        f = neuron_factors(report.activation, report.loss)
        loss = (r"no loss: $L = a$" if report.loss == "none"
                else f"the {text_to_latex(report.loss.replace('_', ' '))} loss "
                     f"$L = {self._print(f.loss)}$ against the target $t$")
        return (f"One neuron with $n$ inputs: the weighted sum $z = {self._print(WEIGHTED_SUM)}$, "
                f"the {text_to_latex(report.activation.replace('_', ' '))} activation "
                f"$a = {self._print(f.g)}$" + (f" ({text_to_latex(report.note)})" if report.note
                                               else "") + f", and {loss}." + mean)

    def _neuron_definitions(self, report: NeuronReport) -> str:
        if report.loss == "softmax_ce":
            return (r"The error of output $k$ is $\delta_k = \partial L/\partial z_k$. By the "
                    r"chain rule $\partial L/\partial w_{k,j} = \delta_k x_j$, "
                    r"$\partial L/\partial b_k = \delta_k$ and "
                    r"$\partial L/\partial x_j = \sum_k \delta_k w_{k,j}$.")
        return (r"The error of the neuron is $\delta = \partial L/\partial z = "
                r"\frac{\partial L}{\partial a}\frac{\partial a}{\partial z}$. Since "
                r"$\partial z/\partial w_j = x_j$, $\partial z/\partial b = 1$ and "
                r"$\partial z/\partial x_j = w_j$, the chain rule gives "
                r"$\partial L/\partial w_j = \delta x_j$, $\partial L/\partial b = \delta$ and "
                r"$\partial L/\partial x_j = \delta w_j$.")

    def _neuron_inputs(self, report: NeuronReport) -> str:
        data = report.data
        assert data is not None
        x = data.x if data.batch else data.x[0]
        if data.batch and data.x.shape[1] == 1:  # one input: one number per sample
            x = data.x[:, 0]
        w = data.w if report.loss == "softmax_ce" else data.w[0]
        b = data.b if report.loss == "softmax_ce" else data.b[0]
        t = data.t if data.batch else data.t[0]
        if data.batch and data.t.shape[1] == 1:
            t = data.t[:, 0]
        if report.loss != "softmax_ce" and not data.batch:
            t = t[0]
        shown = [("x", x), ("w", w), ("b", b), ("t", t)]
        rows = "one per entry" if data.x.shape[1] == 1 else "one per row of $x$"
        note = f" ({len(data.x)} samples, {rows})" if data.batch else ""
        return r",\quad ".join(f"${name} = {self._values(_plain(value))}$"
                               for name, value in shown) + note + "."

    def _neuron_forward(self, report: NeuronReport) -> list[str]:
        shown = [(name, report.forward[name]) for name in ("z", "a", "s", "L")
                 if name in report.forward]  # s: the softmax_ce layer's output
        return [f"{name} &= {self._values(value)}" for name, value in shown]

    def _neuron_step(self, step: Any, value: Any) -> str:
        line = f"{self.derivative_latex(step.before)} &= {self._print(step.after)}"
        if value is not None:
            line += f" = {self._values(value)}"
        return line + f" && \\text{{{step.rule.replace('_', ' ')}}}"

    def derivative_latex(self, expr: sp.Expr) -> str:
        """∂L/∂a ∂a/∂z for products of derivatives of symbols; SymPy's form otherwise."""
        if isinstance(expr, sp.Mul) and all(isinstance(a, sp.Derivative) for a in expr.args):
            return " ".join(self.derivative_latex(arg) for arg in expr.args)
        if isinstance(expr, sp.Sum):  # Σ_k ∂L/∂z_k ∂z_k/∂x_j
            index, first, last = expr.limits[0]
            return (f"\\sum_{{{self._print(index)}={self._print(first)}}}^{{{self._print(last)}}} "
                    + self.derivative_latex(expr.function))
        if isinstance(expr, sp.Derivative) and isinstance(expr.expr, sp.Symbol | sp.Indexed):
            (variable, _), = expr.variable_count
            return (f"\\frac{{\\partial {self._print(expr.expr)}}}"
                    f"{{\\partial {self._print(variable)}}}")
        return self._print(expr)

    def _values(self, value: Any) -> str:
        if isinstance(value, list):
            return "\\left[" + ", ".join(self._values(v) for v in value) + "\\right]"
        return self.number(float(value))

    # -- perceptron -------------------------------------------------------------------------
    def _print_PerceptronTrace(self, trace: PerceptronTrace) -> str:
        bias = trace.b is not None
        head = "epoch & $p$ & $t$ & $n$ & $a$ & $e$ & $w$" + (" & $b$" if bias else "")
        rows = [self._perceptron_row(step, bias) for step in trace.steps]
        start = f"$w_0 = {self._values(trace.w0)}$" + (
            f", $b_0 = {self.number(trace.b0)}$" if bias else ", no bias")
        verdict = ("converged: a full pass with no error" if trace.converged
                   else f"not converged after {trace.epochs} passes")
        columns = "r" * (8 if bias else 7)
        return (f"{start}, learning rate ${self.number(trace.lr)}$.\n\n"
                f"\\begin{{tabular}}{{{columns}}}\n{head} \\\\\n\\hline\n"
                + " \\\\\n".join(rows) + f" \\\\\n\\end{{tabular}}\n\n{verdict}: "
                f"$w = {self._values(trace.w)}$" + (f", $b = {self.number(trace.b)}$" if bias else "")
                + ".")

    def _perceptron_row(self, step: Any, bias: bool) -> str:
        cells = [str(step.epoch), f"${self._values(step.p)}$", f"${self.number(step.t)}$",
                 f"${self.number(step.n)}$", f"${self.number(step.a)}$", f"${self.number(step.e)}$",
                 f"${self._values(step.w)}$"]
        if bias:
            cells.append(f"${self.number(step.b)}$")
        return " & ".join(cells)


def _plain(value: Any) -> Any:
    """A NumPy array or number as nested lists of floats, or one float."""
    return value.tolist() if hasattr(value, "tolist") else float(value)


def _rule_text(rule: str) -> str:
    return text_to_latex(rule.replace("_", " "))
