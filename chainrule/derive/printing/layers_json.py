"""JSON payloads (plain dicts) for layer equations, model derivations, summaries and the worked
convolution. Expressions appear as SymPy str text and as LaTeX; numbers as plain floats."""

from __future__ import annotations

from typing import Any

from chainrule.derive.conv_example import ConvExample
from chainrule.derive.derivation import Step
from chainrule.derive.layers.equations import Equation
from chainrule.derive.net import NetDerivation
from chainrule.derive.params import ParamSummary
from chainrule.derive.printing.latex import latex
from chainrule.derive.printing.layers_text import expr_text


def step_payload(step: Step) -> dict[str, Any]:
    payload: dict[str, Any] = {"rule": step.rule, "text": step.text,
                               "before": expr_text(step.before), "after": expr_text(step.after),
                               "latex": latex(step.after)}
    if step.numeric is not None:
        payload["numeric"] = step.numeric
    if step.value is not None:
        payload["value"] = step.value
    return payload


def equation_payload(eq: Equation) -> dict[str, Any]:
    return {"name": eq.name, "lhs": expr_text(eq.lhs), "rhs": expr_text(eq.rhs),
            "sympy": str(eq.rhs), "latex": latex(eq), "matrix": eq.matrix_text,
            "matrix_latex": eq.matrix_latex,
            "indices": {str(idx): str(extent) for idx, extent in eq.indices},
            "note": eq.note, "steps": [step_payload(step) for step in eq.steps]}


def net_payload(net: NetDerivation) -> dict[str, Any]:
    layers = []
    for layer in net.layers:
        d = layer.derivation
        layers.append({"name": layer.name, "kind": d.kind, "title": d.title,
                       "citation": d.citation, "input_shape": list(layer.input_shape),
                       "output_shape": list(layer.output_shape), "sizes": layer.sizes,
                       "forward": [equation_payload(eq) for eq in d.forward],
                       "backward": [equation_payload(eq) for eq in d.backward]})
    return {"model": net.model, "activation": net.activation, "loss": net.loss, "layers": layers}


def summary_payload(summary: ParamSummary) -> dict[str, Any]:
    return {"model": summary.model, "convention": summary.convention,
            "convention_note": summary.convention_note,
            "input_shape": list(summary.input_shape),
            "layers": [{"name": row.name, "kind": row.kind, "output_shape": list(row.output_shape),
                        "params": row.params, "formula": row.formula, "note": row.note}
                       for row in summary.layers],
            "total": summary.total}


def conv_payload(example: ConvExample) -> dict[str, Any]:
    return {"image": example.image, "kernel": example.kernel, "stride": example.stride,
            "padding": example.padding, "output": example.output,
            "first_cell": example.first_cell,
            "steps": [step_payload(step) for step in example.steps]}
