"""Figures, checked by structure: the graph's boxes hold their labels, the canvas fits its content,
training plots have a class legend, integer epoch ticks and told-apart train/test points."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
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


def test_a_long_graph_wraps_into_bands_with_no_overlap() -> None:
    """E7's 8 columns are 19 inches in one row: they wrap onto a second band under 11 inches."""
    from chainrule.cli.graph_plot import MAX_WIDTH

    figure = graph_figure(api.derive_graph(E7, at=E7_AT))
    renderer = FigureCanvasAgg(figure).get_renderer()
    width, height = figure.get_size_inches()
    assert width <= MAX_WIDTH and height < width
    boxes = [p.get_window_extent(renderer) for p in figure.axes[0].patches
             if isinstance(p, Rectangle)]
    canvas = figure.bbox
    assert all(canvas.x0 <= b.x0 and b.x1 <= canvas.x1 + 0.5 and canvas.y0 <= b.y0
               and b.y1 <= canvas.y1 for b in boxes)
    shrunk = [b.expanded(0.98, 0.9) for b in boxes]  # cells share edges: compare interiors
    assert not any(a.overlaps(b) for i, a in enumerate(shrunk) for b in shrunk[i + 1:])


def test_no_edge_passes_through_a_box() -> None:
    """y feeds both q = x·y and f = t·y: the long edge y → f runs over the boxes, not under."""
    from matplotlib.patches import FancyArrowPatch

    figure = graph_figure(api.derive_graph("(x*y + exp(x*z))*y", at={"x": 1, "y": 2, "z": 0.5}))
    ax = figure.axes[0]
    boxes = [p for p in ax.patches if isinstance(p, Rectangle)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == 9  # x→q y→q x→p z→p p→s q→t s→t t→f y→f
    for arrow in arrows:
        vertices = arrow._path_original.vertices  # data coordinates (inches)
        for (x0, y0), (x1, y1) in itertools.pairwise(vertices):
            for t in np.linspace(0.02, 0.98, 60):
                x, y = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
                inside = [b for b in boxes if b.get_x() + 0.01 < x < b.get_x() + b.get_width()
                          - 0.01 and b.get_y() + 0.01 < y < b.get_y() + b.get_height() - 0.01]
                assert not inside, (vertices, x, y)


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


# ---- training figures ------------------------------------------------------------------------

def _history(losses: list[float], test_losses: list[float] | None = None) -> list:
    from chainrule.train.loop import EpochStats

    tests = test_losses or [None] * len(losses)
    return [EpochStats(epoch=i + 1, loss=loss, train_acc=0.5 + i / (2 * len(losses)),
                       test_acc=0.5, seconds=0.1, samples_per_s=100.0, test_loss=test)
            for i, (loss, test) in enumerate(zip(losses, tests, strict=True))]


def _xor_like() -> tuple:
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    labels = np.array([0, 1, 1, 0])

    def predict(grid: np.ndarray) -> np.ndarray:  # P(class 1): high where x1 and x2 differ
        p = 1 / (1 + np.exp(-8 * (np.abs(grid[:, 0] - grid[:, 1]) - 0.5)))
        return p[:, None]

    return x, labels, predict


def _overlaps(labels: list) -> bool:
    boxes = [label.get_window_extent() for label in labels if label.get_text()]
    return any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_training_figure_legend_markers_and_ticks() -> None:
    from chainrule.cli.training_plots import training_figure

    x, labels, predict = _xor_like()
    history = _history([0.7, 0.66, 0.64, 0.63, 0.62], [0.70, 0.69, 0.68, 0.68, 0.67])
    figure = training_figure(history, predict=predict, x=x, labels=labels, x_test=x[:2] + 0.1,
                             labels_test=labels[:2], class_names=["off", "on"])
    figure.canvas.draw()
    loss_ax, acc_ax, boundary_ax = figure.axes[:3]
    legend = [t.get_text() for t in boundary_ax.get_legend().get_texts()]
    assert legend == ["off", "on", "train", "test"]
    markers = {c.get_paths()[0].vertices.shape[0] for c in boundary_ax.collections[-2:]}
    assert len(markers) == 2  # circles and triangles: different marker paths
    assert loss_ax.get_yscale() == "linear"  # 0.62–0.70 is not a decade
    assert [line.get_label() for line in loss_ax.lines] == ["train", "test"]
    for ax in (loss_ax, acc_ax):
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks)
        assert not _overlaps(ax.get_xticklabels())
    for axis_labels in (boundary_ax.get_xticklabels(), boundary_ax.get_yticklabels(),
                        loss_ax.get_yticklabels()):
        assert not _overlaps(axis_labels)


def test_loss_axis_is_logarithmic_only_over_a_decade() -> None:
    from chainrule.cli.training_plots import training_figure

    figure = training_figure(_history([0.7 * 0.5 ** i for i in range(8)]))
    figure.canvas.draw()
    loss_ax = figure.axes[0]
    assert loss_ax.get_yscale() == "log"
    assert not _overlaps(loss_ax.get_yticklabels())
    assert all("times" not in t.get_text() for t in loss_ax.get_yticklabels())  # 0.1, not 10⁻¹


def test_plot_training_writes_a_png_without_boundary(tmp_path: Path) -> None:
    from chainrule.cli.training_plots import plot_training

    path = plot_training(tmp_path / "t.png", _history([1.0, 0.5, 0.25]), title="run")
    width, height = _png_size(path.read_bytes())
    assert (width, height) == (950, 420)


def test_animation_frames_and_gif(tmp_path: Path) -> None:
    from PIL import Image

    from chainrule.cli.training_plots import boundary_frame, frame_epochs, write_gif

    x, labels, predict = _xor_like()
    frames = [boundary_frame(predict, x, labels, epoch=e, loss=1.0 / e) for e in (1, 2, 3)]
    gif = write_gif(tmp_path / "a.gif", frames)
    with Image.open(gif) as image:
        assert image.n_frames == 3 and image.size == _png_size(frames[0])
    assert frame_epochs(5) == {1, 2, 3, 4, 5}
    marks = frame_epochs(500, frames=20)
    assert 1 in marks and 500 in marks and len(marks) <= 21
    with pytest.raises(ChainruleError, match="expected a .gif"):
        write_gif(tmp_path / "a.png", frames)


def test_boundary_animation_takes_a_frame_per_marked_epoch(tmp_path: Path) -> None:
    from PIL import Image

    from chainrule.cli.training_plots import BoundaryAnimation

    x, labels, predict = _xor_like()
    animation = BoundaryAnimation(tmp_path / "run.gif", predict, x, labels, epochs=3)
    for stats in _history([0.7, 0.6, 0.5]):
        animation.on_epoch_end(stats)
    with Image.open(animation.write()) as image:
        assert image.n_frames == 3
    with pytest.raises(ChainruleError, match="2-D data; this data has inputs of shape 1×6×6"):
        BoundaryAnimation(tmp_path / "run.gif", predict, np.zeros((4, 1, 6, 6)), None, epochs=3)


# ---- image-model figures ---------------------------------------------------------------------

def _inside_figure(figure, artists) -> bool:
    figure.canvas.draw()
    box = figure.bbox
    return all(box.x0 - 1 <= a.get_window_extent().x0 and a.get_window_extent().x1 <= box.x1 + 1
               for a in artists if a.get_text())


def test_confusion_figure_counts_and_recall() -> None:
    from chainrule.cli.plots import confusion_figure

    matrix = np.array([[5, 1, 0], [2, 2, 0], [0, 0, 3]])
    figure = confusion_figure(matrix, ["cat", "dog", "bird"])
    ax = figure.axes[0]
    cells = [t.get_text() for t in ax.texts]
    assert cells == [str(v) for v in matrix.ravel()]
    recall = np.diag(matrix) / matrix.sum(axis=1)  # 5/6, 2/4, 3/3
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        f"{name}  {r:.0%}" for name, r in zip(["cat", "dog", "bird"], recall, strict=True)]
    assert f"{np.trace(matrix) / matrix.sum():.2%}" in ax.get_title()
    assert _inside_figure(figure, [ax.yaxis.label, ax.xaxis.label, *ax.get_yticklabels()])


def test_misclassified_grid_titles() -> None:
    from chainrule.cli.plots import misclassified_figure

    images = np.random.default_rng(0).random((20, 6, 6))
    figure = misclassified_figure(images, [0] * 20, [1] * 20, ["Sandal", "Sneaker"],
                                  confidence=[0.61] * 20)
    shown = [ax for ax in figure.axes if ax.images]
    assert len(shown) == 16  # at most 16 in a 4 × 4 grid
    assert shown[0].get_title() == "true: Sandal\npred: Sneaker (61%)"
    with pytest.raises(ChainruleError, match="no misclassified"):
        misclassified_figure(images[:0], [], [])


def test_filters_figure_one_tile_per_filter_on_one_scale() -> None:
    from chainrule.cli.plots import filters_figure

    weight = np.random.default_rng(1).normal(size=(6, 1, 5, 5))
    figure = filters_figure(weight)
    images = [ax.images[0] for ax in figure.axes if ax.images]
    assert len(images) == 6
    limit = np.abs(weight).max()
    assert all(im.get_clim() == (-limit, limit) for im in images)
    np.testing.assert_array_equal(images[2].get_array(), weight[2, 0])
    with pytest.raises(ChainruleError, match="conv weight"):
        filters_figure(weight[0])


def test_feature_maps_figure_has_input_and_each_map() -> None:
    from chainrule.cli.plots import feature_maps_figure

    maps = np.random.default_rng(2).random((6, 4, 4))
    figure = feature_maps_figure(np.zeros((1, 6, 6)), maps, title="t")
    titles = [ax.get_title() for ax in figure.axes]
    assert titles == ["input"] + [f"map {i}" for i in range(6)]
    np.testing.assert_array_equal(figure.axes[4].images[0].get_array(), maps[3])


@pytest.mark.parametrize("epochs", [1, 3, 12])
def test_epoch_ticks_are_whole_epochs(epochs: int) -> None:
    """Fashion-MNIST runs of a few epochs once got ticks at 1.5, 2.5: only whole epochs now."""
    from chainrule.cli.training_plots import training_figure

    figure = training_figure(_history([1.0 / (i + 1) for i in range(epochs)]))
    figure.canvas.draw()
    for ax in figure.axes[:2]:
        low, high = ax.get_xlim()
        ticks = [t for t in ax.get_xticks() if low <= t <= high]
        assert epochs in ticks or epochs > 10
        assert ticks and all(float(t).is_integer() for t in ticks)


def test_evaluation_figure_puts_mistakes_beside_the_matrix() -> None:
    from chainrule.cli.plots import evaluation_figure

    matrix = [[3, 1], [2, 4]]
    images = np.random.default_rng(3).random((3, 5, 5))
    figure = evaluation_figure(matrix, ["a", "b"], images=images, true=[0, 1, 1],
                               predicted=[1, 0, 0])
    pictures = [ax for ax in figure.axes if ax.images]
    assert len(pictures) == 1 + 3  # the matrix and 3 mistakes
    assert pictures[0].get_xlabel() == "predicted class"
    assert pictures[1].get_title() == "true: a\npred: b"
    alone = evaluation_figure(matrix, ["a", "b"])  # no images (2-D data): the matrix alone
    assert len([ax for ax in alone.axes if ax.images]) == 1
