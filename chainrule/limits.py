"""Caps on what a model spec, an expression or a command's options may make chainrule compute.

Each cap is checked *before* the work starts; going over it is a :class:`ChainruleError` that names
the limit and, where a user could need more, the environment variable that raises it (README,
"Security and failure behaviour", "Limits"):

===================================  =========  ================================================
variable                             default    what it bounds
===================================  =========  ================================================
``CHAINRULE_MAX_UNITS``              100000     units of a dense layer, filters of a conv layer,
                                                and each input dimension (C, H, W or N)
``CHAINRULE_MAX_PARAMS``             10000000   trainable parameters of a model spec
``CHAINRULE_MAX_LAYER_VALUES``       4000000    values one sample holds after any layer (C·H·W)
``CHAINRULE_MAX_ACTIVATIONS``        50000000   batch × the largest layer, where the batch is known
``CHAINRULE_MAX_GRADCHECK_PARAMS``   200000     parameters of a model that ``gradcheck`` builds
``CHAINRULE_MAX_GRADCHECK_VALUES``   2000000    ``gradcheck``'s --samples × the largest layer
===================================  =========  ================================================

Fixed bounds, not raisable (they keep symbolic work small; no lecture needs more): an integer
exponent of a non-constant base is at most :data:`MAX_EXPONENT` in magnitude, a constant has at
most :data:`MAX_CONSTANT_DIGITS` digits, an expression has at most :data:`MAX_NODES` terms (AST expression nodes), and a
convolution pads by at most its kernel size. This module imports nothing heavy.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from chainrule.errors import ChainruleError

MAX_EXPONENT = 64
MAX_CONSTANT_DIGITS = 100
MAX_NODES = 200
MAX_IMAGE = 64  # rows or columns of derive conv's worked image and kernel


@dataclass(frozen=True)
class Cap:
    """A whole-number limit with a default, raisable by an environment variable."""

    env: str
    default: int
    what: str

    @property
    def value(self) -> int:
        """The limit in force: ``$env`` when set, else the default."""
        raw = os.environ.get(self.env, "").strip()
        if not raw:
            return self.default
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 18 or int(raw) < 1:
            raise ChainruleError(f"{self.env} must be a whole number ≥ 1, got {raw[:40]!r}")
        return int(raw)

    def check(self, amount: int, subject: str, *, what: str | None = None) -> None:
        """Refuse ``amount`` when it is over the limit, naming ``subject``, the limit and $env."""
        limit = self.value
        if amount > limit:
            raise ChainruleError(f"{subject}: {amount:,} {what or self.what} is over the limit of "
                                 f"{limit:,} (raise it with {self.env}=N)")


@dataclass(frozen=True)
class BoundCap:
    """A real-number bound with a default, raisable by an environment variable."""

    env: str
    default: float

    @property
    def value(self) -> float:
        """The bound in force: ``$env`` when set (a finite number > 0), else the default."""
        raw = os.environ.get(self.env, "").strip()
        if not raw:
            return self.default
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise ChainruleError(f"{self.env} must be a number > 0, got {raw[:40]!r}")
        return value


UNITS = Cap("CHAINRULE_MAX_UNITS", 100_000, "units")
PARAMS = Cap("CHAINRULE_MAX_PARAMS", 10_000_000, "parameters")
LAYER_VALUES = Cap("CHAINRULE_MAX_LAYER_VALUES", 4_000_000, "values per sample")
ACTIVATIONS = Cap("CHAINRULE_MAX_ACTIVATIONS", 50_000_000, "values (batch × largest layer)")
GRADCHECK_PARAMS = Cap("CHAINRULE_MAX_GRADCHECK_PARAMS", 200_000, "parameters")
GRADCHECK_VALUES = Cap("CHAINRULE_MAX_GRADCHECK_VALUES", 2_000_000,
                       "values (--samples × largest layer)")
