"""The generated and structural kernel source that a model runs, for ``chainrule kernels show``.

Generated modules (activation, output layer, softmax-CE, the reductions fused with the optimiser
step) are printed from derive/ by :mod:`chainrule.kernels.printer`; their comments name the
derivation step each function implements (g, g' with its rule, BP1, the penalty gradient, BP2-BP4).
Structural templates (dense BLAS calls, conv and pool loops) are shown as the modules they are, with comments that
cite the derivation their loops implement.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from chainrule.derive.spec import ModelSpec
from chainrule.kernels.registry import backend_class


@dataclass(frozen=True)
class KernelSource:
    name: str  # e.g. "activation: relu"
    role: str  # the derivation step it implements
    generated: bool  # printed from SymPy (True) or a structural template (False)
    source: str
    loop: bool = False  # the training loop printed for this model's layers (train/loop_source.py)

    @property
    def kind(self) -> str:
        """How the module came to be, as `kernels show` names it."""
        if self.generated:
            return "generated from SymPy"
        return "printed for this model's training loop" if self.loop else "structural template"


def kernel_sources(spec: ModelSpec, *, activation: str, output_activation: str,
                   loss: str, device: str = "cpu") -> list[KernelSource]:
    """Every kernel module that training ``spec`` with these choices runs, in data-flow order.
    For ``cuda`` the generated modules are the CUDA ones; the contractions are shared."""
    backend = backend_class(device)  # the registry's backend, not created: no device needed
    activation_source, output_source = backend.activation_source, backend.output_source
    softmax_ce_source, conv, pool, dense = (backend.softmax_ce_source, backend.conv, backend.pool,
                                            backend.dense)
    kinds = {layer.kind for layer in spec.layers}
    hidden = len([lay for lay in spec.layers if lay.param_shapes]) > 1  # trainable layers
    sources: list[KernelSource] = []
    if "conv" in kinds:
        sources.append(_structural("conv", "conv forward, ∂L/∂w and ∂L/∂x correlations", conv))
    if "pool" in kinds:
        sources.append(_structural("pool", "max routing and average 1/k² spreading", pool))
    sources.append(_structural("dense", "z = xWᵀ, BP4 δᵀx and δW by BLAS", dense))
    if hidden:
        sources.append(KernelSource(f"activation: {activation}",
                                    "hidden layers: a = g(z + b) and g'(z) fused",
                                    True, activation_source(activation)))
    if output_activation == "softmax":
        sources.append(KernelSource("output: softmax + cross-entropy", "BP1: δ = s − t", True,
                                    softmax_ce_source()))
    else:
        sources.append(KernelSource(f"output: {output_activation} + {loss}",
                                    "BP1: δ = ∂L/∂z fused with the loss", True,
                                    output_source(output_activation, loss)))
    sources.append(KernelSource("update", "BP2 + BP3 and BP4's reductions fused with the "
                                "sgd / momentum / adam step and the L2/L1 penalty gradient",
                                True, backend.update_source()))
    return sources


def _structural(name: str, role: str, module: object) -> KernelSource:
    return KernelSource(name, role, False, inspect.getsource(module))  # type: ignore[arg-type]
