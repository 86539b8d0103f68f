"""Run by test_pool_sim.py under NUMBA_ENABLE_CUDASIM=1: the CUDA pooling kernels against
kernels/cpu/pool.py, float32: non-overlapping, overlapping (size 3 stride 2) and stride-1 windows,
ragged planes, and ties (the first maximum in row-major order wins on both)."""

from __future__ import annotations

import numpy as np
from check_common import counted, down, normal, rel, up

from chainrule.kernels.cpu import pool as cpu
from chainrule.kernels.cuda import pool
from chainrule.kernels.cuda.counters import device_empty

x = normal(2, 3, 7, 6)
ties = np.round(normal(2, 3, 7, 6)).astype(np.float32)  # many equal values in a window
for size, stride in [(2, 2), (3, 2), (2, 1)]:
    tag = f"{size}s{stride}"
    ho, wo = (7 - size) // stride + 1, (6 - size) // stride + 1
    grad = normal(2, 3, ho, wo)
    for name, data in [("rand", x), ("ties", ties)]:
        out, arg = np.empty((2, 3, ho, wo), np.float32), np.empty((2, 3, ho, wo), np.int64)
        cpu.max_forward(data, size, stride, out, arg)
        dx = np.empty_like(data)
        cpu.max_backward(grad, arg, dx)
        dd, dgrad = up(data, grad)
        dout, darg = device_empty(out.shape, np.float32), device_empty(out.shape, np.int64)
        counted(f"max_forward_{name}_{tag}", pool.max_forward, dd, size, stride, dout, darg)
        print(f"max_forward_{name}_{tag} {rel(down(dout), out)}")
        print(f"max_arg_{name}_{tag} {int(np.sum(down(darg) != arg))}")
        ddx = device_empty(data.shape, np.float32)
        counted(f"max_backward_{name}_{tag}", pool.max_backward, dgrad, darg, ddx, size, stride)
        print(f"max_backward_{name}_{tag} {rel(down(ddx), dx)}")
        ddx2 = device_empty(data.shape, np.float32)
        pool.max_backward(dgrad, darg, ddx2)  # without the geometry: every window visited
        print(f"max_backward_scan_{name}_{tag} {rel(down(ddx2), dx)}")
    out = np.empty((2, 3, ho, wo), np.float32)
    cpu.avg_forward(x, size, stride, out)
    dx = np.empty_like(x)
    cpu.avg_backward(grad, size, stride, dx)
    dd, dgrad = up(x, grad)
    dout, ddx = device_empty(out.shape, np.float32), device_empty(x.shape, np.float32)
    counted(f"avg_forward_{tag}", pool.avg_forward, dd, size, stride, dout)
    counted(f"avg_backward_{tag}", pool.avg_backward, dgrad, size, stride, ddx)
    print(f"avg_forward_{tag} {rel(down(dout), out)}")
    print(f"avg_backward_{tag} {rel(down(ddx), dx)}")
