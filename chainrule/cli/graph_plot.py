"""Draw a staged computation graph as micrograd's ``draw_dot`` does (Karpathy, micrograd): one
record-shaped box per node, ``name = definition | value | grad``, laid out left to right, with
plain arrows and no label on an edge.

With graphviz's ``dot`` on the PATH the figure is laid out by dot (``rankdir=LR``, record shapes);
otherwise matplotlib draws the same boxes itself. Either way the canvas is sized to its content:
each box is as wide as its text, measured with the renderer, so no label leaves its box.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle
from matplotlib.path import Path as MplPath

from chainrule.cli.plots import figure_png, save_figure
from chainrule.derive.graph import ComputationGraph, GraphNode
from chainrule.derive.printing.graph_text import expression_text, fmt
from chainrule.errors import ChainruleError
from chainrule.fsutil import atomic_write_bytes

VALUE_COLOUR = "#1b7a1b"  # forward value: green
GRAD_COLOUR = "#b22222"  # gradient d output / d node: red
INPUT_FILL = "#eef3fb"
STAGE_FILL = "#f7f7f7"
OUTPUT_FILL = "#fff4e0"
MAX_DRAWN_NODES = 60
FONT_SIZE = 10.0
DPI = 120
PAD_X = 0.08  # inches of padding left and right of each cell's text
BOX_HEIGHT = 0.56  # inches: two rows
COLUMN_GAP = 0.55  # inches between the columns of boxes
ROW_GAP = 0.28  # inches between the boxes of one column
MARGIN = 0.2  # inches around the drawing
HEADER = 0.55  # inches at the top for the title
MAX_WIDTH = 11.0  # inches: a wider graph wraps onto another band below (fits a page or screen)
BAND_GAP = 0.45  # inches between bands
ELBOW = 0.12  # inches: how far a wrapping edge runs out of its box before it turns
LANE_GAP = 0.07  # inches between the lanes of edges routed over a band


@dataclass(frozen=True)
class Box:
    """One node's box: its three cells' texts, their widths (inches) and its place (inches)."""

    name: str
    cells: tuple[str, str, str]
    widths: tuple[float, float, float]
    x: float  # left edge
    y: float  # vertical centre

    @property
    def width(self) -> float:
        """The wider of the top row (definition) and the bottom row (value | grad)."""
        return max(self.widths[0], self.widths[1] + self.widths[2])


def node_cells(node: GraphNode) -> tuple[str, str, str]:
    """``q = w0·x0``, ``value 2``, ``grad −0.1966`` (inputs show their name alone)."""
    head = node.name if node.is_input else f"{node.name} = {expression_text(node.expr)}"
    return head, f"value {fmt(node.value)}", f"grad {fmt(node.grad)}"


def graph_columns(graph: ComputationGraph) -> dict[str, int]:
    """The column of each node: its longest path from an input, with each input moved right to
    just before its first consumer (so that ``+ w2`` sits beside its sum, not at the far left)."""
    depth: dict[str, int] = {}
    for node in graph.nodes:  # topological order
        depth[node.name] = 1 + max((depth[p] for p in node.parents), default=-1)
    consumers: dict[str, list[int]] = {}
    for node in graph.nodes:
        for parent in node.parents:
            consumers.setdefault(parent, []).append(depth[node.name])
    for node in graph.inputs:
        if node.name in consumers:
            depth[node.name] = min(consumers[node.name]) - 1
    return depth


def graph_rows(graph: ComputationGraph, columns: dict[str, int]) -> dict[str, float]:
    """Each node's row inside its column, ordered by the mean row of its neighbours (the
    barycentre heuristic of Sugiyama et al., 1981) so that few edges cross."""
    neighbours: dict[str, list[str]] = {node.name: list(node.parents) for node in graph.nodes}
    for node in graph.nodes:
        for parent in node.parents:
            neighbours[parent].append(node.name)
    by_column: dict[int, list[str]] = {}
    for node in graph.nodes:
        by_column.setdefault(columns[node.name], []).append(node.name)
    rows = _centred(by_column)
    for _ in range(4):  # a few sweeps settle small graphs
        for names in by_column.values():
            names.sort(key=lambda n: sum(rows[m] for m in neighbours[n]) / max(len(neighbours[n]), 1))
        rows = _centred(by_column)
    return rows


def _centred(by_column: dict[int, list[str]]) -> dict[str, float]:
    return {name: row - (len(names) - 1) / 2 for names in by_column.values()
            for row, name in enumerate(names)}


def graph_figure(graph: ComputationGraph, *, title: str | None = None) -> Figure:
    """The graph as a matplotlib figure sized to its boxes."""
    if len(graph.nodes) > MAX_DRAWN_NODES:
        raise ChainruleError(f"the graph has {len(graph.nodes)} nodes; --plot draws at most "
                             f"{MAX_DRAWN_NODES}")
    figure = Figure(figsize=(4, 2), dpi=DPI)
    measure = _measurer(figure)
    cells = {node.name: node_cells(node) for node in graph.nodes}
    widths = {name: tuple(measure(text) + 2 * PAD_X for text in texts)
              for name, texts in cells.items()}
    columns = graph_columns(graph)
    rows = graph_rows(graph, columns)
    box_width = {n: max(w[0], w[1] + w[2]) for n, w in widths.items()}
    column_width = {c: max(box_width[n] for n in columns if columns[n] == c)
                    for c in set(columns.values())}
    bands = column_bands(column_width)
    heading = title or f"{graph.output} = {expression_text(graph.expression)}"
    lefts: dict[int, float] = {}
    band_of: dict[int, int] = {}
    widest = 0.0
    for number, band in enumerate(bands):
        x = MARGIN
        for column in band:
            lefts[column], band_of[column] = x, number
            x += column_width[column] + COLUMN_GAP
        widest = max(widest, x - COLUMN_GAP + MARGIN)
    width = max(widest, measure(heading, 11) + 2 * MARGIN)
    pitch = BOX_HEIGHT + ROW_GAP
    spans = []  # per band: (highest row, lowest row) of its nodes
    for band in bands:
        band_rows = [rows[n] for n in columns if columns[n] in band]
        spans.append((max(band_rows), min(band_rows)))
    band_heights = [(top - bottom) * pitch + BOX_HEIGHT for top, bottom in spans]
    height = sum(band_heights) + BAND_GAP * (len(bands) - 1) + 2 * MARGIN + HEADER
    figure.set_size_inches(width, height)
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set(xlim=(0, width), ylim=(0, height))
    ax.axis("off")
    band_bottom: list[float] = []
    y0 = MARGIN  # bands stacked from the bottom up, the first one on top
    for band_height in reversed(band_heights):
        band_bottom.insert(0, y0)
        y0 += band_height + BAND_GAP
    boxes = {}
    for node in graph.nodes:
        name = node.name
        column = columns[name]
        at = band_of[column]
        left = lefts[column] + (column_width[column] - box_width[name]) / 2
        y = band_bottom[at] + BOX_HEIGHT / 2 + (spans[at][0] - rows[name]) * pitch
        boxes[name] = Box(name, cells[name], widths[name], left, y)  # type: ignore[arg-type]
    tops = [bottom + h for bottom, h in zip(band_bottom, band_heights, strict=True)]
    lanes = [0] * len(bands)  # skip edges routed over each band so far
    for node in graph.nodes:
        for parent in node.parents:
            at = band_of[columns[node.name]]
            lane = None
            if band_of[columns[parent]] == at and _crosses(boxes[parent], boxes[node.name],
                                                              boxes.values()):
                lane = tops[at] + LANE_GAP * (1 + lanes[at])
                lanes[at] += 1
            _arrow(ax, boxes[parent], boxes[node.name], gap=tops[at] + BAND_GAP / 2, lane=lane)
    for node in graph.nodes:
        fill = (OUTPUT_FILL if node.name == graph.output else
                INPUT_FILL if node.is_input else STAGE_FILL)
        _box(ax, boxes[node.name], fill)
    ax.text(MARGIN, height - HEADER / 2, heading, fontsize=11, va="center")
    ax.text(width - MARGIN, height - HEADER / 2,
            f"value: forward   grad: ∂{graph.output}/∂node", fontsize=8, va="center",
            ha="right", color="dimgray")
    return figure


def column_bands(column_width: dict[int, float], max_width: float = MAX_WIDTH) -> list[list[int]]:
    """The columns in bands no wider than ``max_width`` inches (a long chain wraps onto the next
    band, as text wraps onto the next line), each band holding at least one column."""
    bands: list[list[int]] = [[]]
    used = 0.0
    for column in sorted(column_width):
        needed = column_width[column] + (COLUMN_GAP if bands[-1] else 0.0)
        if bands[-1] and used + needed > max_width - 2 * MARGIN:
            bands.append([])
            used, needed = 0.0, column_width[column]
        bands[-1].append(column)
        used += needed
    return bands


def _measurer(figure: Figure):  # type: ignore[no-untyped-def]
    """A function giving a text's width in inches at a font size (measured, not guessed)."""
    renderer = FigureCanvasAgg(figure).get_renderer()

    def width(text: str, size: float = FONT_SIZE) -> float:
        artist = figure.text(0, 0, text, fontsize=size)
        extent = artist.get_window_extent(renderer)
        artist.remove()
        return float(extent.width) / figure.dpi

    return width


def _box(ax, box: Box, fill: str) -> None:  # type: ignore[no-untyped-def]
    """Two rows: the definition across the top, value | grad below it."""
    half = BOX_HEIGHT / 2
    bottom = box.y - half
    ax.add_patch(Rectangle((box.x, box.y), box.width, half, facecolor=fill, edgecolor="black",
                           linewidth=0.9, zorder=2))
    ax.text(box.x + box.width / 2, box.y + half / 2, box.cells[0], ha="center", va="center",
            fontsize=FONT_SIZE, zorder=3)
    value_width = box.width * box.widths[1] / (box.widths[1] + box.widths[2])
    x = box.x
    for text, width, colour in ((box.cells[1], value_width, VALUE_COLOUR),
                                (box.cells[2], box.width - value_width, GRAD_COLOUR)):
        ax.add_patch(Rectangle((x, bottom), width, half, facecolor="white", edgecolor="black",
                               linewidth=0.9, zorder=2))
        ax.text(x + width / 2, bottom + half / 2, text, ha="center", va="center",
                fontsize=FONT_SIZE, color=colour, zorder=3)
        x += width


def _crosses(parent: Box, child: Box, boxes: Iterable[Box]) -> bool:
    """Whether the straight edge parent → child passes through a third box."""
    (x0, y0), (x1, y1) = (parent.x + parent.width, parent.y), (child.x, child.y)
    points = [(x0 + (x1 - x0) * t / 40, y0 + (y1 - y0) * t / 40) for t in range(1, 40)]
    return any(box.x < x < box.x + box.width and abs(y - box.y) < BOX_HEIGHT / 2
               for box in boxes if box not in (parent, child) for x, y in points)


def _arrow(ax, parent: Box, child: Box, *, gap: float,  # type: ignore[no-untyped-def]
           lane: float | None = None) -> None:
    """Straight from the parent's right edge to the child's left edge. An edge that wraps to a
    later band runs left along the gap above the child's band (``gap``), and an edge that would
    cross a box runs along a lane over its band (``lane``); both enter the child from the left."""
    start = (parent.x + parent.width, parent.y)
    end = (child.x, child.y)
    out, back = start[0] + ELBOW, end[0] - ELBOW
    if end[0] < start[0]:
        path = MplPath([start, (out, start[1]), (out, gap), (back, gap), (back, end[1]), end])
    elif lane is not None:
        path = MplPath([start, (out, start[1]), (out, lane), (back, lane), (back, end[1]), end])
    else:
        path = MplPath([start, end])
    ax.add_patch(FancyArrowPatch(path=path, arrowstyle="-|>", mutation_scale=10,
                                 color="dimgray", linewidth=1.0, zorder=1))


def graph_dot(graph: ComputationGraph) -> str:
    """graphviz DOT source of the same drawing: record nodes, rankdir=LR, unlabelled edges."""
    lines = ["digraph G {", "  rankdir=LR;",
             '  node [shape=record, fontname="DejaVu Sans", fontsize=10, style=filled];',
             '  edge [color="dimgray"];']
    for node in graph.nodes:
        head, value, grad = (_dot_escape(c) for c in node_cells(node))
        fill = (OUTPUT_FILL if node.name == graph.output else
                INPUT_FILL if node.is_input else STAGE_FILL)
        lines.append(f'  "{node.name}" [label="{head} | {{ {value} | {grad} }}", '
                     f'fillcolor="{fill}"];')
    for node in graph.nodes:
        lines += [f'  "{parent}" -> "{node.name}";' for parent in node.parents]
    return "\n".join(lines + ["}"]) + "\n"


def _dot_escape(text: str) -> str:
    for char in '\\{}|<>"':
        text = text.replace(char, "\\" + char)
    return text


def graph_png(graph: ComputationGraph, *, title: str | None = None,
              use_dot: bool | None = None) -> bytes:
    """PNG bytes of the graph: dot's layout where graphviz is installed, else matplotlib's."""
    dot = shutil.which("dot") if use_dot is not False else None
    if dot is not None and title is None:
        done = subprocess.run([dot, "-Tpng", f"-Gdpi={DPI}"], input=graph_dot(graph).encode(),
                              capture_output=True, check=False, timeout=60)
        if done.returncode == 0 and done.stdout:
            return done.stdout
    return figure_png(graph_figure(graph, title=title))


def plot_graph(graph: ComputationGraph, path: str | Path, *, title: str | None = None) -> Path:
    """Write the graph as a PNG (``path`` must end in .png)."""
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise ChainruleError(f"--plot {str(target)!r}: expected a .png file name")
    if len(graph.nodes) > MAX_DRAWN_NODES:
        raise ChainruleError(f"the graph has {len(graph.nodes)} nodes; --plot draws at most "
                             f"{MAX_DRAWN_NODES}")
    return atomic_write_bytes(target, graph_png(graph, title=title))


__all__ = ["graph_dot", "graph_figure", "graph_png", "plot_graph", "save_figure"]
