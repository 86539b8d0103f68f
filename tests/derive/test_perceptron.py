"""The Rosenblatt rule: Hagan's E2 trace, the OR boundary (E3) and XOR's failure (E4)."""

from __future__ import annotations

import pytest

from chainrule.derive.perceptron import gate_data, hardlim_value, perceptron_trace
from chainrule.derive.printing.latex import latex
from chainrule.errors import ChainruleError

E2_PATTERNS = [[1.0, 2.0], [-1.0, 2.0], [0.0, -1.0]]
E2_TARGETS = [1.0, 0.0, 0.0]


def test_e2_trace_without_bias() -> None:
    trace = perceptron_trace(E2_PATTERNS, E2_TARGETS, w=[1.0, -0.8], b=None)
    first_pass = [s.w for s in trace.steps if s.epoch == 1]
    assert first_pass == [pytest.approx([2.0, 1.2]), pytest.approx([3.0, -0.8]),
                          pytest.approx([3.0, 0.2])]
    assert [s.a for s in trace.steps[:3]] == [0.0, 1.0, 1.0]
    assert [s.e for s in trace.steps[:3]] == [1.0, -1.0, -1.0]
    assert all(s.e == 0.0 and s.w == pytest.approx([3.0, 0.2]) for s in trace.steps[3:])
    assert trace.converged and trace.epochs == 2
    assert trace.w == pytest.approx([3.0, 0.2])
    assert trace.b is None and all(s.b is None for s in trace.steps)


def test_e3_or_boundary_classifies_all_patterns() -> None:
    trace = perceptron_trace(*gate_data("or"), w=[0.5, 0.5], b=-0.25)
    assert trace.converged and trace.epochs == 1
    assert trace.errors_per_epoch() == [0]
    assert [s.a for s in trace.steps] == [0.0, 1.0, 1.0, 1.0]


def test_e4_xor_never_converges() -> None:
    trace = perceptron_trace(*gate_data("xor"), w=[0.0, 0.0], b=0.0, epochs=25)
    assert not trace.converged
    assert trace.epochs == 25 and len(trace.steps) == 100
    assert min(trace.errors_per_epoch()) > 0


@pytest.mark.parametrize("gate", ["and", "nand", "or"])
def test_separable_gates_converge(gate: str) -> None:
    patterns, targets = gate_data(gate)
    trace = perceptron_trace(patterns, targets, w=[0.0, 0.0], b=0.0)
    assert trace.converged
    for p, t in zip(patterns, targets, strict=True):
        n = sum(w * x for w, x in zip(trace.w, p, strict=True)) + trace.b
        assert hardlim_value(n) == t


def test_learning_rate_and_bias_update() -> None:
    trace = perceptron_trace([[1.0, 1.0]], [0.0], w=[1.0, 1.0], b=0.5, lr=0.5, epochs=1)
    (step,) = trace.steps
    assert (step.n, step.a, step.e) == (2.5, 1.0, -1.0)
    assert step.w == [0.5, 0.5] and step.b == 0.0


def test_hardlim_at_zero_is_one() -> None:
    assert hardlim_value(0.0) == 1.0 and hardlim_value(-1e-12) == 0.0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"patterns": [[1, 2]], "targets": [1, 0], "w": [0, 0]}, "1 patterns but 2 targets"),
    ({"patterns": [[1, 2]], "targets": [1], "w": [0]}, "w has 1 values"),
    ({"patterns": [[1, 2]], "targets": [2], "w": [0, 0]}, "targets must be 0 or 1"),
    ({"patterns": [], "targets": [], "w": [0, 0]}, "no patterns"),
    ({"patterns": [[1, 2]], "targets": [1], "w": [0, 0], "epochs": 0}, "at least 1"),
])
def test_bad_input(kwargs: dict, message: str) -> None:
    patterns, targets = kwargs.pop("patterns"), kwargs.pop("targets")
    with pytest.raises(ChainruleError, match=message):
        perceptron_trace(patterns, targets, **kwargs)


def test_unknown_gate() -> None:
    with pytest.raises(ChainruleError, match="unknown data 'xnor'"):
        gate_data("xnor")


def test_trace_latex_exact() -> None:
    trace = perceptron_trace([[1.0, 2.0]], [1.0], w=[1.0, -0.8], b=None)
    assert latex(trace) == (
        "$w_0 = \\left[1, -0.8\\right]$, no bias, learning rate $1$.\n\n"
        "\\begin{tabular}{rrrrrrr}\n"
        "epoch & $p$ & $t$ & $n$ & $a$ & $e$ & $w$ \\\\\n\\hline\n"
        "1 & $\\left[1, 2\\right]$ & $1$ & $-0.6$ & $0$ & $1$ & $\\left[2, 1.2\\right]$ \\\\\n"
        "2 & $\\left[1, 2\\right]$ & $1$ & $4.4$ & $1$ & $0$ & $\\left[2, 1.2\\right]$ \\\\\n"
        "\\end{tabular}\n\n"
        "converged: a full pass with no error: $w = \\left[2, 1.2\\right]$."
    )
