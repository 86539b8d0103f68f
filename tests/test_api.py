"""The Python API gives the same numbers as the worked examples (and as the CLI)."""

from __future__ import annotations

import pytest

from chainrule import api


def test_derive_expr_e1() -> None:
    derivation = api.derive_expr("sigmoid(z)", wrt="z", at="z=3.2")
    assert round(derivation.value, 4) == 0.9608
    assert derivation._repr_latex_().startswith("\\begin{align*}")


def test_derive_graph_e6() -> None:
    graph = api.derive_graph("(x+y)*z", at="x=-2,y=5,z=-4")
    assert graph.output_value == -12
    assert [graph.node(n).grad for n in "xyz"] == [-4, -4, 3]


def test_perceptron_e2() -> None:
    trace = api.perceptron([[1, 2], [-1, 2], [0, -1]], [1, 0, 0], w=[1.0, -0.8], b=None)
    assert trace.converged and trace.w == pytest.approx([3.0, 0.2])


def test_summary_e17() -> None:
    assert api.summary("lenet5").total == 61706


def test_convolution_e15_first_cell_shape() -> None:
    worked = api.convolve_worked("[[1,2,3],[4,5,6],[7,8,9]]", "[[1,0],[0,1]]")
    assert worked.first_cell == 6.0  # 1·1 + 5·1


def test_train_learns_xor() -> None:
    state = api.train("mlp:2-4-1", data="xor", epochs=500, lr=1.0, batch=4, activation="tanh")
    assert state.history[-1].train_acc == 1.0
