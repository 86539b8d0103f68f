"""``chainrule perceptron``: a Rosenblatt learning-rule trace (Hagan et al., *NND*, ch. 4)."""

from __future__ import annotations

from pathlib import Path

import typer

from chainrule.cli.apps import app
from chainrule.cli.output import FORMAT_OPTION, OUT_OPTION, STANDALONE_OPTION, Format, emit
from chainrule.derive.perceptron import GATE_TARGETS, PerceptronTrace, gate_data, perceptron_trace
from chainrule.derive.values import Value, parse_assignments, parse_matrix, parse_value
from chainrule.errors import ChainruleError

MAX_CSV_ROWS = 100_000


@app.command("perceptron")
def perceptron_command(
    data: str = typer.Option(None, "--data", "-d", help="or, and, nand, xor, or a CSV file with "
                             "columns p1..pn,t (a header row is skipped)."),
    patterns: str = typer.Option(None, "--patterns", help="Patterns as a matrix: \"[[1,2],[-1,2]]\"."),
    targets: str = typer.Option(None, "--targets", help="Targets (0 or 1): \"[1,0]\"."),
    at: str = typer.Option(None, "--at", help="Initial weights and bias in derive neuron's "
                           "form: \"w=[1,-0.8],b=0\" (b defaults to 0; w=0.5 is one weight)."),
    w: str = typer.Option(None, "--w", help="Alias of --at's w: initial weights \"1,-0.8\"."),
    b: float = typer.Option(None, "--b", help="Alias of --at's b: initial bias (default 0)."),
    no_bias: bool = typer.Option(False, "--no-bias", help="No bias: n = w·p."),
    lr: float = typer.Option(1.0, "--lr", help="Learning rate."),
    epochs: int = typer.Option(100, "--epochs", help="Most passes over the patterns (epochs × "
                               "patterns at most 200,000; CHAINRULE_MAX_PERCEPTRON_STEPS raises it)."),
    fmt: Format = FORMAT_OPTION,
    out: Path = OUT_OPTION,
    standalone: bool = STANDALONE_OPTION,
) -> None:
    """Trace the perceptron rule: n = w·p + b, a = hardlim(n), e = t − a, w ← w + lr·e·p.

    One row per presented pattern; it stops after a pass with no error (converged) or after
    --epochs passes (XOR never converges: it is not linearly separable). Values must be finite and
    at most 1e6 in magnitude (CHAINRULE_MAX_ABS_VALUE), as train asks of the same CSV file.
    Initial values as in derive neuron: --at "w=[1,-0.8],b=0"; --w "1,-0.8" and --b 0 are
    aliases for it (give one form).

    [bold]Examples[/bold]

      chainrule perceptron --data or --at "w=[0.5,0.5],b=-0.25"
      chainrule perceptron --patterns "[[1,2],[-1,2],[0,-1]]" --targets "[1,0,0]" --at "w=[1,-0.8]" --no-bias
      chainrule perceptron --data or --w "0.5,0.5" --b -0.25
      chainrule perceptron --data xor --w "0,0" --epochs 20 --format json
      chainrule perceptron --data points.csv --w "0,0" --format latex --standalone --out trace.tex
    """
    from chainrule.derive.printing.graph_json import perceptron_payload
    from chainrule.derive.printing.graph_markdown import perceptron_markdown
    from chainrule.derive.printing.graph_text import perceptron_text

    flat_weights, bias = initial_values(at, w, b)
    if no_bias and bias is not None:
        given = f"--b {bias:g}" if at is None else f"b = {bias:g} in --at"
        raise ChainruleError(f"{given} and --no-bias contradict each other: give one of them")
    rows, goals = _patterns(data, patterns, targets)
    check_finite_inputs(rows, flat_weights, None if no_bias else bias, lr,
                        names="--w, --b and --lr" if at is None else "--at and --lr")
    check_trace_size(len(rows), len(flat_weights), epochs)
    trace = perceptron_trace(rows, goals, w=flat_weights, b=None if no_bias else (bias or 0.0),
                             lr=lr, epochs=epochs)
    check_finite_trace(trace)
    emit(fmt, out, text=lambda: perceptron_text(trace), latex=lambda: _latex(trace, standalone),
         markdown=lambda: perceptron_markdown(trace), json_payload=lambda: perceptron_payload(trace))


def initial_values(at: str | None, w: str | None,
                   b: float | None) -> tuple[list[float], float | None]:
    """The initial w and b: from --at "w=[..],b=.." (derive neuron's parser and form) or from
    its aliases --w "..,.." and --b; one form, not both."""
    if at is not None:
        if w is not None or b is not None:
            raise ChainruleError("give --at or --w/--b, not both: they set the same w and b")
        return _from_at(parse_assignments(at))
    if w is None:
        raise ChainruleError('no initial weights: give --at "w=[..],b=.." or --w "..,.."')
    weights = parse_value(f"[{w.strip().strip('[]')}]", name="--w")
    if not isinstance(weights, list) or not all(isinstance(v, float) for v in weights):
        raise ChainruleError(f"--w must be a list of numbers such as \"0.5,-0.3\", got {w!r}")
    return [float(v) for v in weights], b  # type: ignore[arg-type]  # checked just above


def _from_at(values: dict[str, Value]) -> tuple[list[float], float | None]:
    unknown = sorted(set(values) - {"w", "b"})
    if unknown:
        raise ChainruleError(f"unknown name {unknown[0]!r} in --at: perceptron takes w and b, "
                             'e.g. --at "w=[1,-0.8],b=0"')
    if "w" not in values:
        raise ChainruleError('--at has no w: expected e.g. --at "w=[1,-0.8],b=0"')
    weights = values["w"] if isinstance(values["w"], list) else [values["w"]]
    if not all(isinstance(v, float) for v in weights):
        raise ChainruleError("--at w must be a number or a list of numbers, got a matrix")
    bias = values.get("b")
    if isinstance(bias, list):
        raise ChainruleError("--at b must be a number, got a list")
    return [float(v) for v in weights], bias  # type: ignore[arg-type]  # checked just above


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
    """Rows p1,…,pn,t; a first row that is not numbers is a header and is skipped. Values must be
    finite and within ``CHAINRULE_MAX_ABS_VALUE``, as for ``train`` (the same reader)."""
    from chainrule.train.data.csv import read_numeric_rows

    if not path.exists() and not path.is_symlink():
        raise ChainruleError(f"--data {str(path)!r}: expected or, and, nand, xor or a CSV file")
    rows = read_numeric_rows(path)
    if len(rows) > MAX_CSV_ROWS:
        raise ChainruleError(f"{path}: more than {MAX_CSV_ROWS} rows")
    return [r[:-1] for r in rows], [r[-1] for r in rows]


def check_trace_size(n_patterns: int, n_inputs: int, epochs: int) -> None:
    """Refuse, before it runs, a trace over the caps (epochs × patterns, and × inputs)."""
    from chainrule.train.data.limits import PERCEPTRON_STEPS, TRACE_VALUES

    if epochs < 1:
        raise ChainruleError(f"--epochs must be at least 1, got {epochs}")
    steps = epochs * n_patterns
    PERCEPTRON_STEPS.check(steps, f"the trace of --epochs {epochs} × {n_patterns} patterns")
    TRACE_VALUES.check(steps * max(1, n_inputs),
                       f"the trace of --epochs {epochs} × {n_patterns} patterns × {n_inputs} inputs")


def check_finite_inputs(rows: list[list[float]], w: list[float], b: float | None,
                        lr: float, *, names: str = "--w, --b and --lr") -> None:
    """Refuse NaN, ±inf and out-of-bound magnitudes in the patterns, w, b and --lr."""
    import numpy as np

    from chainrule.train.data.limits import check_values

    check_values(np.array(rows, dtype=np.float64), "--data/--patterns")
    check_values(np.array([*w, 0.0 if b is None else b, lr], dtype=np.float64), names)


def check_finite_trace(trace: PerceptronTrace) -> None:
    """Refuse a trace whose numbers overflowed (JSON has no NaN or Infinity)."""
    import math

    for step in trace.steps:
        values = [step.n, *step.w, 0.0 if step.b is None else step.b]
        if not all(math.isfinite(v) for v in values):
            raise ChainruleError(f"the trace overflowed at epoch {step.epoch} (n = {step.n}): "
                                 "use smaller --lr, --w or pattern values")


def _latex(trace: PerceptronTrace, standalone: bool) -> str:
    from chainrule.derive.printing.latex import document, latex

    body = latex(trace)
    return document(body, title="Perceptron learning rule") if standalone else body + "\n"
