"""Figures, checked by structure: the graph's boxes hold their labels, the canvas fits its content,
training plots have a class legend, integer epoch ticks and told-apart train/test points."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from chainrule import api
from chainrule.cli.graph_plot import graph_columns, graph_dot, graph_figure, graph_png, plot_graph
from chainrule.errors import ChainruleError

E7 = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
E7_AT = "w0=2,w1=-3,w2=-3,x0=-1,x1=-2"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_graph_labels_sit_inside_their_boxes() -> None:
    graph = api.derive_graph(E7, at=E7_AT)
    figure = graph_figure(graph)
    renderer = FigureCanvasAgg(figure).get_renderer()
    ax = figure.axes[0]
    boxes = [p.get_window_extent(renderer) for p in ax.patches if isinstance(p, Rectangle)]
    texts = [t for t in ax.texts if isinstance(t, Text)]
    assert len(boxes) == 3 * len(graph.nodes)  # definition | value | grad per node
    cell_texts = texts[:3 * len(graph.nodes)]
    for text in cell_texts:
        extent = text.get_window_extent(renderer)
        assert any(b.x0 <= extent.x0 and extent.x1 <= b.x1 and b.y0 <= extent.y0
                   and extent.y1 <= b.y1 for b in boxes), text.get_text()
    labels = {t.get_text() for t in cell_texts}
    assert {"q = w0·x0", "value -2", "grad 0.1966", "z = 1/v", "grad 1"} <= labels
    assert len(texts) == len(cell_texts) + 2  # title and key: no label on any edge


def test_graph_canvas_is_sized_to_its_content() -> None:
    """The boxes fill the canvas: their union covers most of its width and height."""
    graph = api.derive_graph("(x+y)*z", at="x=-2,y=5,z=-4")
    figure = graph_figure(graph)
    renderer = FigureCanvasAgg(figure).get_renderer()
    width, height = figure.get_size_inches() * figure.dpi
    boxes = [p.get_window_extent(renderer) for p in figure.axes[0].patches
             if isinstance(p, Rectangle)]
    span_x = max(b.x1 for b in boxes) - min(b.x0 for b in boxes)
    span_y = max(b.y1 for b in boxes) - min(b.y0 for b in boxes)
    assert span_x / width > 0.85 and span_y / height > 0.5
    w, h = _png_size(graph_png(graph, use_dot=False))
    assert (w, h) == (round(width), round(height))


def test_graph_inputs_sit_beside_their_consumer() -> None:
    columns = graph_columns(api.derive_graph(E7, at=E7_AT))
    assert columns["w2"] == columns["t"] - 1 and columns["w0"] == 0 and columns["z"] == 7


def test_graph_dot_has_records_and_unlabelled_edges() -> None:
    source = graph_dot(api.derive_graph("(x+y)*z", at="x=-2,y=5,z=-4"))
    assert "shape=record" in source and "rankdir=LR" in source
    assert '"q" [label="q = x + y | { value 3 | grad -4 }"' in source
    edges = [line for line in source.splitlines() if "->" in line]
    assert len(edges) == 4 and not any("label" in line for line in edges)


def test_plot_graph_refuses_other_suffixes(tmp_path: Path) -> None:
    with pytest.raises(ChainruleError, match="expected a .png"):
        plot_graph(api.derive_graph("x*y", at="x=1,y=2"), tmp_path / "g.pdf")
