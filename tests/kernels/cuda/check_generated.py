"""Run by test_generated_sim.py under NUMBA_ENABLE_CUDASIM=1: the generated CUDA kernels (device
arrays in, device arrays out) against the CPU kernels, float32."""

from __future__ import annotations

import numpy as np
from check_common import RNG, counted, down, normal, rel, up

from chainrule.derive.activations import ACTIVATIONS
from chainrule.kernels.cpu import activation as cpu_act
from chainrule.kernels.cpu import output as cpu_out
from chainrule.kernels.cuda import generated
from chainrule.kernels.cuda.counters import device_empty

z, bias = normal(3, 2, 5), normal(2) * 0.5
for name in ACTIVATIONS:
    a, d = np.empty_like(z), np.empty_like(z)
    cpu_act.activation_module(name).bias_act(z, bias, a, d)
    gpu = generated.activation_module(name)
    dz, db = up(z, bias)
    da, dd = device_empty(z.shape, np.float32), device_empty(z.shape, np.float32)
    counted(f"act_{name}", gpu.bias_act, dz, db, da, dd)
    print(f"act_{name} {max(rel(down(da), a), rel(down(dd), d))}")
    di = device_empty(z.shape, np.float32)
    gpu.bias_act_infer(dz, db, di)
    print(f"act_infer_{name} {rel(down(di), a)}")

batch, n_out = 300, 3  # more rows than THREADS: a thread takes two rows
z2, b2 = normal(batch, n_out), normal(n_out) * 0.1
t = RNG.uniform(0.1, 0.9, (batch, n_out)).astype(np.float32)
for act, loss in [("sigmoid", "bce"), ("linear", "mse"), ("tanh", "half_mse")]:
    a, delta = np.empty_like(z2), np.empty_like(z2)
    want = cpu_out.output_module(act, loss).output_layer(z2, b2, t, a, delta, 0.25 / batch)
    dz, db, dt = up(z2, b2, t)
    da, ddelta = device_empty(z2.shape, np.float32), device_empty(z2.shape, np.float32)
    dloss = device_empty(1, np.float64)
    counted(f"out_{act}_{loss}", generated.output_module(act, loss).output_layer, dz, db, dt, da,
            ddelta, 0.25 / batch, dloss)
    print(f"out_{act}_{loss} {max(rel(down(da), a), rel(down(ddelta), delta))}")
    print(f"out_{act}_{loss}_loss {rel(down(dloss)[0], want)}")

onehot = np.eye(n_out, dtype=np.float32)[RNG.integers(0, n_out, batch)]
s, delta = np.empty_like(z2), np.empty_like(z2)
want = cpu_out.softmax_ce_module().softmax_ce_layer(z2, b2, onehot, s, delta, 1 / batch)
gpu = generated.softmax_ce_module()
dz, db, dt = up(z2, b2, onehot)
ds, ddelta, dloss = (device_empty(z2.shape, np.float32), device_empty(z2.shape, np.float32),
                     device_empty(1, np.float64))
counted("softmax_ce", gpu.softmax_ce_layer, dz, db, dt, ds, ddelta, 1 / batch, dloss)
print(f"softmax_ce {max(rel(down(ds), s), rel(down(ddelta), delta))}")
print(f"softmax_ce_loss {rel(down(dloss)[0], want)}")
dsi = device_empty(z2.shape, np.float32)
counted("softmax", gpu.softmax, dz, db, dsi)
print(f"softmax {rel(down(dsi), s)}")

u = RNG.uniform(0, 1, (4, 70)).astype(np.float32)
a0, d0 = normal(4, 70), normal(4, 70)
a, d = a0.reshape(-1).copy(), d0.reshape(-1).copy()
cpu_out.dropout_module().dropout(u.reshape(-1), np.float32(0.75), a, d)
du, da, dd = up(u, a0, d0)
counted("dropout", generated.dropout_module().dropout, du, np.float32(0.75), da, dd)
print(f"dropout {max(rel(down(da).reshape(-1), a), rel(down(dd).reshape(-1), d))}")
