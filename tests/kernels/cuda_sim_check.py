"""Run under NUMBA_ENABLE_CUDASIM=1 by test_cuda_sim.py: CUDA kernels vs CPU kernels, then gradcheck.

Prints one line per comparison, ``name max_abs_diff``, and ``gradcheck SPEC LOSS rel_err``; the
last comparison is two fused training steps.
"""

from __future__ import annotations

import numpy as np

from chainrule.derive.activations import ACTIVATIONS
from chainrule.derive.spec import parse_spec
from chainrule.kernels.registry import get_backend
from chainrule.train.gradcheck import gradcheck
from chainrule.train.network import build_network
from chainrule.train.optim import make_optimizer

rng = np.random.default_rng(0)
cpu, gpu = get_backend("cpu"), get_backend("cuda")
z, bias = rng.standard_normal((2, 3, 4)), rng.standard_normal(3) * 0.1
for name in ACTIVATIONS:
    outputs = []
    for backend in (cpu, gpu):
        a, d = np.empty_like(z), np.empty_like(z)
        backend.activation(name).bias_act(z, bias, a, d)
        outputs.append((a, d))
    diff = max(np.max(np.abs(outputs[0][0] - outputs[1][0])),
               np.max(np.abs(outputs[0][1] - outputs[1][1])))
    print(f"act_{name} {diff:.3e}")

z2, b2 = rng.standard_normal((3, 4)), rng.standard_normal(4) * 0.1
t = rng.uniform(0.1, 0.9, (3, 4))
for act, loss in [("sigmoid", "bce"), ("linear", "mse"), ("tanh", "half_mse")]:
    results = []
    for backend in (cpu, gpu):
        a, delta = np.empty_like(z2), np.empty_like(z2)
        value = backend.output(act, loss).output_layer(z2, b2, t, a, delta, 0.25 / 3)
        results.append((value, a, delta))
    diff = max(abs(results[0][0] - results[1][0]), np.max(np.abs(results[0][1] - results[1][1])),
               np.max(np.abs(results[0][2] - results[1][2])))
    print(f"out_{act}_{loss} {diff:.3e}")

onehot = np.eye(4)[[0, 3, 1]]
results = []
for backend in (cpu, gpu):
    s, delta = np.empty_like(z2), np.empty_like(z2)
    value = backend.softmax_ce().softmax_ce_layer(z2, b2, onehot, s, delta, 1 / 3)
    results.append((value, s, delta))
diff = max(abs(results[0][0] - results[1][0]), np.max(np.abs(results[0][1] - results[1][1])),
           np.max(np.abs(results[0][2] - results[1][2])))
print(f"softmax_ce {diff:.3e}")

for spec, loss in [("mlp:3-4-2", "softmax_ce"), ("mlp:3-4-2", "bce"),
                   ("cnn:1x6x6-conv3x3x2-maxpool2-dense2", "mse")]:
    result = gradcheck(parse_spec(spec), loss=loss, device="cuda")
    print(f"gradcheck {spec} {loss} {result.max_rel_err:.3e}")

# The fused training step on --device cuda against the same step on the CPU (float64, 2 steps).
x_step, y_step = rng.standard_normal((5, 3)), rng.integers(0, 2, 5)
trained = []
for device in ("cpu", "cuda"):
    net = build_network(parse_spec("mlp:3-4-2"), seed=1, dtype=np.float64, device=device)
    optimizer = make_optimizer("momentum", net.params, lr=0.1, l2=0.01)
    for _ in range(2):
        net.train_step(x_step, y_step, optimizer)
    trained.append(net.params)
diff = max(np.max(np.abs(trained[0][k] - trained[1][k])) for k in trained[0])
print(f"train_step_momentum {diff:.3e}")
