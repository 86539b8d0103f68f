"""The Rosenblatt perceptron learning rule, traced one presented pattern at a time.

Follows Hagan, Demuth, Beale & De Jesús, *Neural Network Design* (2nd ed., 2014), ch. 4:
n = w·p + b, a = hardlim(n) (1 if n ≥ 0, else 0), e = t − a, w ← w + lr·e·p, b ← b + lr·e.
Training stops after a full pass with no error (converged) or after ``epochs`` passes.
Everything here is plain floats and lists, so the training code can call it directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chainrule.errors import ChainruleError

# Built-in two-input logic gates: patterns (p1, p2) and their targets.
GATE_PATTERNS: list[list[float]] = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
GATE_TARGETS: dict[str, list[float]] = {
    "or": [0.0, 1.0, 1.0, 1.0],
    "and": [0.0, 0.0, 0.0, 1.0],
    "nand": [1.0, 1.0, 1.0, 0.0],
    "xor": [0.0, 1.0, 1.0, 0.0],
}


@dataclass(frozen=True)
class PerceptronStep:
    """One presented pattern: the weights *after* the update are ``w`` and ``b``."""

    epoch: int  # 1-based pass over the patterns
    p: list[float]
    t: float
    n: float  # net input w·p + b, before the update
    a: float  # hardlim(n)
    e: float  # t − a
    w: list[float]  # weights after the update
    b: float | None  # bias after the update (None: no bias)


@dataclass(frozen=True)
class PerceptronTrace:
    """The whole run: every step, whether a pass ended with no error, and the final weights."""

    steps: list[PerceptronStep]
    converged: bool
    w: list[float]
    b: float | None
    w0: list[float]
    b0: float | None
    lr: float
    epochs: int  # passes actually made

    def errors_per_epoch(self) -> list[int]:
        """How many patterns were misclassified in each pass."""
        counts = [0] * self.epochs
        for step in self.steps:
            counts[step.epoch - 1] += step.e != 0.0
        return counts


def gate_data(name: str) -> tuple[list[list[float]], list[float]]:
    """The patterns and targets of a built-in gate: or, and, nand, xor."""
    key = name.lower()
    if key not in GATE_TARGETS:
        raise ChainruleError(f"unknown data {name!r}: expected one of {', '.join(GATE_TARGETS)}")
    return [list(p) for p in GATE_PATTERNS], list(GATE_TARGETS[key])


def hardlim_value(n: float) -> float:
    """hardlim(n) = 1 if n ≥ 0 else 0 (Hagan's convention at n = 0)."""
    return 1.0 if n >= 0.0 else 0.0


def perceptron_trace(
    patterns: Sequence[Sequence[float]],
    targets: Sequence[float],
    *,
    w: Sequence[float],
    b: float | None = 0.0,
    lr: float = 1.0,
    epochs: int = 100,
) -> PerceptronTrace:
    """Run the perceptron rule over ``patterns`` until a pass has no error or ``epochs`` run out."""
    rows, goals, weights = _check(patterns, targets, w, epochs)
    bias = None if b is None else float(b)
    steps: list[PerceptronStep] = []
    converged, done = False, 0
    for epoch in range(1, epochs + 1):
        done, errors = epoch, 0
        for p, t in zip(rows, goals, strict=True):
            n = sum(wi * pi for wi, pi in zip(weights, p, strict=True)) + (bias or 0.0)
            a = hardlim_value(n)
            e = t - a
            weights = [wi + lr * e * pi for wi, pi in zip(weights, p, strict=True)]
            bias = None if bias is None else bias + lr * e
            errors += e != 0.0
            steps.append(PerceptronStep(epoch, list(p), t, n, a, e, list(weights), bias))
        if errors == 0:
            converged = True
            break
    return PerceptronTrace(steps, converged, weights, bias, [float(v) for v in w],
                           None if b is None else float(b), float(lr), done)


def _check(patterns: Sequence[Sequence[float]], targets: Sequence[float], w: Sequence[float],
           epochs: int) -> tuple[list[list[float]], list[float], list[float]]:
    rows = [[float(v) for v in p] for p in patterns]
    goals = [float(t) for t in targets]
    weights = [float(v) for v in w]
    if not rows:
        raise ChainruleError("no patterns given: expected at least one")
    if len(rows) != len(goals):
        raise ChainruleError(f"{len(rows)} patterns but {len(goals)} targets: expected one each")
    widths = {len(p) for p in rows}
    if widths != {len(weights)}:
        raise ChainruleError(f"patterns have {sorted(widths)} inputs but w has {len(weights)} "
                             "values: expected the same")
    if any(t not in (0.0, 1.0) for t in goals):
        raise ChainruleError(f"targets must be 0 or 1 for hardlim, got {goals}")
    if epochs < 1:
        raise ChainruleError(f"epochs must be at least 1, got {epochs}")
    return rows, goals, weights
