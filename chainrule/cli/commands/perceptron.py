"""``chainrule perceptron``: a Rosenblatt learning-rule trace (Hagan et al., *NND*, ch. 4)."""

from __future__ import annotations

import csv
from pathlib import Path

import typer

from chainrule.cli.apps import app
from chainrule.cli.output import FORMAT_OPTION, OUT_OPTION, STANDALONE_OPTION, Format, emit
from chainrule.derive.perceptron import GATE_TARGETS, PerceptronTrace, gate_data, perceptron_trace
from chainrule.derive.printing.graph_json import perceptron_payload
from chainrule.derive.printing.graph_markdown import perceptron_markdown
from chainrule.derive.printing.graph_text import perceptron_text
from chainrule.derive.printing.latex import document, latex
from chainrule.derive.values import parse_matrix, parse_value
from chainrule.errors import ChainruleError

MAX_CSV_ROWS = 100_000


@app.command("perceptron")
def perceptron_command(
    data: str = typer.Option(None, "--data", "-d", help="or, and, nand, xor, or a CSV file with "
                             "columns p1..pn,t (a header row is skipped)."),
    patterns: str = typer.Option(None, "--patterns", help="Patterns as a matrix: \"[[1,2],[-1,2]]\"."),
    targets: str = typer.Option(None, "--targets", help="Targets (0 or 1): \"[1,0]\"."),
    w: str = typer.Option(..., "--w", help="Initial weights: \"1,-0.8\"."),
    b: float = typer.Option(None, "--b", help="Initial bias (default 0)."),
    no_bias: bool = typer.Option(False, "--no-bias", help="No bias: n = w·p."),
    lr: float = typer.Option(1.0, "--lr", help="Learning rate."),
    epochs: int = typer.Option(100, "--epochs", help="Most passes over the patterns."),
    fmt: Format = FORMAT_OPTION,
    out: Path = OUT_OPTION,
    standalone: bool = STANDALONE_OPTION,
) -> None:
    """Trace the perceptron rule: n = w·p + b, a = hardlim(n), e = t − a, w ← w + lr·e·p.

    One row per presented pattern; it stops after a pass with no error (converged) or after
    --epochs passes (XOR never converges: it is not linearly separable).

    [bold]Examples[/bold]

      chainrule perceptron --data or --w "0.5,0.5" --b -0.25
      chainrule perceptron --patterns "[[1,2],[-1,2],[0,-1]]" --targets "[1,0,0]" --w "1,-0.8" --no-bias
      chainrule perceptron --data xor --w "0,0" --epochs 20 --format json
      chainrule perceptron --data points.csv --w "0,0" --format latex --standalone --out trace.tex
    """
    if no_bias and b is not None:
        raise ChainruleError(f"--b {b:g} and --no-bias contradict each other: give one of them")
    rows, goals = _patterns(data, patterns, targets)
    weights = parse_value(f"[{w.strip().strip('[]')}]", name="--w")
    if not isinstance(weights, list) or not all(isinstance(v, float) for v in weights):
        raise ChainruleError(f"--w must be a list of numbers such as \"0.5,-0.3\", got {w!r}")
    flat_weights = [float(v) for v in weights]  # type: ignore[arg-type]  # checked just above
    trace = perceptron_trace(rows, goals, w=flat_weights, b=None if no_bias else (b or 0.0),
                             lr=lr, epochs=epochs)
    emit(fmt, out, text=lambda: perceptron_text(trace), latex=lambda: _latex(trace, standalone),
         markdown=lambda: perceptron_markdown(trace), json_payload=lambda: perceptron_payload(trace))


def _patterns(data: str | None, patterns: str | None,
              targets: str | None) -> tuple[list[list[float]], list[float]]:
    if (patterns is None) != (targets is None):
        raise ChainruleError("--patterns and --targets go together: give both or neither")
    if patterns is not None and targets is not None:
        if data is not None:
            raise ChainruleError("give either --data or --patterns/--targets, not both")
        goals = parse_value(targets, name="--targets")
        if not isinstance(goals, list) or any(isinstance(t, list) for t in goals):
            raise ChainruleError(f"--targets must be a list such as [1,0,0], got {targets!r}")
        return parse_matrix(patterns, name="--patterns"), goals  # type: ignore[return-value]
    if data is None:
        raise ChainruleError(f"no data: expected --data {'|'.join(GATE_TARGETS)}|FILE.csv "
                             "or --patterns with --targets")
    if data.lower() in GATE_TARGETS:
        return gate_data(data)
    return read_patterns_csv(Path(data))


def read_patterns_csv(path: Path) -> tuple[list[list[float]], list[float]]:
    """Rows p1,…,pn,t; a first row that is not numbers is a header and is skipped."""
    if not path.is_file():
        raise ChainruleError(f"--data {str(path)!r}: expected or, and, nand, xor or a CSV file")
    rows: list[list[float]] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if not row or not "".join(row).strip():
                continue
            try:
                rows.append([float(cell) for cell in row])
            except ValueError:
                if number == 1:
                    continue  # header
                raise ChainruleError(f"{path}: line {number} is not numbers: {row}") from None
            if len(rows) > MAX_CSV_ROWS:
                raise ChainruleError(f"{path}: more than {MAX_CSV_ROWS} rows")
    if not rows or len({len(r) for r in rows}) != 1 or len(rows[0]) < 2:
        raise ChainruleError(f"{path}: expected rows of equal length p1,…,pn,t with n ≥ 1")
    return [r[:-1] for r in rows], [r[-1] for r in rows]


def _latex(trace: PerceptronTrace, standalone: bool) -> str:
    body = latex(trace)
    return document(body, title="Perceptron learning rule") if standalone else body + "\n"
