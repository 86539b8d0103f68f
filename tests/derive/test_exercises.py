"""Every topic × difficulty × 20 seeds: each exercise's answers are friendly and verify by the
topic's independent route; the framework rejects what it must (degenerate or wrong answers)."""

from __future__ import annotations

import random

import pytest

from chainrule.derive.exercises import TOPIC_NAMES
from chainrule.derive.exercises.common import (
    Answer,
    Exercise,
    Friendly,
    Rejected,
    Solution,
    agrees,
    make_exercise,
    problems,
    rounds_cleanly,
)
from chainrule.derive.exercises.sheet import TOPICS, make_sheet
from chainrule.errors import ChainruleError

SEEDS = range(20)
VERIFIED: dict[str, int] = {}


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_every_topic_difficulty_and_seed_verifies(topic: str) -> None:
    chosen = TOPICS[topic]
    for difficulty in (1, 2, 3):
        for seed in SEEDS:
            exercise = make_sheet(topic, count=1, seed=seed, difficulty=difficulty).exercises[0]
            assert problems(exercise, chosen) == []
            checks = chosen.verify(exercise)
            assert all(agrees(a.exact, c, integer=a.integer)
                       for a, c in zip(exercise.answers, checks, strict=True))
            assert all(a.may_be_zero or abs(a.value) >= 1e-3 for a in exercise.answers)
            VERIFIED[topic] = VERIFIED.get(topic, 0) + 1
    assert VERIFIED[topic] == 3 * len(SEEDS)


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_worked_solution_agrees_with_the_answers(topic: str) -> None:
    exercise = make_sheet(topic, count=1, seed=3, difficulty=3).exercises[0]
    solution = exercise.solution  # raises when its numbers disagree with the answers
    assert solution.steps and solution.latex


def _fake(topic: str, exact: float, check: float) -> tuple[Exercise, object]:
    chosen = TOPICS[topic]

    def verify(_: Exercise) -> list[float]:
        return [check]

    fake_topic = type(chosen)(chosen.name, chosen.title, chosen.summary, chosen.generate, verify)
    ex = Exercise(topic, ("x",), {}, (Answer("y", "y", exact),),
                  lambda: Solution((), "", (exact,)))
    return ex, fake_topic


def test_a_wrong_answer_is_never_accepted() -> None:
    ex, topic = _fake("chain-rule", 0.5, 0.5001)
    assert problems(ex, topic)  # derived 0.5, independent 0.5001: rejected
    ex, topic = _fake("chain-rule", 0.5, 0.5)
    assert problems(ex, topic) == []


def test_degenerate_answers_are_rejected() -> None:
    ex, topic = _fake("chain-rule", 0.0, 0.0)
    assert any("zero" in p for p in problems(ex, topic))
    ex, topic = _fake("chain-rule", 0.12345, 0.12345)  # 5th digit on the rounding boundary
    assert any("rounding" in p for p in problems(ex, topic))
    assert not rounds_cleanly(0.12345) and rounds_cleanly(0.1234) and rounds_cleanly(2.0)


def test_a_topic_that_never_verifies_is_an_error_not_a_printed_answer() -> None:
    chosen = TOPICS["conv"]
    broken = type(chosen)(chosen.name, chosen.title, chosen.summary, chosen.generate,
                          lambda ex: [a.exact + 1 for a in ex.answers])
    with pytest.raises(ChainruleError, match="no verifiable"):
        make_exercise(broken, seed=1, difficulty=1, index=0)


def test_relu_at_its_kink_is_redrawn() -> None:
    from chainrule.derive.exercises import tree

    node = tree.call("relu", tree.var("z"))
    with pytest.raises(Rejected):
        tree.evaluate(node, {"z": 0.0})
    assert tree.evaluate(node, {"z": 0.5}) == 0.5


def test_friendly_numbers_are_small_and_one_decimal() -> None:
    pick = Friendly(random.Random(1))
    values = [pick.decimal(-2, 2) for _ in range(200)]
    assert all(v != 0 and -2 <= v <= 2 and round(v, 1) == v for v in values)


def test_bounds() -> None:
    with pytest.raises(ChainruleError, match="count"):
        make_sheet("neuron", count=101, seed=1, difficulty=1)
    with pytest.raises(ChainruleError, match="difficulty"):
        make_sheet("neuron", count=1, seed=1, difficulty=4)
    with pytest.raises(ChainruleError, match="unknown topic"):
        make_sheet("calculus", count=1, seed=1, difficulty=1)


def test_the_light_topic_names_are_the_registrys() -> None:
    assert TOPIC_NAMES == tuple(TOPICS)


# the open ranges of the outputs, textbook facts (not computed by chainrule)
OUTPUT_RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "relu": (0.0, float("inf")),
                 "softplus": (0.0, float("inf")), "exp": (0.0, float("inf"))}


def _reachable(activation: str, target: float) -> bool:
    low, high = OUTPUT_RANGES[activation]
    return low < target < high


@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_a_squared_error_target_lies_in_the_activations_range(difficulty: int) -> None:
    """No exercise asks σ(z) to reach −0.5: a squared-error target lies inside the range of the
    function it is compared with (BCE keeps its 0/1 labels)."""
    checked = 0
    for seed in range(40):
        neuron = make_sheet("neuron", count=1, seed=seed, difficulty=difficulty).exercises[0]
        spec, target = neuron.data["spec"], neuron.data["at"]["t"]
        if spec["loss"] != "bce":
            assert _reachable(spec["activation"], target), (seed, spec, target)
            checked += 1
        chain = make_sheet("chain-rule", count=1, seed=seed, difficulty=difficulty).exercises[0]
        node = chain.source
        if node.op == "square" and node.args[0].op == "sub":
            compared = node.args[0].args[0].op
            assert _reachable(compared, chain.data["at"]["t"]), (seed, chain.data)
            checked += 1
    assert checked >= 20
