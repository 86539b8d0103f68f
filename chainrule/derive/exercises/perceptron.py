"""Topic ``perceptron``: trace Rosenblatt's learning rule for k presented patterns.

The trace is :func:`chainrule.derive.perceptron.perceptron_trace`'s (Hagan's hardlim, 1 at n = 0);
the check is a loop of its own over the same patterns.
"""

from __future__ import annotations

from functools import partial

from chainrule.derive.exercises.common import (
    Answer,
    Exercise,
    Friendly,
    Math,
    Rejected,
    Solution,
    SolutionStep,
    Topic,
    number,
    steps_latex,
    vector_latex,
    vector_text,
)
from chainrule.derive.perceptron import PerceptronTrace, gate_data, perceptron_trace

_STEPS = {1: 2, 2: 4, 3: 6}


def generate(pick: Friendly, difficulty: int) -> Exercise:
    gate = pick.choice(("and", "or", "nand"))
    patterns, targets = gate_data(gate)
    w = [pick.decimal(-1, 1), pick.decimal(-1, 1)]
    b = pick.decimal(-1, 1)
    lr = 1.0 if difficulty < 3 else pick.choice((0.5, 1.0))
    k = _STEPS[difficulty]
    trace = perceptron_trace(patterns, targets, w=w, b=b, lr=lr, epochs=k)
    steps = trace.steps[:k]
    if len(steps) < k or sum(s.e != 0 for s in steps) < (1 if difficulty == 1 else 2):
        raise Rejected("too few updates")
    if any(abs(s.n) < 0.05 for s in steps):
        raise Rejected("n at the threshold")
    last = steps[-1]
    answers = (Answer("w1", "w_1", last.w[0], may_be_zero=True),
               Answer("w2", "w_2", last.w[1], may_be_zero=True),
               Answer("b", "b", float(last.b or 0.0), may_be_zero=True))
    prompt = ("A perceptron ", Math(r"a = \operatorname{hardlim}(\mathbf{w} \cdot \mathbf{p} + b)",
                                    "a = hardlim(w·p + b)"),
              " (hardlim(n) = 1 for n ≥ 0, else 0) learns the ", gate.upper(), " gate with the rule ",
              Math(r"\mathbf{w} \leftarrow \mathbf{w} + \eta e \mathbf{p},\; b \leftarrow b + \eta e,"
                   r"\; e = t - a", "w ← w + η·e·p, b ← b + η·e, e = t − a"),
              ", starting from ", Math(rf"\mathbf{{w}} = {vector_latex(w)},\; b = {number(b)}",
                                       f"w = {vector_text(w)}, b = {number(b)}"),
              " with ", Math(rf"\eta = {number(lr)}", f"η = {number(lr)}"),
              (". The patterns come in the order (0,0), (0,1), (1,0), (1,1), repeated. "
               f"Give w and b after {k} presented patterns."))
    data = {"spec": {"gate": gate, "lr": lr, "steps": k}, "at": {"w": w, "b": b},
            "patterns": patterns, "targets": targets}
    return Exercise("perceptron", prompt, data, answers, partial(_solve, trace, k),
                    source=None)


def _solve(trace: PerceptronTrace, k: int) -> Solution:
    steps = []
    for i, s in enumerate(trace.steps[:k], start=1):
        p = vector_latex(s.p)
        steps.append(SolutionStep(
            "perceptron rule", f"pattern {i}:",
            rf"n = \mathbf{{w}} \cdot {p} + b = {number(s.n)},\; a = {number(s.a)},\; "
            rf"e = {number(s.t)} - {number(s.a)} = {number(s.e)}"
            rf"\;\Rightarrow\; \mathbf{{w}} = {vector_latex(s.w)},\; b = {number(float(s.b or 0.0))}"))
    last = trace.steps[k - 1]
    return Solution(tuple(steps), steps_latex(steps), (last.w[0], last.w[1], float(last.b or 0.0)))


def verify(exercise: Exercise) -> list[float]:
    w, b = list(exercise.data["at"]["w"]), exercise.data["at"]["b"]
    lr, k = exercise.data["spec"]["lr"], exercise.data["spec"]["steps"]
    patterns, targets = exercise.data["patterns"], exercise.data["targets"]
    for i in range(k):
        p, t = patterns[i % len(patterns)], targets[i % len(targets)]
        a = 1.0 if w[0] * p[0] + w[1] * p[1] + b >= 0 else 0.0
        w = [w[0] + lr * (t - a) * p[0], w[1] + lr * (t - a) * p[1]]
        b += lr * (t - a)
    return [w[0], w[1], b]


TOPIC = Topic("perceptron", "The perceptron rule", "a trace of the learning rule for k steps",
              generate, verify)
