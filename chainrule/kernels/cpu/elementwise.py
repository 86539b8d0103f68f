"""Structural elementwise kernels: BP2's Hadamard product fused with the bias-gradient reduction.

δ = (∂L/∂a) ⊙ g'(z) (BP2) and ∂L/∂b = Σ δ (BP3) in one pass (Nielsen, *NNDL*, ch. 2). g'(z) was
stored by the generated ``bias_act`` kernel; nothing here differentiates. Sums run in a fixed order,
so the same inputs give bit-identical gradients.
"""

from __future__ import annotations

from numba import njit, prange


@njit(cache=True, parallel=True)
def delta_and_bias_grad(grad_a, d, delta, db):
    # grad_a, d, delta: (batch, channels, positions); db: (channels,)
    # BP2: delta = grad_a * g'(z);  BP3: dL/db_c = sum over batch and positions of delta
    for c in prange(grad_a.shape[1]):  # one channel per task: its sum runs in a fixed order
        acc = 0.0
        for n in range(grad_a.shape[0]):
            for s in range(grad_a.shape[2]):
                value = grad_a[n, c, s] * d[n, c, s]
                delta[n, c, s] = value
                acc += value
        db[c] = acc


@njit(cache=True)
def bias_grad(delta, db):
    # BP3 alone (output layer, whose delta the fused output kernel made). delta: (batch, n); db: (n,)
    for k in range(delta.shape[1]):
        db[k] = 0.0
    for n in range(delta.shape[0]):
        for k in range(delta.shape[1]):
            db[k] += delta[n, k]
