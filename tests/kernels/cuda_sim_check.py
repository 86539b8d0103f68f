"""Run under NUMBA_ENABLE_CUDASIM=1 by test_cuda_sim.py: CUDA kernels vs CPU kernels.

Prints one line per comparison, ``name max_abs_diff``.
"""

from __future__ import annotations

import numpy as np

from chainrule.derive.activations import ACTIVATIONS
from chainrule.kernels.cuda.counters import device_empty, to_device, to_host
from chainrule.kernels.registry import get_backend

rng = np.random.default_rng(0)
cpu, gpu = get_backend("cpu"), get_backend("cuda")
# Kernel comparisons (CK): the CUDA modules take device arrays; copies go through the counters.
z, bias = rng.standard_normal((2, 3, 4)), rng.standard_normal(3) * 0.1
for name in ACTIVATIONS:
    a, d = np.empty_like(z), np.empty_like(z)
    cpu.activation(name).bias_act(z, bias, a, d)
    da, dd = device_empty(z.shape, z.dtype), device_empty(z.shape, z.dtype)
    gpu.activation(name).bias_act(to_device(z), to_device(bias), da, dd)
    diff = max(np.max(np.abs(a - to_host(da))), np.max(np.abs(d - to_host(dd))))
    print(f"act_{name} {diff:.3e}")

z2, b2 = rng.standard_normal((3, 4)), rng.standard_normal(4) * 0.1
t = rng.uniform(0.1, 0.9, (3, 4))
for act, loss in [("sigmoid", "bce"), ("linear", "mse"), ("tanh", "half_mse")]:
    a, delta = np.empty_like(z2), np.empty_like(z2)
    value = cpu.output(act, loss).output_layer(z2, b2, t, a, delta, 0.25 / 3)
    da, dd, dl = device_empty(z2.shape, z2.dtype), device_empty(z2.shape, z2.dtype), \
        device_empty(1, np.float64)
    gpu.output(act, loss).output_layer(to_device(z2), to_device(b2), to_device(t), da, dd,
                                       0.25 / 3, dl)
    diff = max(abs(value - to_host(dl)[0]), np.max(np.abs(a - to_host(da))),
               np.max(np.abs(delta - to_host(dd))))
    print(f"out_{act}_{loss} {diff:.3e}")

onehot = np.eye(4)[[0, 3, 1]]
s, delta = np.empty_like(z2), np.empty_like(z2)
value = cpu.softmax_ce().softmax_ce_layer(z2, b2, onehot, s, delta, 1 / 3)
ds, dd, dl = device_empty(z2.shape, z2.dtype), device_empty(z2.shape, z2.dtype), \
    device_empty(1, np.float64)
gpu.softmax_ce().softmax_ce_layer(to_device(z2), to_device(b2), to_device(onehot), ds, dd, 1 / 3,
                                  dl)
diff = max(abs(value - to_host(dl)[0]), np.max(np.abs(s - to_host(ds))),
           np.max(np.abs(delta - to_host(dd))))
print(f"softmax_ce {diff:.3e}")
# gradcheck and training steps on --device cuda: tests/kernels/cuda/check_network.py
