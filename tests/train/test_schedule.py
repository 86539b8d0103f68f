"""Learning-rate schedules: cosine annealing's values, and the loop applying them per step."""

from __future__ import annotations

import math

import pytest

from chainrule.errors import ChainruleError
from chainrule.train.schedule import check_schedule, lr_factor
from chainrule.train.session import TrainOptions, start


def test_cosine_starts_at_one_halves_midway_and_ends_at_zero() -> None:
    assert lr_factor("cosine", 0, 100) == 1.0
    assert lr_factor("cosine", 50, 100) == pytest.approx(0.5)
    assert lr_factor("cosine", 100, 100) == pytest.approx(0.0, abs=1e-15)
    assert lr_factor("cosine", 25, 100) == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))


def test_constant_is_one() -> None:
    assert {lr_factor("constant", step, 10) for step in range(10)} == {1.0}


def test_unknown_schedule() -> None:
    with pytest.raises(ChainruleError, match="expected one of cosine, constant"):
        check_schedule("exponential")


def test_loop_sets_the_rate_of_the_last_step() -> None:
    session = start("mlp:2-3-3", "blobs", TrainOptions(epochs=2, batch=40, lr=0.5, seed=1))
    session.run()
    n_batches = math.ceil(session.batches.x_train.shape[0] / 40)
    steps = 2 * n_batches
    assert session.optimizer.lr_scale == pytest.approx(lr_factor("cosine", steps - 1, steps))
    assert session.optimizer.current_lr == pytest.approx(0.5 * session.optimizer.lr_scale)
