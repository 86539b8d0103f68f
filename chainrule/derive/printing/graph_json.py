"""JSON payloads (plain dicts of floats, strings and lists) for computation graphs, neurons and
perceptron traces, in the shapes the CLI contract names (shared/DESIGN.md)."""

from __future__ import annotations

from typing import Any

from chainrule.derive.graph import ComputationGraph, GraphNode
from chainrule.derive.neuron import NeuronReport
from chainrule.derive.perceptron import PerceptronTrace
from chainrule.derive.printing.latex import ChainruleLatexPrinter, latex


def graph_payload(graph: ComputationGraph) -> dict[str, Any]:
    """``nodes`` (name, op, expr, value, grad, and the edges), ``output``, the chains per input."""
    return {
        "expression": str(graph.expression),
        "nodes": [_node(node) for node in graph.nodes],
        "output": graph.output_value,
        "output_name": graph.output,
        "gradients": {node.name: node.grad for node in graph.inputs},
        "chains": {node.name: _chains(graph, node.name) for node in graph.inputs},
    }


def _node(node: GraphNode) -> dict[str, Any]:
    return {
        "name": node.name,
        "op": node.op,
        "expr": str(node.expr),
        "latex": latex(node.expr),
        "value": node.value,
        "grad": node.grad,
        "parents": [
            {"name": e.parent, "local": str(e.local), "local_value": e.local_value, "rule": e.rule}
            for e in node.edges
        ],
    }


def _chains(graph: ComputationGraph, name: str) -> list[list[dict[str, Any]]]:
    return [[{"child": f.child, "parent": f.parent, "local": str(f.local), "value": f.value}
             for f in path] for path in graph.chains(name)]


def neuron_payload(report: NeuronReport) -> dict[str, Any]:
    """``forward`` (name → value), ``gradients`` (w, b, x) and ``steps`` (rule, text, latex…)."""
    steps = [_step(step, value) for step, value in zip(report.steps, report.step_values(),
                                                        strict=True)]
    forward = {k: v for k, v in report.forward.items() if v is not None}
    return {"activation": report.activation, "loss": report.loss, "note": report.note,
            "forward": forward,
            "gradients": dict(report.gradients), "steps": steps}


def _step(step: Any, value: Any) -> dict[str, Any]:
    return {"rule": step.rule, "text": step.text, "before": str(step.before),
            "after": str(step.after), "latex": f"{ChainruleLatexPrinter().derivative_latex(step.before)} = {latex(step.after)}",
            "value": value}


def perceptron_payload(trace: PerceptronTrace) -> dict[str, Any]:
    """``steps`` (epoch, p, t, a, e, w, b), ``converged``, the final ``w`` and ``b``."""
    return {
        "steps": [{"epoch": s.epoch, "p": s.p, "t": s.t, "n": s.n, "a": s.a, "e": s.e,
                   "w": s.w, "b": s.b} for s in trace.steps],
        "converged": trace.converged,
        "epochs": trace.epochs,
        "errors_per_epoch": trace.errors_per_epoch(),
        "w": trace.w,
        "b": trace.b,
    }

