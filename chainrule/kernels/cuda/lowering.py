"""The CUDA lowerings: each layer kind of a model spec to its device layer (:mod:`.layers`).

Registered with :func:`chainrule.kernels.lowering.register_lowering` for ``--device cuda`` when
this package is imported (``get_backend("cuda")``). No fusion is registered on CUDA: a conv under
an average pool runs as the two layers, each a few launches.
"""

from __future__ import annotations

from typing import Any

from chainrule.derive.spec import Conv2d, Dense, Pool2d
from chainrule.errors import ChainruleError
from chainrule.kernels.cuda.layers import CudaFlatten, CudaHidden, CudaOutput, CudaPool
from chainrule.kernels.lowering import Site, register_lowering


@register_lowering("dense", "cuda")
@register_lowering("conv", "cuda")
def _hidden(site: Site) -> Any:
    assert isinstance(site.spec, Dense | Conv2d)
    dropout = site.choices.dropout if isinstance(site.spec, Dense) else 0.0
    return CudaHidden(site.spec, site.prefix, site.backend.activation(site.choices.activation),
                      site.backend.dropout() if dropout > 0.0 else None, dropout)


@register_lowering("pool", "cuda")
def _pool(site: Site) -> Any:
    assert isinstance(site.spec, Pool2d)
    return CudaPool(site.spec)


@register_lowering("flatten", "cuda")
def _flatten(site: Site) -> Any:
    return CudaFlatten(site.spec.in_shape)  # type: ignore[union-attr]


@register_lowering("output", "cuda")
def _output(site: Site) -> Any:
    if not isinstance(site.spec, Dense):
        raise ChainruleError(f"the last layer must be dense to be an output layer, got "
                             f"{site.spec.kind!r}")
    choices, backend = site.choices, site.backend
    softmax = choices.output_activation == "softmax"
    modules = backend.softmax_ce() if softmax else backend.output(choices.output_activation,
                                                                   choices.loss)
    act_module = None if softmax else backend.activation(choices.output_activation)
    return CudaOutput(site.spec, site.prefix, backend, choices.output_activation, choices.loss,
                      choices.loss_scale, modules=modules, act_module=act_module)
