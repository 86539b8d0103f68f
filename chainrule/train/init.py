"""Seeded weight initialisation, by the family that the activation's registry entry names
(:attr:`chainrule.derive.activations.Activation.init_family`): He for the ReLU family, Xavier/Glorot
for tanh, sigmoid, linear and the others.

Xavier uniform: w ~ U(−r, r) with r = √(6 / (fan_in + fan_out)) (Glorot & Bengio, AISTATS 2010).
He normal: w ~ N(0, 2 / fan_in) (He et al., ICCV 2015). Biases start at zero. Weights are drawn in
float64 from one seeded generator in layer order, then cast, so the same seed gives bit-identical
weights in every run and both dtypes start from the same numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from chainrule.kernels.facts import get_activation  # the registry's facts, no SymPy when warm

if TYPE_CHECKING:
    from chainrule.derive.activations import InitFamily

SOFTMAX = "softmax"  # softmax_ce's output: a vector function, outside the elementwise registry


def init_family(activation: str) -> InitFamily:
    """The registry entry's family; Xavier for the softmax output (as for σ, which it extends)."""
    return "xavier" if activation == SOFTMAX else get_activation(activation).init_family


def init_weight(rng: np.random.Generator, shape: tuple[int, ...], *, fan_in: int, fan_out: int,
                activation: str) -> np.ndarray:
    """A float64 weight array of ``shape`` for a layer followed by ``activation`` (a registry name,
    ``leaky_relu:0.1`` included)."""
    if init_family(activation) == "he":
        return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)  # He
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=shape)  # Xavier / Glorot uniform
