"""Learning-rate schedules: the factor that multiplies ``--lr`` at each optimiser step.

``cosine`` anneals from the full rate to zero over the whole run, lr·½(1 + cos(π·step/steps))
(Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017, eq. 5,
one cycle without restarts); ``constant`` keeps ``--lr`` throughout. The factor depends only on the
step's index in the run, so a resumed run follows the same schedule as an uninterrupted one.

Resume semantics. A checkpoint records the planned ``epochs`` and the ``restarts`` so far. Resuming
to the planned length (after Ctrl-C, SIGTERM, SIGHUP) continues the same schedule, bit for bit.
Resuming to fewer epochs stops early on the planned schedule (the plan is kept for a later resume).
Resuming to more epochs finishes the planned cycle and then starts a new cosine cycle over the
added epochs: a warm restart (SGDR, eq. 5 with T_i = the added epochs). So "3 epochs, then resume
to 6" equals one 6-epoch run with ``restarts=(3,)``, bit for bit; with ``constant`` it equals a
plain 6-epoch run.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from chainrule.errors import ChainruleError

SCHEDULES = ("cosine", "constant")


def check_schedule(name: str) -> str:
    """The schedule's name, or a one-line error naming the known ones."""
    if name not in SCHEDULES:
        raise ChainruleError(f"unknown --schedule {name!r}: expected one of {', '.join(SCHEDULES)}")
    return name


def lr_factor(name: str, step: int, steps: int) -> float:
    """The multiplier of the base learning rate at ``step`` (0-based) of ``steps`` in all."""
    if name == "constant" or steps <= 0:
        return 1.0
    return 0.5 * (1.0 + math.cos(math.pi * min(step, steps) / steps))


def scheduled_factor(name: str, step: int, *, steps_per_epoch: int, epochs: int,
                     restarts: Sequence[int] = ()) -> float:
    """The factor at ``step`` (0-based) of a run planned for ``epochs`` with a new cycle starting
    at each epoch in ``restarts``: cycle [a, b) anneals over its own (b − a)·steps_per_epoch steps."""
    bounds = [0, *sorted(r for r in restarts if 0 < r < epochs), epochs]
    epoch = step // steps_per_epoch if steps_per_epoch > 0 else 0
    for start, end in itertools.pairwise(bounds):
        if epoch < end or end == epochs:
            return lr_factor(name, step - start * steps_per_epoch,
                             (end - start) * steps_per_epoch)
    return 1.0  # not reached: the last cycle ends at ``epochs``


def extend_restarts(restarts: Sequence[int], planned: int, epochs: int) -> tuple[int, ...]:
    """The restarts of a run planned for ``planned`` epochs and resumed to ``epochs``: one more at
    ``planned`` when the run is extended past its plan (see the module docstring)."""
    kept = tuple(sorted(r for r in restarts if 0 < r < planned))
    return (*kept, planned) if 0 < planned < epochs else kept
