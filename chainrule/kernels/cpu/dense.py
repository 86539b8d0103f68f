"""Dense-layer contractions: BLAS matrix products (the structural template for a dense layer).

The index form z_j = Σ_k w_jk x_k + b_j (derive/layers/dense.py) differentiates to three contractions:
forward z = x Wᵀ, BP4 ∂L/∂W = δᵀ x, and BP2's ∂L/∂x = δ W (Nielsen, *NNDL*, ch. 2). Each is one
BLAS call (``np.dot``), made outside any parallel region so that BLAS threads do not oversubscribe
(DESIGN.md, "Kernels"). The bias is added by the fused activation kernel.
"""

from __future__ import annotations

import numpy as np


def forward(x: np.ndarray, weight: np.ndarray, out: np.ndarray) -> np.ndarray:
    """z = x Wᵀ. x (batch, n_in), weight (n_out, n_in), out (batch, n_out)."""
    return np.dot(x, weight.T, out=out)


def weight_grad(delta: np.ndarray, x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """BP4: ∂L/∂W = δᵀ x. delta (batch, n_out), x (batch, n_in), out (n_out, n_in)."""
    return np.dot(delta.T, x, out=out)


def input_grad(delta: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """∂L/∂x = δ W, which BP2 multiplies by g'(z) of the layer below. Returns (batch, n_in)."""
    return np.dot(delta, weight)
