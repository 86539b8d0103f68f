"""The CUDA kernels' source, per layer kind, for ``chainrule kernels show --device cuda``.

Generated modules (activations, output layers, softmax-CE, dropout and the optimiser step) are the
text :mod:`chainrule.kernels.cuda.generated` and :mod:`chainrule.kernels.cuda.step` print from derive/
and compile; the structural templates (the tiled GEMM of the dense layers, conv and pool) are shown
as the modules they are (``inspect.getsource``). Each text holds ``cuda.jit`` kernels, the one-line
launchers that queue them on the backend's stream, and no host↔device copy.
"""

from __future__ import annotations

import inspect

from chainrule.derive.activations import ACTIVATIONS
from chainrule.derive.losses import unit_losses
from chainrule.errors import ChainruleError
from chainrule.kernels.cuda import conv, gemm, pool
from chainrule.kernels.cuda.generated import (
    activation_source,
    dropout_source,
    output_source,
    softmax_ce_source,
)
from chainrule.kernels.cuda.step import step_source

STRUCTURAL = {"dense": gemm, "conv": conv, "pool": pool}
GENERATED = {"softmax_ce": softmax_ce_source, "dropout": dropout_source, "step": step_source}


def kernel_source(kind: str) -> str:
    """The source for one kind: ``dense``, ``conv``, ``pool``, ``activation:<name>``,
    ``output:<activation>:<loss>``, ``softmax_ce``, ``dropout`` or ``step``."""
    if kind in STRUCTURAL:
        return inspect.getsource(STRUCTURAL[kind])
    if kind in GENERATED:
        return GENERATED[kind]()
    head, _, rest = kind.partition(":")
    if head == "activation" and rest:
        return activation_source(rest)
    if head == "output" and ":" in rest:
        activation, _, loss = rest.partition(":")
        return output_source(activation, loss)
    raise ChainruleError(f"no CUDA kernel kind {kind!r}: expected one of: dense, conv, pool, "
                         "activation:NAME, output:ACTIVATION:LOSS, softmax_ce, dropout, step")


def all_kinds() -> list[str]:
    """Every kind :func:`kernel_source` knows, the activations and output layers enumerated."""
    return ([*STRUCTURAL, *(f"activation:{name}" for name in ACTIVATIONS)]
            + [f"output:{act}:{loss}" for act in ACTIVATIONS for loss in unit_losses()]
            + list(GENERATED))


def kernel_sources(kinds: list[str] | None = None) -> dict[str, str]:
    """Kind → source text for ``kinds`` (default :func:`all_kinds`)."""
    return {kind: kernel_source(kind) for kind in (all_kinds() if kinds is None else kinds)}
