"""The exercise framework: an :class:`Exercise`, a friendly-number chooser, the verification loop.

Each topic module (``chain_rule``, ``neuron``, …) offers a :class:`Topic`: ``generate(pick,
difficulty)`` draws one exercise with numbers from :class:`Friendly`, and ``verify(exercise)``
recomputes every answer by an independent route (float64 central differences of a plain-Python
evaluation, a NumPy forward pass, brute-force loops) from the exercise's ``data`` alone, the same
data the JSON prints. :func:`make_exercise` keeps drawing until an exercise is friendly (finite,
non-degenerate answers that round cleanly to 4 significant digits) and verifies; an exercise that
fails is drawn again, never printed. The draw depends only on (topic, difficulty, seed, index,
attempt), so the same seed gives the same sheet, byte for byte.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

import sympy as sp

from chainrule.errors import ChainruleError

MAX_ATTEMPTS = 200  # draws per exercise before giving up (in practice a few suffice)
SIG_DIGITS = 4
REL_TOLERANCE = 1e-6  # verification: independent value vs the derived one
MIN_MAGNITUDE = 1e-3  # an answer smaller than this counts as a degenerate zero


@dataclass(frozen=True)
class Math:
    """A piece of a prompt in math: its LaTeX and its plain (Unicode) text."""

    latex: str
    text: str
    display: bool = False  # set on a line of its own (a matrix, a long list of values)


Prompt = tuple[str | Math, ...]


def prompt_text(prompt: Prompt) -> str:
    return "".join(p.text if isinstance(p, Math) else p for p in prompt)


def prompt_latex(prompt: Prompt) -> str:
    return "".join((f"\n\\[{p.latex}\\]\n" if p.display else f"${p.latex}$")
                   if isinstance(p, Math) else escape_latex(p) for p in prompt)


def prompt_markdown(prompt: Prompt) -> str:
    return "".join((f" $${p.latex}$$ " if p.display else f"${p.latex}$")
                   if isinstance(p, Math) else p for p in prompt)


def escape_latex(text: str) -> str:
    """Plain prompt text as LaTeX text (no character of it can run a command; Unicode math signs
    become math), by the printers' own :func:`~chainrule.derive.printing.latex_layers.text_to_latex`."""
    from chainrule.derive.printing.latex_layers import text_to_latex

    return text_to_latex(text)


@dataclass(frozen=True)
class Answer:
    """One number the student gives: its name, LaTeX name, value, and Moodle tolerance."""

    name: str
    latex: str
    exact: float
    integer: bool = False  # counts and shapes: exact, tolerance 0
    may_be_zero: bool = False  # e.g. a weight that the perceptron rule leaves at 0

    @property
    def value(self) -> float:
        """The answer rounded to 4 significant digits (integers as they are)."""
        return float(round(self.exact)) if self.integer else round_sig(self.exact)

    @property
    def tolerance(self) -> float:
        """Moodle's absolute tolerance: 0 for integers, else 0.5 % of the value (at least half a
        unit of the 4th significant digit)."""
        if self.integer or self.value == 0.0:
            return 0.0 if self.integer else 0.0005
        return round_sig(max(abs(self.value) * 0.005, half_unit(self.value)), 2)


@dataclass(frozen=True)
class SolutionStep:
    """One line of a worked solution: the rule it applies, a sentence, and its LaTeX math."""

    rule: str
    text: str
    latex: str


@dataclass(frozen=True)
class Solution:
    """A worked solution: its steps, the key's LaTeX block, and the answers as it derived them."""

    steps: tuple[SolutionStep, ...]
    latex: str
    values: tuple[float, ...]  # checked against the exercise's answers before printing


@dataclass(frozen=True)
class Exercise:
    """A generated exercise: prompt, data (expression or spec, wrt, at), answers, solution."""

    topic: str
    prompt: Prompt
    data: dict[str, Any]
    answers: tuple[Answer, ...]
    solve: Callable[[], Solution] = field(compare=False, repr=False)
    figure_latex: str = ""  # optional: a table shown with the prompt (a matrix, a spec)
    figure_markdown: str = ""
    source: Any = field(default=None, compare=False, repr=False)  # what verify() recomputes from

    @cached_property
    def solution(self) -> Solution:
        """The worked solution, derived when first asked for (the slow part of a sheet); its
        numbers must agree with the answers, or it is an error and nothing is printed."""
        solution = self.solve()
        for answer, value in zip(self.answers, solution.values, strict=True):
            if not agrees(answer.exact, value, integer=answer.integer):
                raise ChainruleError(f"{self.topic}: the worked solution gives {answer.name} = "
                                     f"{value!r}, the answer is {answer.exact!r}")
        return solution

    @property
    def text(self) -> str:
        return prompt_text(self.prompt)

    @property
    def latex(self) -> str:
        return prompt_latex(self.prompt)

    @property
    def markdown(self) -> str:
        return prompt_markdown(self.prompt)


@dataclass(frozen=True)
class Topic:
    """A topic of the registry: its name, a title, the generator and the independent check."""

    name: str
    title: str
    summary: str
    generate: Callable[[Friendly, int], Exercise]
    verify: Callable[[Exercise], list[float]]  # the answers recomputed independently, in order


@dataclass
class Friendly:
    """Friendly random numbers: small integers and one-decimal values, from a seeded stream."""

    rng: random.Random
    attempt: int = 0
    notes: list[str] = field(default_factory=list)

    def integer(self, low: int, high: int, *, nonzero: bool = False) -> int:
        choices = [v for v in range(low, high + 1) if not (nonzero and v == 0)]
        return self.rng.choice(choices)

    def decimal(self, low: float, high: float, *, nonzero: bool = True) -> float:
        """A one-decimal value in [low, high] (never 0 unless allowed)."""
        tenths = [v for v in range(round(low * 10), round(high * 10) + 1) if not (nonzero and v == 0)]
        return self.rng.choice(tenths) / 10

    def choice(self, options: Sequence[Any]) -> Any:
        return self.rng.choice(list(options))

    def sample(self, options: Sequence[Any], k: int) -> list[Any]:
        return self.rng.sample(list(options), k)


@cache
def reachable_targets(g: sp.Expr) -> tuple[float, ...]:
    """The one-decimal targets in [−1, 1] that an output g(z) can come near: strictly between
    g's limits at −∞ and +∞ (``sympy.limit`` of its elementary definition; the exercises'
    activations are monotone), so that no exercise asks σ(z) to reach −0.5."""
    from chainrule.derive.activations import Z

    elementary = g.rewrite("elementary")
    low, high = sp.limit(elementary, Z, -sp.oo), sp.limit(elementary, Z, sp.oo)
    return tuple(tenths / 10 for tenths in range(-10, 11) if low < sp.Rational(tenths, 10) < high)


class Rejected(Exception):
    """A draw that is degenerate (a ReLU at its kink, a zero gradient): draw again."""


def round_sig(value: float, digits: int = SIG_DIGITS) -> float:
    """``value`` rounded to ``digits`` significant digits."""
    if value == 0.0 or not math.isfinite(value):
        return value
    return float(f"{value:.{digits - 1}e}")


def half_unit(value: float, digits: int = SIG_DIGITS) -> float:
    """Half a unit of the last of ``digits`` significant digits of ``value``."""
    return 0.5 * 10 ** (math.floor(math.log10(abs(value))) - digits + 1)


def rounds_cleanly(value: float, digits: int = SIG_DIGITS) -> bool:
    """True unless ``value`` lies within 2 % of a unit of a rounding boundary at ``digits``
    significant digits (where two honest computations could round apart)."""
    if value == 0.0:
        return True
    scaled = abs(value) / (2 * half_unit(value, digits))
    return abs((scaled - math.floor(scaled)) - 0.5) > 0.02 or abs(scaled - round(scaled)) < 1e-9


def problems(exercise: Exercise, topic: Topic) -> list[str]:
    """Why ``exercise`` may not be printed (empty when it is friendly and verifies)."""
    found = []
    for answer in exercise.answers:
        if not math.isfinite(answer.exact):
            found.append(f"{answer.name} is not finite")
        elif not answer.may_be_zero and abs(answer.exact) < MIN_MAGNITUDE:
            found.append(f"{answer.name} is (nearly) zero")
        elif not answer.integer and not rounds_cleanly(answer.exact):
            found.append(f"{answer.name} = {answer.exact!r} sits on a rounding boundary")
    if found:
        return found
    checks = topic.verify(exercise)
    if len(checks) != len(exercise.answers):
        return [f"the check computed {len(checks)} answers, expected {len(exercise.answers)}"]
    for answer, check in zip(exercise.answers, checks, strict=True):
        if not agrees(answer.exact, check, integer=answer.integer):
            found.append(f"{answer.name}: derived {answer.exact!r}, independent {check!r}")
    return found


def agrees(derived: float, independent: float, *, integer: bool = False) -> bool:
    """True when the independent value confirms the derived one (and its 4-digit rounding)."""
    if integer:
        return derived == independent
    scale = max(abs(derived), abs(independent), 1e-12)
    return abs(derived - independent) <= REL_TOLERANCE * scale + 1e-12 \
        and round_sig(derived) == round_sig(independent)


@dataclass(frozen=True)
class Outcome:
    """An exercise that verified, and how many draws were rejected before it."""

    exercise: Exercise
    rejected: int


def make_exercise(topic: Topic, *, seed: int, difficulty: int, index: int) -> Outcome:
    """Draw exercise ``index`` of the sheet until one is friendly and verifies."""
    for attempt in range(MAX_ATTEMPTS):
        rng = random.Random(f"chainrule-exercises/{topic.name}/{difficulty}/{seed}/{index}/{attempt}")
        try:
            exercise = topic.generate(Friendly(rng, attempt), difficulty)
        except (Rejected, ZeroDivisionError, ValueError, OverflowError, ChainruleError):
            continue
        try:
            found = problems(exercise, topic)
        except (Rejected, ZeroDivisionError, ValueError, OverflowError):
            continue
        if not found:
            return Outcome(exercise, attempt)
    raise ChainruleError(f"no verifiable {topic.name} exercise found for seed {seed} "
                         f"(exercise {index + 1}) after {MAX_ATTEMPTS} draws")


def steps_latex(steps: Sequence[SolutionStep]) -> str:
    """Worked steps as the printers' step table: numbered rows, the rule on the right."""
    from chainrule.derive.printing.latex_derivation import math_cell, step_table

    rows = [(f"{n}.", (escape_latex(s.text) + " " if s.text else "") + math_cell(s.latex),
             escape_latex(s.rule)) for n, s in enumerate(steps, start=1)]
    return step_table(rows, head=("step", "rule"))


def number(value: float) -> str:
    """A number as a sheet shows it: up to 4 significant digits, no trailing zeros."""
    if value == int(value) and abs(value) < 1e9:
        return str(int(value))
    return f"{round_sig(value):.6g}"


def matrix_latex(rows: Sequence[Sequence[float]]) -> str:
    body = r" \\ ".join(" & ".join(number(v) for v in row) for row in rows)
    return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"


def matrix_text(rows: Sequence[Sequence[float]]) -> str:
    return "[" + ", ".join("[" + ", ".join(number(v) for v in row) + "]" for row in rows) + "]"


def vector_latex(values: Sequence[float]) -> str:
    """A vector inline, as a tuple (it breaks across lines as a column vector cannot)."""
    return "(" + r",\, ".join(number(v) for v in values) + ")"


def vector_text(values: Sequence[float]) -> str:
    return "[" + ", ".join(number(v) for v in values) + "]"
