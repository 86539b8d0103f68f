"""What building a network asks of derive's registries, answered from the kernel cache's index.

:func:`get_activation` and :func:`get_loss` stand in for those of
:mod:`chainrule.derive.activations` and :mod:`chainrule.derive.losses` where only their facts are
read: an activation's canonical name (``"leaky_relu:0.1"`` → its registry name) and init family
(He or Xavier), a loss's name, trainability, default output activation and unit factor (read off
its vector form by SymPy, :meth:`chainrule.derive.losses.Loss.unit_factor`). Each answer is derived once, recorded in the
index (:mod:`chainrule.kernels.index`, invalidated by any change to derive/ or kernels/) and read
back from it afterwards, so that a warm start does not import SymPy. Once the registry module is
imported anyway (a derivation ran in this process, or a test changed an entry), the registry itself
answers: the index only saves an import, it never outranks its source. A name the registry refuses
raises its one-line error every time; nothing is recorded for it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from chainrule.kernels.index import entries, record, remembered

if TYPE_CHECKING:
    from chainrule.derive.activations import InitFamily

T = TypeVar("T")


def _answer(module: str, key: str, derive: Callable[[], T], valid: Callable[[object], bool]) -> T:
    """The registry's answer: live when ``module`` is already imported, else through the index."""
    if sys.modules.get(module) is not None:
        value = derive()
        if valid(value) and entries().get(key) != value:
            record(key, value)  # for the next fresh process
        return value
    return remembered(key, derive, valid)


@dataclass(frozen=True)
class ActivationFacts:
    name: str  # the registry's canonical name
    init_family: InitFamily  # "he" or "xavier": how weights before it are drawn (train/init.py)


@dataclass(frozen=True)
class LossFacts:
    name: str
    default_output: str | None  # the output activation it trains with; None: not trainable

    @property
    def trainable(self) -> bool:
        return self.default_output is not None

    def unit_factor(self, n_out: int) -> float:
        """c with L_vector = c · Σ_units L_scalar over ``n_out`` units (1/N for mse, bce)."""
        def derive() -> float:
            from chainrule.derive.losses import get_loss as derived_loss

            return derived_loss(self.name).unit_factor(n_out)

        return _answer("chainrule.derive.losses", f"loss_unit_factor:{self.name}:{n_out}",
                       derive, lambda v: isinstance(v, float))


def get_activation(name: str) -> ActivationFacts:
    """The facts of ``derive.activations.get_activation(name)``."""
    def derive() -> list[str]:
        from chainrule.derive.activations import get_activation as derived_activation

        act = derived_activation(name)
        return [act.name, act.init_family]

    def valid(value: object) -> bool:
        return (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)
                and value[1] in ("he", "xavier"))

    canonical, family = _answer("chainrule.derive.activations", f"activation:{name}", derive,
                                valid)
    return ActivationFacts(canonical, family)  # type: ignore[arg-type]


def get_loss(name: str) -> LossFacts:
    """The facts of ``derive.losses.get_loss(name)``."""
    def derive() -> list[str | None]:
        from chainrule.derive.losses import get_loss as derived_loss

        loss = derived_loss(name)
        return [loss.name, loss.default_output]

    def valid(value: object) -> bool:
        return (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)
                and (value[1] is None or isinstance(value[1], str)))

    loss_name, default_output = _answer("chainrule.derive.losses", f"loss:{name}", derive, valid)
    assert loss_name is not None
    return LossFacts(loss_name, default_output)


def trainable_losses() -> list[str]:
    """:func:`chainrule.derive.losses.trainable_losses` (read when a message lists them)."""
    from chainrule.derive.losses import trainable_losses as derived

    return derived()
