"""Run by test_step_sim.py under NUMBA_ENABLE_CUDASIM=1: the CUDA optimiser step (bias_step,
delta_bias_step, apply) against kernels/update.py's, float32, for every rule."""

from __future__ import annotations

import numpy as np
from check_common import COUNTERS, counted, down, normal, rel, up

from chainrule.kernels.cpu import conv as cpu_conv
from chainrule.kernels.cuda import step
from chainrule.kernels.cuda.counters import device_empty, device_zeros, to_device
from chainrule.kernels.update import Rule, hyperparameters, update_module

cpu = update_module()
h = hyperparameters(lr=0.1, beta1=0.9, beta2=0.99, eps=1e-8, correction1=0.19, correction2=0.0199,
                    l2=0.01, l1=0.001)
batch, channels, positions = 2, 3, 130  # batch * positions > THREADS: threads take 1 or 2 pairs
SHAPES = {"conv": (batch, channels, positions)}


def state(kind: Rule) -> tuple[np.ndarray, np.ndarray]:
    """The rule's state: velocity or (m, v), zero-size where the rule reads none."""
    first = normal(channels) if kind != Rule.SGD else np.zeros(0, np.float32)
    second = np.abs(normal(channels)) if kind == Rule.ADAM else np.zeros(0, np.float32)
    return first, second


def compare(name: str, kind: Rule, cpu_call, gpu_call, host: list[np.ndarray],
            p: np.ndarray) -> None:
    """Run both on copies; print the worst relative error over p, first, second, scratch and
    the outputs in ``host`` (the arrays after the first ``len(host) - n_out`` are written)."""
    first, second = state(kind)
    arrays = [*host, p, np.zeros_like(p), first, second]
    cpu_arrays = [a.copy() for a in arrays]
    want_bad = cpu_call(*cpu_arrays, kind, h)
    dev = up(*arrays)
    dh, dbad = to_device(h), device_zeros(1, np.int64)
    counted(f"{name}_{kind.name}", gpu_call, *dev, kind, dh, dbad)
    worst = max(rel(down(d), c) for d, c in zip(dev, cpu_arrays, strict=True) if c.size)
    print(f"{name}_{kind.name} {worst}")
    print(f"{name}_{kind.name}_bad {abs(down(dbad)[0] - want_bad)}")


for shape_name, shape in SHAPES.items():
    delta = normal(*shape)
    grad_a, d = normal(*shape), normal(*shape)
    for kind in Rule:
        p = normal(shape[1])
        compare(f"bias_step_{shape_name}", kind,
                lambda de, p_, s, f, sec, k, h_: cpu.bias_step(de, p_, s, int(k), f, sec, h_, 2),
                lambda de, p_, s, f, sec, k, h_, b: step.bias_step(de, p_, s, k, f, sec, h_, b),
                [delta], p)
        compare(f"delta_bias_step_{shape_name}", kind,
                lambda g, d_, de, p_, s, f, sec, k, h_:
                cpu.delta_bias_step(g, d_, de, p_, s, int(k), f, sec, h_, 2),
                lambda g, d_, de, p_, s, f, sec, k, h_, b:
                step.delta_bias_step(g, d_, de, p_, s, k, f, sec, h_, b),
                [grad_a, d, np.zeros_like(d)], p)

for kind in Rule:  # apply: a (3, 130) weight viewed flat, one non-finite gradient element
    p, grad = normal(channels * positions), normal(channels * positions)
    grad[3] = np.inf
    first, second = state(kind)
    if first.size:
        first, second = normal(p.size), (np.abs(normal(p.size)) if second.size else second)
    arrays = [p, grad, first, second]
    cpu_arrays = [a.copy() for a in arrays]
    want_bad = cpu.apply(cpu_arrays[0], cpu_arrays[1], int(kind), cpu_arrays[2], cpu_arrays[3], h)
    dp, dg, df, ds = up(*arrays)
    dp2, dg2 = dp.reshape(channels, positions), dg.reshape(channels, positions)
    dbad = device_zeros(1, np.int64)
    dh = to_device(h)
    counted(f"apply_{kind.name}", step.apply, dp2, dg2, kind, df, ds, dh, dbad)
    finite = [(down(x), c) for x, c in zip((dp, df, ds), (cpu_arrays[0], *cpu_arrays[2:]),
                                           strict=True)]
    worst = max(rel(np.where(np.isfinite(c), g, 0), np.where(np.isfinite(c), c, 0))
                for g, c in finite if c.size)
    same_inf = all(np.array_equal(np.isfinite(g), np.isfinite(c)) for g, c in finite)
    print(f"apply_{kind.name} {worst if same_inf else 1.0}")
    print(f"apply_{kind.name}_bad {abs(down(dbad)[0] - want_bad)}")
    print(f"apply_{kind.name}_bad_count {want_bad}")
COUNTERS.reset()
print(f"empty {device_empty(0, np.float32).size}")

# BP4 fused with the rule: the GEMM's epilogue (dense) and the conv's per-weight blocks, against
# NumPy's / the CPU conv's gradient followed by update.py's apply

x_dense, delta_dense = normal(4, 5), normal(4, 3)  # (batch, n_in), (batch, n_out)
xp_conv, delta_conv = normal(2, 2, 5, 4), normal(2, 1, 4, 3)  # k = 2, stride 1
grad_conv = np.empty((1, 2, 2, 2), np.float32)
cpu_conv.weight_grad(xp_conv, delta_conv, 1, 0, grad_conv)  # xp_conv: already padded
grads = {"dense": delta_dense.T @ x_dense, "conv": grad_conv}
for name, grad in grads.items():
    for kind in Rule:
        p = normal(*grad.shape)
        first, second = state(kind)
        if first.size:
            first = normal(p.size)
            second = np.abs(normal(p.size)) if second.size else second
        cpu_p, cpu_first, cpu_second = p.reshape(-1).copy(), first.copy(), second.copy()
        cpu.apply(cpu_p, grad.reshape(-1).copy(), int(kind), cpu_first, cpu_second, h)
        dp, df, ds = up(p, first, second)
        scratch, dbad, dh = device_empty(grad.shape, np.float32), device_zeros(1, np.int64), \
            to_device(h)
        if name == "dense":
            dx, dd = up(x_dense, delta_dense)
            counted(f"weight_step_{name}_{kind.name}", step.dense_weight_step, dd, dx, dp,
                    scratch, kind, df, ds, dh, dbad)
        else:
            dxp, dd = up(xp_conv, delta_conv)
            counted(f"weight_step_{name}_{kind.name}", step.conv_weight_step, dxp, dd, 1, dp,
                    scratch, kind, df, ds, dh, dbad)
        worst = max(rel(down(scratch), grad), rel(down(dp).reshape(-1), cpu_p),
                    *(rel(down(d), c) for d, c in ((df, cpu_first), (ds, cpu_second)) if c.size))
        print(f"weight_step_{name}_{kind.name} {worst}")
        print(f"weight_step_{name}_{kind.name}_bad {down(dbad)[0]}")

# The same inputs twice: bit-identical sums (fixed trees, no float atomics), whatever the timing
runs = []
for _ in range(2):
    de, dp, ds, df = up(delta, normal(channels), np.zeros(channels, np.float32),
                        np.zeros(channels, np.float32))
    step.bias_step(de, dp, ds, Rule.STORE, df, df, to_device(h), device_zeros(1, np.int64))
    runs.append(down(df))
print(f"repeat_differs {int(not np.array_equal(runs[0], runs[1]))}")
