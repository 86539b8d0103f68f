"""The Python API: one function per CLI command, for notebooks and scripts.

Values are passed one way: a dict (``at={"x": -2, "w": [2, -3, -3]}``); the CLI's strings are
kept as an alias (``at="x=-2,w=[2,-3,-3]"``), read by the same parser, never evaluated. A mistyped
or missing keyword raises :class:`~chainrule.errors.ChainruleError` naming it and the keywords the
function takes, as the CLI names a bad option. Every result renders in Jupyter: derivations as
LaTeX (``_repr_latex_``; layer derivations and worked convolutions as Markdown with math), tables
as HTML (summary, gradcheck, training history, evaluation), graphs and training runs as pictures
(``_repr_png_``)::

    from chainrule import api
    api.derive_expr("sigmoid(z)", wrt="z", at={"z": 3.2}).value        # 0.9608…
    api.derive_graph("(x+y)*z", at={"x": -2, "y": 5, "z": -4}).node("x").grad  # -4.0
    api.summary("lenet5").total                                        # 61706
    model = api.train("mlp:2-4-1", data="xor", epochs=500, lr=1.0, batch=4, activation="tanh")
    model.history[-1].test_acc, model.predict([[0, 1]]), model.evaluate().accuracy
"""

from __future__ import annotations

import base64
import difflib
import functools
import html
import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from chainrule.derive.conv_example import ConvExample, convolve
from chainrule.derive.derivation import Derivation
from chainrule.derive.graph import ComputationGraph, build_graph
from chainrule.derive.net import NetDerivation
from chainrule.derive.net import derive_net as _derive_net
from chainrule.derive.neuron import NeuronReport
from chainrule.derive.neuron import derive_neuron as _derive_neuron
from chainrule.derive.params import ParamSummary, count_params
from chainrule.derive.parser import parse_expression, symbol
from chainrule.derive.perceptron import PerceptronTrace, perceptron_trace
from chainrule.derive.spec import parse_spec
from chainrule.derive.steps import derive_expression
from chainrule.derive.values import Value, parse_assignments, parse_matrix
from chainrule.errors import ChainruleError

if TYPE_CHECKING:  # numba loads only when training or gradcheck is asked for
    from chainrule.train.gradcheck import GradcheckResult
    from chainrule.train.loop import TrainState
    from chainrule.train.session import Session

__all__ = ["ComputationGraph", "ConvExample", "Derivation", "Evaluation", "History", "Model",
           "NetDerivation", "NeuronReport", "ParamSummary", "PerceptronTrace", "Picture",
           "convolve_worked", "derive_expr", "derive_graph", "derive_net", "derive_neuron",
           "gradcheck", "perceptron", "summary", "train"]

Values = Mapping[str, Any] | str
F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


# ---- keywords and values -----------------------------------------------------------------------

def keyword_error(function: str, allowed: Sequence[str], given: Mapping[str, Any],
                  required: Sequence[str] = ()) -> ChainruleError | None:
    """The CLI-style error for an unknown or missing keyword, or None when all is well."""
    for name in given:
        if name not in allowed:
            close = difflib.get_close_matches(name, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            return ChainruleError(f"{function}(): unknown keyword {name!r}{hint}; it takes "
                                  + ", ".join(allowed))
    missing = [name for name in required if name not in given]
    if missing:
        return ChainruleError(f"{function}(): missing keyword {missing[0]!r}; it takes "
                              + ", ".join(allowed))
    return None


def checked_keywords(function: F) -> F:
    """Turn Python's bare TypeError for a bad call into a ChainruleError naming the keyword."""
    signature = inspect.signature(function)

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            signature.bind(*args, **kwargs)
        except TypeError as error:
            names = list(signature.parameters)
            given = dict(zip(names, args, strict=False)) | kwargs
            required = [n for n, p in signature.parameters.items()
                        if p.default is inspect.Parameter.empty
                        and p.kind is not inspect.Parameter.VAR_KEYWORD]
            raise (keyword_error(function.__name__, [n for n, p in signature.parameters.items()
                                                     if p.kind is not p.VAR_KEYWORD],
                                 given, required)
                   or ChainruleError(f"{function.__name__}(): {error}")) from None
        return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def values(given: Values | None, *, what: str = "at") -> dict[str, Value]:
    """``{"x": -2, "w": [2, -3]}`` or the CLI's ``"x=-2,w=[2,-3]"``: names to finite numbers."""
    if given is None:
        return {}
    if isinstance(given, str):
        return parse_assignments(given)
    if not isinstance(given, Mapping):
        raise ChainruleError(f"{what}: expected a dict such as {{'x': -2, 'w': [2, -3]}} "
                             f"(or the CLI's 'x=-2,w=[2,-3]'), got {type(given).__name__}")
    return {_name(name, what): _number(value, f"{what}[{name!r}]")
            for name, value in given.items()}


def _name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise ChainruleError(f"{what}: {name!r} is not a variable name (expected x, w0, …)")
    return name


def _number(value: Any, what: str) -> Value:
    if isinstance(value, bool) or value is None:
        raise ChainruleError(f"{what}: expected a number or a list of numbers, got {value!r}")
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        if not math.isfinite(number):
            raise ChainruleError(f"{what}: expected a finite number, got {value!r}")
        return number
    if isinstance(value, Sequence | np.ndarray) and not isinstance(value, str):
        return [_number(v, what) for v in value]  # type: ignore[misc,return-value]
    raise ChainruleError(f"{what}: expected a number or a list of numbers, got {value!r}")


def _numbers(given: Sequence[Any] | str, what: str) -> list[float]:
    """``[1, -0.8]`` or the CLI's ``"1,-0.8"``."""
    if isinstance(given, str):
        row = parse_matrix(f"[[{given.strip().strip('[]')}]]", name=what)
        return [float(v) for v in row[0]]
    result = _number(list(given), what)
    if not isinstance(result, list) or any(isinstance(v, list) for v in result):
        raise ChainruleError(f"{what}: expected a flat list of numbers, got {given!r}")
    return [float(v) for v in result]  # type: ignore[arg-type]


def _as(cls: type[T], obj: Any) -> T:
    """``obj`` as its notebook subclass ``cls`` (same fields, extra ``_repr_*_`` methods)."""
    return cls(**{f.name: getattr(obj, f.name) for f in fields(obj) if f.init})


# ---- HTML and pictures -------------------------------------------------------------------------

def html_table(header: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str = "",
               caption: str = "", right: Sequence[int] = ()) -> str:
    """A plain HTML table (escaped), columns in ``right`` right-aligned."""
    def cell(tag: str, index: int, text: Any) -> str:
        align = ' style="text-align:right"' if index in right else ' style="text-align:left"'
        return f"<{tag}{align}>{html.escape(str(text))}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>"
                   for row in rows)
    top = f"<b>{html.escape(title)}</b>" if title else ""
    bottom = f"<p><i>{html.escape(caption)}</i></p>" if caption else ""
    return f"<div>{top}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{bottom}</div>"


def _fmt(value: float | None, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


@dataclass(frozen=True)
class Picture:
    """PNG bytes that draw themselves in Jupyter; ``save(path)`` writes them."""

    png: bytes

    def _repr_png_(self) -> bytes:
        return self.png

    def __repr__(self) -> str:
        width, height = (int.from_bytes(self.png[i:i + 4], "big") for i in (16, 20))
        return f"<Picture: PNG {width}×{height}, {len(self.png):,} bytes>"

    def html(self) -> str:
        """An ``<img>`` tag holding the PNG."""
        return f'<img src="data:image/png;base64,{base64.b64encode(self.png).decode()}"/>'

    def save(self, path: str | Path) -> Path:
        from chainrule.fsutil import atomic_write_bytes

        return atomic_write_bytes(Path(path), self.png)


# ---- derivations -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Graph(ComputationGraph):
    """A computation graph that Jupyter draws (record boxes: definition | value | grad) above its
    chain-rule table; ``_repr_latex_`` still gives the derivation alone."""

    def _repr_png_(self) -> bytes:
        return self.picture().png

    def _repr_html_(self) -> str:
        """The picture, then the derivation's LaTeX (Jupyter typesets math in HTML output)."""
        return self.picture().html() + f"<div>{html.escape(self._repr_latex_())}</div>"

    def picture(self) -> Picture:
        from chainrule.cli.graph_plot import graph_png

        return Picture(graph_png(self))


@dataclass(frozen=True)
class Net(NetDerivation):
    """Layer derivations as Markdown with math (Jupyter typesets the ``$…$``)."""

    def _repr_markdown_(self) -> str:
        from chainrule.derive.printing.layers_markdown import net_markdown

        return net_markdown(self)


@dataclass(frozen=True)
class Summary(ParamSummary):
    """A parameter summary as an HTML table."""

    def _repr_html_(self) -> str:
        rows = [(r.name, r.kind, "×".join(map(str, r.output_shape)), f"{r.params:,}", r.formula,
                 r.note) for r in self.layers]
        rows.append(("total", "", "", f"{self.total:,}", "", ""))
        return html_table(("layer", "type", "output shape", "params", "formula", "note"), rows,
                          title=f"{self.model} (input {'×'.join(map(str, self.input_shape))})",
                          caption=f"convention {self.convention}: {self.convention_note}",
                          right=(3,))


@dataclass(frozen=True)
class Convolution(ConvExample):
    """A worked convolution as Markdown with math."""

    def _repr_markdown_(self) -> str:
        from chainrule.derive.printing.layers_markdown import conv_markdown

        return conv_markdown(self)


@checked_keywords
def derive_expr(expression: str, *, wrt: str, at: Values | None = None) -> Derivation:
    """``chainrule derive expr``: d expression / d wrt, step by step."""
    given = values(at) if at is not None else None
    return derive_expression(parse_expression(expression), symbol(wrt), values=given or None)


@checked_keywords
def derive_graph(expression: str, *, at: Values) -> Graph:
    """``chainrule derive graph``: the staged computation graph with values and gradients."""
    return _as(Graph, build_graph(parse_expression(expression), values(at)))


@checked_keywords
def derive_neuron(*, activation: str | None = None, loss: str = "half_mse",
                  at: Values | None = None) -> NeuronReport:
    """``chainrule derive neuron``: one neuron's derivation, and its numbers at ``at``
    (x, w, b, t) when given."""
    return _derive_neuron(activation, loss, values(at) if at is not None else None)


@checked_keywords
def derive_net(model: str, *, activation: str | None = None, loss: str | None = None,
               l2: float = 0.0, l1: float = 0.0, dropout: bool | float = 0.0,
               penalty: str | None = None) -> Net:
    """``chainrule derive net``: every layer's forward and backward equations. ``l2``, ``l1`` and
    ``dropout`` (a rate) mean what they mean in ``train`` (0 = off); ``penalty="l2"`` and
    ``dropout=True`` keep λ and p symbolic."""
    return _as(Net, _derive_net(model, activation=activation, loss=loss, penalty=penalty,
                                dropout=dropout, l2=l2, l1=l1))


@checked_keywords
def perceptron(patterns: Sequence[Sequence[float]] | str, targets: Sequence[float] | str, *,
               w: Sequence[float] | str, b: float | None = 0.0, lr: float = 1.0,
               epochs: int = 100) -> PerceptronTrace:
    """``chainrule perceptron``: the Rosenblatt rule's trace (``b=None``: no bias)."""
    rows = parse_matrix(patterns, name="patterns") if isinstance(patterns, str) else patterns
    return perceptron_trace([list(map(float, r)) for r in rows], _numbers(targets, "targets"),
                            w=_numbers(w, "w"), b=b, lr=lr, epochs=epochs)


@checked_keywords
def summary(model: str, *, convention: str = "keras") -> Summary:
    """``chainrule summary``: layers, shapes and parameter counts with their formulas."""
    return _as(Summary, count_params(parse_spec(model), convention=convention))


@checked_keywords
def convolve_worked(image: str | Sequence[Sequence[float]], kernel: str | Sequence[Sequence[float]],
                    *, stride: int = 1, padding: int = 0) -> Convolution:
    """``chainrule derive conv``: a worked convolution from matrices (lists or literals)."""
    def matrix(given: Any, name: str) -> Any:
        return parse_matrix(given, name=name) if isinstance(given, str) else \
            [[float(v) for v in row] for row in given]

    return _as(Convolution, convolve(matrix(image, "image"), matrix(kernel, "kernel"),
                                     stride=stride, padding=padding))


@checked_keywords
def gradcheck(model: str, *, activation: str | None = None,
              loss: str = "softmax_ce") -> Gradcheck:
    """``chainrule gradcheck``: kernel gradients against float64 central differences."""
    from chainrule.train.gradcheck import gradcheck as run_gradcheck

    return _as(_gradcheck_class(), run_gradcheck(parse_spec(model), activation=activation,
                                                 loss=loss))


class Gradcheck:
    """The type :func:`gradcheck` returns: a GradcheckResult with an HTML table."""


@functools.cache
def _gradcheck_class() -> type:
    from chainrule.train.gradcheck import GradcheckResult

    def _repr_html_(self: GradcheckResult) -> str:
        rows = [(c.param, f"{c.rel_err:.2e}", f"{c.checked}/{c.size}") for c in self.checks]
        verdict = "passed" if self.passed else "FAILED"
        return html_table(("parameter", "max relative error", "coordinates checked"), rows,
                          title=f"gradcheck {verdict}: max relative error "
                                f"{self.max_rel_err:.2e} (tolerance {self.tolerance:g})",
                          right=(1, 2))

    return dataclass(frozen=True)(type("Gradcheck", (GradcheckResult, Gradcheck),
                                       {"_repr_html_": _repr_html_, "__module__": __name__}))


# ---- training ----------------------------------------------------------------------------------

class History(list):  # type: ignore[type-arg]
    """The epochs of a run (a list of EpochStats) that Jupyter shows as a table."""

    def _repr_html_(self) -> str:
        rows = [(s.epoch, f"{s.loss:.4g}", _fmt(getattr(s, "test_loss", None), 4),
                 _fmt(s.train_acc), _fmt(s.test_acc), f"{s.seconds:.2f}") for s in self]
        if len(rows) > 20:  # the first 5, the last 15
            rows = [*rows[:5], ("…", "", "", "", "", ""), *rows[-15:]]
        return html_table(("epoch", "loss", "test loss", "train acc", "test acc", "seconds"),
                          rows, right=(0, 1, 2, 3, 4, 5))


@dataclass(frozen=True)
class Evaluation:
    """A model's accuracy, mean loss and confusion matrix on one split of a data set."""

    data: str
    split: str
    n: int
    accuracy: float | None
    loss: float | None
    confusion: list[list[int]] | None

    def _repr_html_(self) -> str:
        rows = [("samples", self.n), ("accuracy", _fmt(self.accuracy)), ("loss", _fmt(self.loss))]
        table = html_table(("", ""), rows, title=f"{self.data} ({self.split})", right=(1,))
        if self.confusion is None:
            return table
        k = len(self.confusion)
        matrix = html_table(["true \\ predicted", *map(str, range(k))],
                            [[str(i), *row] for i, row in enumerate(self.confusion)],
                            right=tuple(range(1, k + 1)))
        return table + matrix

    def plot(self, class_names: Sequence[str] | None = None) -> Picture:
        """The confusion matrix as a picture."""
        from chainrule.cli.plots import confusion_figure, figure_png

        if self.confusion is None:
            raise ChainruleError("a regression model has no confusion matrix to plot")
        return Picture(figure_png(confusion_figure(self.confusion, class_names,
                                                   title=f"{self.data} ({self.split})")))


@dataclass
class Model:
    """A trained network with its data: ``predict``, ``evaluate``, ``plot`` and ``save``."""

    session: Session
    state: TrainState
    model: str
    data: str
    history: History = field(default_factory=History)

    @property
    def network(self) -> Any:
        return self.session.network

    def predict(self, x: Any) -> np.ndarray:
        """Outputs (n, n_out) for inputs (n, *input_shape), scaled as the data set's are:
        softmax probabilities, P(class 1) for one sigmoid unit, or the regression output."""
        from chainrule.train.loop import predict

        array = np.asarray(x, dtype=self.session.batches.x_train.dtype)
        shape = tuple(self.session.batches.x_train.shape[1:])
        if array.shape == shape:
            array = array[None]
        if array.shape[1:] != shape:
            raise ChainruleError(f"predict(): expected inputs of shape (n, {', '.join(map(str, shape))}), "
                                 f"got {array.shape}")
        return predict(self.network, array)

    def classes(self, x: Any) -> np.ndarray:
        """Predicted class indices (n,)."""
        from chainrule.train.metrics import predicted_classes

        return predicted_classes(self.predict(x))

    @checked_keywords
    def evaluate(self, data: str | None = None, *, split: str = "test") -> Evaluation:
        """Accuracy, mean loss and confusion matrix on ``split`` of ``data`` (default: the
        training data's test split), as ``chainrule evaluate`` computes them."""
        from chainrule.train.data import load_dataset
        from chainrule.train.evaluation import confusion
        from chainrule.train.loop import predict_and_loss
        from chainrule.train.metrics import accuracy, predicted_classes
        from chainrule.train.session import fit_batches

        if split not in ("test", "train"):
            raise ChainruleError(f"evaluate(): split must be test or train, got {split!r}")
        dataset = self.session.dataset if data is None else load_dataset(data)
        batches = (self.session.batches if data is None else
                   fit_batches(dataset, self.session.spec, dtype=self.session.batches.x_train.dtype))
        x, t, labels = ((batches.x_test, batches.t_test, batches.labels_test) if split == "test"
                        else (batches.x_train, batches.t_train, batches.labels_train))
        outputs, loss = predict_and_loss(self.network, x, t)  # one forward pass
        matrix = (None if labels is None else
                  confusion(labels, predicted_classes(outputs), dataset.n_classes or 2))
        return Evaluation(data or self.data, split, int(x.shape[0]), accuracy(outputs, labels),
                          loss, matrix)

    def plot(self, path: str | Path | None = None) -> Picture:
        """Loss and accuracy curves, and for 2-D inputs the decision boundary (train points as
        circles, test points as triangles); ``path`` also writes the PNG."""
        from chainrule.cli.training_plots import figure_png, training_figure
        from chainrule.train.loop import predict

        batches = self.session.batches
        boundary: dict[str, Any] = {}
        if batches.x_train.ndim == 2 and batches.x_train.shape[1] == 2:
            boundary = {"predict": lambda grid: predict(self.network, grid),
                        "x": batches.x_train, "labels": batches.labels_train,
                        "x_test": batches.x_test, "labels_test": batches.labels_test}
        figure = training_figure(list(self.history), title=f"{self.model} on {self.data}",
                                 **boundary)
        picture = Picture(figure_png(figure))
        if path is not None:
            picture.save(path)
        return picture

    def save(self, path: str | Path) -> Path:
        """A checkpoint that ``chainrule evaluate``/``predict`` read."""
        return self.session.save(self.state, Path(path))

    def __repr__(self) -> str:
        last = self.history[-1] if self.history else None
        accuracy = "" if last is None else f", test accuracy {_fmt(last.test_acc)}"
        return f"<Model {self.model} trained on {self.data}: {len(self.history)} epochs{accuracy}>"

    def _repr_html_(self) -> str:
        last = self.history[-1] if self.history else None
        head = (f"<b>{html.escape(self.model)}</b> trained on <b>{html.escape(self.data)}</b>: "
                f"{len(self.history)} epochs"
                + ("" if last is None else f", test accuracy {_fmt(last.test_acc)}"))
        return f"<div>{head}</div>" + self.history._repr_html_()


@checked_keywords
def train(model: str, *, data: str, **options: Any) -> Model:
    """``chainrule train`` without the progress bar; ``options`` are ``TrainOptions``' fields
    (epochs, batch, lr, optimizer, schedule, loss, activation, l2, dropout, seed, limit, …)."""
    from chainrule.train.session import TrainOptions, start

    allowed = [f.name for f in fields(TrainOptions) if f.name != "restarts"]
    error = keyword_error("train", ["model", "data", *allowed], options)
    if error is not None:
        raise error
    session = start(model, data, TrainOptions(**options))
    state = session.run()
    return Model(session, state, model, data, History(state.history))

