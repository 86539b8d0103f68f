"""Terminal renderings (rich tables) of computation graphs, neurons and perceptron traces.

The stage table follows the CS231n notes' layout: each stage, its definition, its forward value and
its gradient d output / d stage; below it, the chain of local derivatives for each input.
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from chainrule.derive.graph import ComputationGraph
from chainrule.derive.neuron import NeuronReport
from chainrule.derive.perceptron import PerceptronTrace
from chainrule.derive.printing.text import text


def fmt(value: Any) -> str:
    """A number to 4 significant digits; lists element by element."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    number = float(value)
    text = f"{number:.4g}" if abs(number) >= 1e-12 else "0"  # float noise such as 2.8e-17
    return "0" if text == "-0" else text


def graph_chain_text(graph: ComputationGraph, name: str) -> str:
    """∂out/∂name = ∂out/∂v·∂v/∂u·… = −0.5344·1·… = −0.1966 (a sum when paths branch)."""
    paths = graph.chains(name)
    head = f"∂{graph.output}/∂{name}"
    if len(paths) == 1 and len(paths[0]) <= 1:  # a direct edge (or the output itself)
        return f"{head} = {fmt(graph.node(name).grad)}"
    more = graph.path_count(name) - len(paths)
    tail = f" + … ({more} more paths)" if more > 0 else ""
    symbolic = " + ".join("·".join(f"∂{f.child}/∂{f.parent}" for f in path) for path in paths)
    numeric = " + ".join("·".join(_paren(f.value) for f in path) for path in paths)
    return (f"{head} = {symbolic or '0'}{tail} = {numeric or '0'}{tail} = "
            f"{fmt(graph.node(name).grad)}")


def _paren(value: float) -> str:
    text = fmt(value)
    return f"({text})" if text.startswith("-") else text


def graph_text(graph: ComputationGraph) -> RenderableType:
    """The stage table and the chains."""
    table = Table(title=f"computation graph of {graph.expression}")
    for column in ("node", "op", "definition", "value", f"∂{graph.output}/∂node", "local rules"):
        table.add_column(column, justify="right" if column in ("value",) else "left")
    for node in graph.nodes:
        rules = ", ".join(f"∂{node.name}/∂{e.parent} = {text(e.local)} ({e.rule})" for e in node.edges)
        table.add_row(Text(node.name), node.op, Text("" if node.is_input else text(node.expr)),
                      Text(fmt(node.value), style="green"), Text(fmt(node.grad), style="red"), Text(rules))
    chains = [Text(graph_chain_text(graph, node.name)) for node in graph.inputs]
    return Group(table, Text(f"{graph.output} = {fmt(graph.output_value)}"), *chains)


def neuron_text(report: NeuronReport) -> RenderableType:
    """The derivation steps with rules, then the forward values and gradients if any."""
    steps = Table(title=f"neuron: activation {report.activation}, loss {report.loss}",
                  caption=report.note or None)  # α's value: "α = 0.1, the slope for z < 0"
    for column in ("rule", "step", "result", "value"):
        steps.add_column(column)
    for step, value in zip(report.steps, report.step_values(), strict=True):
        steps.add_row(step.rule, Text(expression_text(step.before)),
                      Text(expression_text(step.after)), Text(fmt(value)))
    parts: list[RenderableType] = [steps]
    if report.forward:
        numbers = Table(title="at the given values")
        numbers.add_column("quantity")
        numbers.add_column("value")
        for name, value in report.forward.items():
            if value is not None:
                numbers.add_row(name, fmt(value))
        for name, value in report.gradients.items():
            numbers.add_row(f"∂L/∂{name}", fmt(value))
        parts.append(numbers)
    return Group(*parts)


def expression_text(expr: sp.Expr) -> str:
    """One line of Unicode: ∂L/∂a·∂a/∂z for chained derivatives, ∂/∂a (…) otherwise."""
    if isinstance(expr, sp.Mul) and all(isinstance(a, sp.Derivative) for a in expr.args):
        return "·".join(expression_text(arg) for arg in expr.args)
    if isinstance(expr, sp.Sum):  # Σ_k ∂L/∂z_k·∂z_k/∂x_j
        index, first, last = expr.limits[0]
        return f"Σ_{{{index}={first}..{last}}} {expression_text(expr.function)}"
    if isinstance(expr, sp.Derivative):
        (variable, _), = expr.variable_count
        if isinstance(expr.expr, sp.Symbol | sp.Indexed):
            return f"∂{expr.expr}/∂{variable}"
        return f"∂/∂{variable} ({expression_text(expr.expr)})"
    return text(expr).replace("delta", "δ")


def perceptron_text(trace: PerceptronTrace) -> RenderableType:
    """Hagan's trace table: one row per presented pattern."""
    bias = trace.b is not None
    table = Table(title="perceptron rule: w ← w + lr·e·p" + (", b ← b + lr·e" if bias else ""))
    for column in ("epoch", "p", "t", "n", "a", "e", "w", *(("b",) if bias else ())):
        table.add_column(column, justify="right")
    for s in trace.steps:
        row = [str(s.epoch), fmt(s.p), fmt(s.t), fmt(s.n), fmt(s.a), fmt(s.e), fmt(s.w),
               *((fmt(s.b),) if bias else ())]
        table.add_row(*(Text(cell) for cell in row))
    verdict = ("converged" if trace.converged else f"not converged after {trace.epochs} passes")
    final = f"{verdict}: w = {fmt(trace.w)}" + (f", b = {fmt(trace.b)}" if bias else "")
    return Group(table, Text(final))
