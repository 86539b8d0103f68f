"""Markdown renderings of computation graphs, neurons and perceptron traces: pipe tables, with
LaTeX in ``$…$`` for the formulas (GitHub and Jupyter render both)."""

from __future__ import annotations

from chainrule.derive.graph import ComputationGraph
from chainrule.derive.neuron import NeuronReport
from chainrule.derive.parser import symbol
from chainrule.derive.perceptron import PerceptronTrace
from chainrule.derive.printing.graph_text import fmt, graph_chain_text
from chainrule.derive.printing.latex import ChainruleLatexPrinter, latex


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def graph_markdown(graph: ComputationGraph) -> str:
    """The stage table (value, gradient) and the chain for each input."""
    rows = [[f"${latex(symbol(n.name))}$", n.op, "" if n.is_input else f"${latex(n.expr)}$",
             fmt(n.value), fmt(n.grad)] for n in graph.nodes]
    table = _table(["node", "op", "definition", "value", f"∂{graph.output}/∂node"], rows)
    chains = "\n".join(f"- {graph_chain_text(graph, n.name)}" for n in graph.inputs)
    return (f"## Computation graph of `{graph.expression}`\n\n{table}\n\n"
            f"Output {graph.output} = {fmt(graph.output_value)}.\n\n### Chains\n\n{chains}\n")


def neuron_markdown(report: NeuronReport) -> str:
    """The derivation steps with their rules, then the numbers."""
    rows = [[f"`{s.rule}`", f"${ChainruleLatexPrinter().derivative_latex(s.before)} = {latex(s.after)}$", fmt(v)]
            for s, v in zip(report.steps, report.step_values(), strict=True)]
    text = (f"## Neuron: activation `{report.activation}`, loss `{report.loss}`\n\n"
            + (f"*{report.note}.*\n\n" if report.note else "")  # α's value
            + _table(["rule", "step", "value"], rows) + "\n")
    if report.forward:
        numbers = [[name, fmt(v)] for name, v in report.forward.items() if v is not None]
        numbers += [[f"∂L/∂{name}", fmt(v)] for name, v in report.gradients.items()]
        text += "\n" + _table(["quantity", "value"], numbers) + "\n"
    return text


def perceptron_markdown(trace: PerceptronTrace) -> str:
    """Hagan's trace table and the verdict."""
    bias = trace.b is not None
    header = ["epoch", "p", "t", "n", "a", "e", "w", *(["b"] if bias else [])]
    rows = [[str(s.epoch), fmt(s.p), fmt(s.t), fmt(s.n), fmt(s.a), fmt(s.e), fmt(s.w),
             *([fmt(s.b)] if bias else [])] for s in trace.steps]
    verdict = "converged" if trace.converged else f"not converged after {trace.epochs} passes"
    final = f"{verdict}: w = {fmt(trace.w)}" + (f", b = {fmt(trace.b)}" if bias else "")
    return ("## Perceptron learning rule\n\n" + _table(header, rows) + f"\n\n{final}.\n")

