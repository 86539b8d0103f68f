"""The topic registry and the sheet: :data:`TOPICS` and :func:`make_sheet`."""

from __future__ import annotations

from dataclasses import dataclass

from chainrule.derive.exercises import (
    DIFFICULTIES,
    MAX_COUNT,
    MAX_SEED,
    backprop,
    chain_rule,
    conv,
    graph,
    losses,
    neuron,
    params,
    perceptron,
    pooling,
)
from chainrule.derive.exercises.common import Exercise, Topic, make_exercise
from chainrule.errors import ChainruleError

TOPICS: dict[str, Topic] = {module.TOPIC.name: module.TOPIC for module in (
    chain_rule, neuron, graph, backprop, perceptron, conv, pooling, params, losses)}


@dataclass(frozen=True)
class Sheet:
    """A sheet's exercises (each verified), what it was drawn from, and the draws rejected."""

    topic: Topic
    seed: int
    difficulty: int
    exercises: tuple[Exercise, ...]
    rejected: int

    @property
    def title(self) -> str:
        return f"{self.topic.title}: exercises (difficulty {self.difficulty}, seed {self.seed})"


def get_topic(name: str) -> Topic:
    """The topic called ``name`` (``chain_rule`` is accepted for ``chain-rule``)."""
    key = name.strip().lower().replace("_", "-")
    if key not in TOPICS:
        raise ChainruleError(f"unknown topic {name!r}: expected one of {', '.join(TOPICS)}")
    return TOPICS[key]


def make_sheet(topic: str, *, count: int, seed: int, difficulty: int) -> Sheet:
    """``count`` verified exercises of ``topic``; the same arguments give the same sheet."""
    chosen = get_topic(topic)
    if not 1 <= count <= MAX_COUNT:
        raise ChainruleError(f"count {count} is out of range: expected 1 to {MAX_COUNT}")
    if not 0 <= seed <= MAX_SEED:
        raise ChainruleError(f"seed {seed} is out of range: expected 0 to {MAX_SEED}")
    if difficulty not in DIFFICULTIES:
        raise ChainruleError(f"difficulty {difficulty} is out of range: expected 1, 2 or 3")
    outcomes = [make_exercise(chosen, seed=seed, difficulty=difficulty, index=i)
                for i in range(count)]
    return Sheet(chosen, seed, difficulty, tuple(o.exercise for o in outcomes),
                 sum(o.rejected for o in outcomes))


__all__ = ["TOPICS", "Exercise", "Sheet", "Topic", "get_topic", "make_sheet"]
