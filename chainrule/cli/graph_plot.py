"""Draw a staged computation graph the way the CS231n notes do: nodes left to right, forward values
in green above each wire, gradients in red below it (Karpathy, CS231n "Backpropagation,
Intuitions", the circuit diagrams)."""

from __future__ import annotations

from pathlib import Path

from chainrule.cli.plots import plt, save_figure
from chainrule.derive.graph import ComputationGraph, GraphNode
from chainrule.derive.printing.graph_text import fmt
from chainrule.errors import ChainruleError

FORWARD_COLOUR = "tab:green"
GRADIENT_COLOUR = "tab:red"
MAX_DRAWN_NODES = 60


def graph_layout(graph: ComputationGraph) -> dict[str, tuple[float, float]]:
    """(column, row) per node: the column is the longest path from an input."""
    depth: dict[str, int] = {}
    for node in graph.nodes:  # topological order
        depth[node.name] = 1 + max((depth[p] for p in node.parents), default=-1)
    columns: dict[int, list[str]] = {}
    for name, column in depth.items():
        columns.setdefault(column, []).append(name)
    positions = {}
    for column, names in columns.items():
        for row, name in enumerate(names):
            positions[name] = (float(column), -(row - (len(names) - 1) / 2))
    return positions


def plot_graph(graph: ComputationGraph, path: str | Path, *, title: str | None = None) -> Path:
    """Write the graph as a PNG with values (green, above) and gradients (red, below)."""
    if len(graph.nodes) > MAX_DRAWN_NODES:
        raise ChainruleError(f"the graph has {len(graph.nodes)} nodes; --plot draws at most "
                             f"{MAX_DRAWN_NODES}")
    positions = graph_layout(graph)
    width = max(x for x, _ in positions.values()) + 1
    height = max(abs(y) for _, y in positions.values()) * 2 + 1
    fig, ax = plt.subplots(figsize=(1.6 * width + 1, 1.3 * height + 1.2))
    for node in graph.nodes:
        for edge in node.edges:
            _wire(ax, positions[edge.parent], positions[node.name])
    for node in graph.nodes:
        _node(ax, positions[node.name], node)
    ax.set_title(title or f"{graph.output} = {graph.expression}", fontsize=10)
    ax.text(0.01, 0.01, f"green: forward value   red: gradient ∂{graph.output}/∂node",
            transform=ax.transAxes, fontsize=8, color="dimgray")
    ax.set_xlim(-0.7, width - 0.3)
    ax.set_ylim(-height / 2 - 0.3, height / 2 + 0.3)
    ax.axis("off")
    fig.tight_layout()
    return save_figure(fig, path)


def _wire(ax: plt.Axes, start: tuple[float, float], end: tuple[float, float]) -> None:
    ax.annotate("", xy=(end[0] - 0.22, end[1]), xytext=(start[0] + 0.22, start[1]),
                arrowprops={"arrowstyle": "->", "color": "gray", "lw": 1.0})


def _node(ax: plt.Axes, position: tuple[float, float], node: GraphNode) -> None:
    x, y = position
    label = node.name if node.is_input else f"{node.name}\n{_op_label(node.op)}"
    ax.text(x, y, label, ha="center", va="center", fontsize=8,
            bbox={"boxstyle": "circle", "fc": "white" if node.is_input else "whitesmoke",
                  "ec": "black"})
    ax.text(x, y + 0.3, fmt(node.value), ha="center", va="bottom", fontsize=8,
            color=FORWARD_COLOUR)
    ax.text(x, y - 0.3, fmt(node.grad), ha="center", va="top", fontsize=8, color=GRADIENT_COLOUR)


def _op_label(op: str) -> str:
    return {"add": "+", "sub": "−", "mul": "×", "div": "÷", "neg": "·(−1)", "add_const": "+c",
            "scale": "·c", "reciprocal": "1/x", "pow": "x^n", "exp": "exp"}.get(op, op)
