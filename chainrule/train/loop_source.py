"""The generated loop that ``chainrule train`` runs a model in, for ``chainrule kernels show``.

On the CPU a network trains through a compiled epoch (kernels/cpu/epoch.py for dense networks,
kernels/cpu/conv_epoch.py for conv nets): Numba source printed from the lowered layers, which calls
the kernels ``kernels show`` prints before it, in the order of BP1-BP4. It depends on the lowered
layers, so the network is built here (one sample of zeros stands for the data) and the backend
prints the loop it would train with. CUDA's chunk trainer is one fixed module for every network,
so that backend prints none.
"""

from __future__ import annotations

import numpy as np

from chainrule.derive.spec import ModelSpec
from chainrule.errors import ChainruleError
from chainrule.kernels.registry import backend_class
from chainrule.train.network import build_network
from chainrule.train.optim import Optimizer


def loop_sources(spec: ModelSpec, *, activation: str, output_activation: str, loss: str,
                 device: str = "cpu") -> list[tuple[str, str, str]]:
    """The generated modules of the training loop for ``spec`` on ``device`` as (name, role,
    source), or [] where the loop steps one batch at a time, the backend prints none, or the
    model cannot be trained (``kernels show`` still prints its kernels)."""
    backend = backend_class(device)
    if not backend.prints_chunks:
        return []
    try:
        network = build_network(spec, activation=activation, loss=loss,
                                output_activation=output_activation, device=device)
    except ChainruleError:  # e.g. a model that does not end with a dense layer: no loop to show
        return []
    x = np.zeros((1, *spec.input_shape))  # (1, *input_shape): stands for the training split
    t = np.zeros((1, spec.n_outputs))  # (1, n_out)
    request = network.chunk_request(x, t, None, Optimizer(lr=0.1))
    return backend.chunk_sources(request)
