"""Seeded weight initialisation: Xavier/Glorot for tanh, sigmoid and linear units, He for the ReLU
family.

Xavier uniform: w ~ U(−r, r) with r = √(6 / (fan_in + fan_out)) (Glorot & Bengio, AISTATS 2010).
He normal: w ~ N(0, 2 / fan_in) (He et al., ICCV 2015). Biases start at zero. Weights are drawn in
float64 from one seeded generator in layer order, then cast, so the same seed gives bit-identical
weights in every run and both dtypes start from the same numbers.
"""

from __future__ import annotations

import numpy as np

RELU_FAMILY = frozenset({"relu", "leaky_relu", "elu"})


def init_weight(rng: np.random.Generator, shape: tuple[int, ...], *, fan_in: int, fan_out: int,
                activation: str) -> np.ndarray:
    """A float64 weight array of ``shape`` for a layer followed by ``activation``."""
    if activation.partition(":")[0] in RELU_FAMILY:  # leaky_relu:0.1 is leaky_relu with α = 0.1
        return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)  # He
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=shape)  # Xavier / Glorot uniform
