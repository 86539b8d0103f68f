"""Learning-rate schedules: the factor that multiplies ``--lr`` at each optimiser step.

``cosine`` anneals from the full rate to zero over the whole run, lr·½(1 + cos(π·step/steps))
(Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017, eq. 5,
one cycle without restarts); ``constant`` keeps ``--lr`` throughout. The factor depends only on the
step's index in the run, so a resumed run follows the same schedule as an uninterrupted one.
"""

from __future__ import annotations

import math

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
