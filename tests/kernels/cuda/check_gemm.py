"""Run by test_gemm_sim.py under NUMBA_ENABLE_CUDASIM=1: the tiled GEMM's three layouts against
NumPy, float32 and float64, on shapes that are not multiples of the tiles."""

from __future__ import annotations

import numpy as np
from check_common import counted, down, normal, rel, up

from chainrule.kernels.cuda import gemm
from chainrule.kernels.cuda.counters import device_empty

# (m, n, k): m past one 64-row tile, n and k ragged; then a wide one; then k below one depth step.
# micro: the 4x4 (64^2 tiles) and 2x2 micro-tiles forced; None: chosen from the shape (here 1x1)
for m, n, k, micro in [(70, 5, 19, 4), (3, 40, 17, 2), (2, 3, 1, 4), (20, 17, 19, None)]:
    x, w, delta = normal(m, k), normal(n, k), normal(m, n)
    cases = {"nt": (gemm.matmul_nt, x, w, x @ w.T),  # z = x W^T
             "nn": (gemm.matmul_nn, delta, w, delta @ w),  # dL/dx = delta W
             "tn": (gemm.matmul_tn, delta, x, delta.T @ x)}  # dL/dW = delta^T x
    for name, (call, a, b, want) in cases.items():
        da, db = up(a, b)
        out = device_empty(want.shape, np.float32)
        tag = f"{name}_{m}x{n}x{k}_m{micro or 'auto'}"
        counted(tag, call, da, db, out, micro)
        print(f"{tag} {rel(down(out), want)}")

a64, b64 = np.random.default_rng(1).standard_normal((2, 20, 9))
da, db = up(a64, b64)
out64 = device_empty((20, 20), np.float64)
gemm.matmul_nt(da, db, out64)
print(f"nt_float64 {rel(down(out64), a64 @ b64.T)}")
