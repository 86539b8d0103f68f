"""The Python API gives the same numbers as the worked examples (and as the CLI), takes values
one way (dicts, with the CLI's strings as an alias), refuses bad keywords as the CLI refuses bad
options, and every result renders in Jupyter (LaTeX, Markdown, HTML or PNG)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from chainrule import api
from chainrule.errors import ChainruleError

PNG = b"\x89PNG\r\n\x1a\n"


def test_derive_expr_e1_dict_and_string_agree() -> None:
    derivation = api.derive_expr("sigmoid(z)", wrt="z", at={"z": 3.2})
    z = sp.Symbol("z")
    assert derivation.value == pytest.approx(float((1 / (1 + sp.exp(-z))).subs(z, 3.2)))
    assert api.derive_expr("sigmoid(z)", wrt="z", at="z=3.2").value == derivation.value
    assert derivation._repr_latex_().startswith("\\begin{align*}")


def test_derive_graph_e6_and_its_picture() -> None:
    graph = api.derive_graph("(x+y)*z", at={"x": -2, "y": 5, "z": -4})
    assert graph.output_value == -12
    assert [graph.node(n).grad for n in "xyz"] == [-4, -4, 3]  # ∂/∂x (x+y)z = z, ∂/∂z = x+y
    assert isinstance(graph, api.ComputationGraph)
    assert graph._repr_png_().startswith(PNG)
    assert "<img src=\"data:image/png;base64," in graph._repr_html_()
    assert graph._repr_latex_()  # the derivation alone


def test_vector_values_in_a_dict() -> None:
    graph = api.derive_graph("1/(1+exp(-(w0*x0+w1*x1+w2)))",
                             at={"w": [2, -3, -3], "x": [-1, -2]})
    assert graph.node("w0").grad == pytest.approx(-0.19661193, abs=1e-8)


@pytest.mark.parametrize(("at", "message"), [
    ({"x": float("nan")}, "finite"),
    ({"x": "1"}, "expected a number"),
    ({"2x": 1}, "not a variable name"),
    ([("x", 1)], "expected a dict"),
])
def test_bad_values_are_chainrule_errors(at: object, message: str) -> None:
    with pytest.raises(ChainruleError, match=message):
        api.derive_graph("x*y", at=at)  # type: ignore[arg-type]


@pytest.mark.parametrize(("call", "message"), [
    (lambda: api.derive_expr("x**2", wtr="x"), "unknown keyword 'wtr' (did you mean 'wrt'?)"),
    (lambda: api.derive_expr("x**2"), "missing keyword 'wrt'"),
    (lambda: api.summary("lenet5", conventon="paper"), "did you mean 'convention'"),
    (lambda: api.train("mlp:2-2-1", data="xor", epoch=3),
     "unknown keyword 'epoch' (did you mean 'epochs'?)"),
])
def test_keyword_errors_read_like_the_cli(call, message: str) -> None:
    with pytest.raises(ChainruleError) as error:
        call()
    assert message in str(error.value) and "it takes" in str(error.value)
    assert not isinstance(error.value, TypeError)


def test_perceptron_e2_lists_and_strings() -> None:
    trace = api.perceptron([[1, 2], [-1, 2], [0, -1]], [1, 0, 0], w=[1.0, -0.8], b=None)
    assert trace.converged and trace.w == pytest.approx([3.0, 0.2])
    again = api.perceptron("[[1,2],[-1,2],[0,-1]]", "1,0,0", w="1,-0.8", b=None)
    assert again.w == trace.w


def test_summary_e17_renders_as_html() -> None:
    result = api.summary("lenet5")
    assert result.total == 61706
    page = result._repr_html_()
    assert page.count("<tr>") == len(result.layers) + 2  # header, layers, total
    assert "61,706" in page and "<table>" in page


def test_derive_net_and_convolution_render_as_markdown_math() -> None:
    net = api.derive_net("mlp:2-3-1")
    assert "$" in net._repr_markdown_()
    worked = api.convolve_worked([[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 0], [0, 1]])
    assert worked.first_cell == 6.0  # 1·1 + 5·1
    assert api.convolve_worked("[[1,2,3],[4,5,6],[7,8,9]]", "[[1,0],[0,1]]").output == \
        worked.output
    assert worked._repr_markdown_()


def test_neuron_takes_a_dict() -> None:
    report = api.derive_neuron(activation="sigmoid", at={"x": [1, 2], "w": [0.5, -0.5], "b": 0,
                                                         "t": 1})
    assert report._repr_latex_()


def test_gradcheck_renders_as_html() -> None:
    result = api.gradcheck("mlp:2-2-2")
    assert result.passed
    page = result._repr_html_()
    assert "passed" in page and page.count("<tr>") == len(result.checks) + 1


@pytest.fixture(scope="module")
def xor_model() -> api.Model:
    return api.train("mlp:2-4-1", data="xor", epochs=300, lr=1.0, batch=4, activation="tanh")


def test_train_returns_a_model_that_learns_xor(xor_model: api.Model) -> None:
    assert xor_model.history[-1].train_acc == 1.0
    xor = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    assert xor_model.classes(xor).tolist() == [0, 1, 1, 0]
    outputs = xor_model.predict(xor)
    assert outputs.shape == (4, 1) and np.all((outputs >= 0) & (outputs <= 1))


def test_model_evaluate_matches_its_own_predictions(xor_model: api.Model) -> None:
    result = xor_model.evaluate()
    x = xor_model.session.batches.x_test
    labels = xor_model.session.batches.labels_test
    assert result.accuracy == pytest.approx(np.mean(xor_model.classes(x) == labels))
    assert sum(map(sum, result.confusion)) == len(labels)
    assert "<table>" in result._repr_html_()
    assert result.plot().png.startswith(PNG)
    with pytest.raises(ChainruleError, match="unknown keyword 'splt'"):
        xor_model.evaluate(splt="train")


def test_model_plot_save_and_html(xor_model: api.Model, tmp_path: Path) -> None:
    picture = xor_model.plot(tmp_path / "xor.png")
    assert picture.png.startswith(PNG) and (tmp_path / "xor.png").read_bytes() == picture.png
    assert repr(picture).startswith("<Picture: PNG ") and len(repr(xor_model)) < 100
    page = xor_model._repr_html_()
    assert "xor" in page and "test acc" in page
    assert xor_model.history._repr_html_().count("<tr>") == 1 + 5 + 1 + 15  # head, …, tail
    checkpoint = xor_model.save(tmp_path / "xor.npz")
    from chainrule.train.evaluation import evaluate

    assert evaluate(checkpoint, "xor")["accuracy"] == xor_model.evaluate().accuracy
    with pytest.raises(ChainruleError, match="expected inputs of shape"):
        xor_model.predict([[1, 2, 3]])


def test_derive_net_takes_train_s_penalty_and_dropout_values() -> None:
    net = api.derive_net("mlp:2-3-1", activation="sigmoid", l2=0.01, dropout=0.2)
    kinds = [layer.derivation.kind for layer in net.layers]
    assert "dropout" in kinds and any("penalty" in k or "l2" in k for k in kinds), kinds
    notes = " ".join(eq.note for layer in net.layers for eq in layer.derivation.equations)
    assert "λ = 0.01" in notes and "p = 0.8" in notes


def test_model_evaluate_is_one_forward_pass_with_the_training_loss(xor_model: api.Model,
                                                                    monkeypatch) -> None:
    from chainrule.train.network import Network

    batches = xor_model.session.batches
    expected = xor_model.network.loss_value(batches.x_test, batches.t_test)  # one chunk of 4

    def second_pass(self, x):
        raise AssertionError("evaluate() ran a second forward pass")

    monkeypatch.setattr(Network, "forward", second_pass)
    result = xor_model.evaluate()
    assert result.loss == pytest.approx(expected, rel=1e-12)
    assert result.loss == pytest.approx(xor_model.history[-1].test_loss, rel=1e-12)
