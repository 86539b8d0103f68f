"""Run by test_conv_sim.py under NUMBA_ENABLE_CUDASIM=1: the CUDA conv kernels against
kernels/cpu/conv.py, float32: stride 1 and 2, padding 0 and 1, a non-square plane."""

from __future__ import annotations

import numpy as np
from check_common import counted, down, normal, rel, up

from chainrule.kernels.cpu import conv as cpu
from chainrule.kernels.cuda import conv
from chainrule.kernels.cuda.counters import device_empty

batch, c_in, filters, k = 2, 2, 2, 2  # 8 weights: BP4 runs one block per weight
x = normal(batch, c_in, 7, 6)
w = normal(filters, c_in, k, k)
for stride, padding in [(1, 1), (2, 0), (2, 1)]:
    tag = f"s{stride}p{padding}"
    xp = cpu.pad(x, padding)
    ho, wo = (xp.shape[2] - k) // stride + 1, (xp.shape[3] - k) // stride + 1
    z = np.empty((batch, filters, ho, wo), np.float32)
    cpu.forward(x, w, stride, padding, z)
    delta = normal(batch, filters, ho, wo)
    dw, dx = np.empty_like(w), np.empty_like(x)
    cpu.weight_grad(x, delta, stride, padding, dw)
    cpu.input_grad(delta, w, stride, padding, dx)  # unpadded: the padding's terms dropped

    dev_x, dev_w, dev_delta = up(x, w, delta)
    dev_xp = device_empty(xp.shape, np.float32)
    counted(f"pad_{tag}", conv.pad, dev_x, padding, dev_xp)
    print(f"pad_{tag} {rel(down(dev_xp), xp)}")
    dev_z = device_empty(z.shape, np.float32)
    counted(f"forward_{tag}", conv.forward, dev_xp, dev_w, stride, dev_z)
    print(f"forward_{tag} {rel(down(dev_z), z)}")
    dev_dw = device_empty(w.shape, np.float32)
    counted(f"weight_grad_{tag}", conv.weight_grad, dev_xp, dev_delta, stride, dev_dw)
    print(f"weight_grad_{tag} {rel(down(dev_dw), dw)}")
    dev_dxp = device_empty(xp.shape, np.float32)
    counted(f"input_grad_{tag}", conv.input_grad, dev_delta, dev_w, stride, dev_dxp)
    dev_dx = device_empty(x.shape, np.float32)
    conv.unpad(dev_dxp, padding, dev_dx)
    print(f"input_grad_{tag} {rel(down(dev_dx), dx)}")  # through unpad: the CPU's dx is unpadded
    dev_back = device_empty(x.shape, np.float32)
    counted(f"unpad_{tag}", conv.unpad, dev_xp, padding, dev_back)
    print(f"unpad_{tag} {rel(down(dev_back), x)}")

# A 3x3 kernel at stride 2, padding 1: overlapping windows in dL/dx (BP4 above, on 2x2)
w3, xp3 = normal(2, c_in, 3, 3), cpu.pad(x, 1)
z3 = np.empty((batch, 2, 4, 3), np.float32)
cpu.forward(x, w3, 2, 1, z3)
delta3 = normal(*z3.shape)
dx3 = np.empty_like(x)
cpu.input_grad(delta3, w3, 2, 1, dx3)
dev_xp3, dev_w3, dev_delta3 = up(xp3, w3, delta3)
dev_z3, dev_dxp3 = device_empty(z3.shape, np.float32), device_empty(xp3.shape, np.float32)
conv.forward(dev_xp3, dev_w3, 2, dev_z3)
conv.input_grad(dev_delta3, dev_w3, 2, dev_dxp3)
print(f"forward_k3 {rel(down(dev_z3), z3)}")
dev_dx3 = device_empty(x.shape, np.float32)
conv.unpad(dev_dxp3, 1, dev_dx3)
print(f"input_grad_k3 {rel(down(dev_dx3), dx3)}")
