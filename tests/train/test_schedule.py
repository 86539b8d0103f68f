"""Learning-rate schedules: cosine annealing's values, the loop applying them per step, and what a
resume equals: the same run (to the planned epochs), or a warm restart (past them)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chainrule.errors import ChainruleError
from chainrule.train.schedule import check_schedule, extend_restarts, lr_factor, scheduled_factor
from chainrule.train.session import TrainOptions, resume, resumed_options, start


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


def test_without_restarts_the_schedule_is_one_cosine_over_the_run() -> None:
    assert [scheduled_factor("cosine", k, steps_per_epoch=4, epochs=3) for k in range(12)] == \
        [lr_factor("cosine", k, 12) for k in range(12)]


def test_a_restart_starts_a_new_cycle_over_the_remaining_epochs() -> None:
    factors = [scheduled_factor("cosine", k, steps_per_epoch=2, epochs=6, restarts=(3,))
               for k in range(12)]
    assert factors[:6] == [lr_factor("cosine", k, 6) for k in range(6)]
    assert factors[6:] == [lr_factor("cosine", k, 6) for k in range(6)]
    assert factors[6] == 1.0


def test_extend_restarts() -> None:
    assert extend_restarts((), 3, 6) == (3,)  # past the plan: a warm restart at its end
    assert extend_restarts((3,), 6, 10) == (3, 6)
    assert extend_restarts((), 6, 6) == ()  # to the plan: the same schedule
    assert extend_restarts((), 6, 4) == ()  # short of it: the plan is kept
    assert extend_restarts((), 0, 5) == ()


def weights(session):
    return {k: np.array(v) for k, v in session.network.params.items()}


MODEL, DATA = "mlp:2-3-3", "blobs"


def options(**changes):
    return TrainOptions(**{**TrainOptions(epochs=3, batch=40, lr=0.5, seed=1).__dict__, **changes})


def test_resume_past_the_plan_equals_one_run_with_a_warm_restart(tmp_path) -> None:
    path = tmp_path / "ck.npz"
    start(MODEL, DATA, options(), out=path).run()
    resumed = resume(path, MODEL, DATA, epochs=6, out=path)
    assert resumed.options.restarts == (3,) and resumed.options.epochs == 6
    resumed.run(epochs=6)
    restarted = start(MODEL, DATA, options(epochs=6, restarts=(3,)))
    restarted.run()
    plain = start(MODEL, DATA, options(epochs=6))
    plain.run()
    a, b, c = weights(resumed), weights(restarted), weights(plain)
    assert all(np.array_equal(a[k], b[k]) for k in a)  # bit for bit
    assert max(float(np.max(np.abs(a[k] - c[k]))) for k in a) > 1e-4  # a different schedule
    twice = resume(path, MODEL, DATA, epochs=8)  # the restart is recorded in the checkpoint
    assert twice.options.restarts == (3, 6)


def test_resume_short_of_the_plan_keeps_it(tmp_path) -> None:
    path = tmp_path / "ck.npz"
    start(MODEL, DATA, options(epochs=2), out=path).run(epochs=1)  # stopped after 1 of 2
    early = resume(path, MODEL, DATA, epochs=1, out=path)
    assert early.options.epochs == 2  # the plan, for the next resume
    early.run(epochs=1)
    finished = resume(path, MODEL, DATA, epochs=2)
    finished.run(epochs=2)
    straight = start(MODEL, DATA, options(epochs=2))
    straight.run()
    a, b = weights(finished), weights(straight)
    assert all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("saved", [
    {"epochs": "3", "restarts": []}, {"epochs": 3, "restarts": "3"},
    {"epochs": 3, "restarts": [1.5]}, {"epochs": -1}, {"epochs": 3, "unexpected": 1},
])
def test_a_corrupt_schedule_record_is_one_clear_error(saved) -> None:
    with pytest.raises(ChainruleError, match="checkpoint 'ck.npz'"):
        resumed_options(saved, 6, source="ck.npz")
