"""Per-layer profile of a chainrule training step: ms per step in each layer's forward and backward
pass, and in each kernel the pass calls (``bench/step_bench.py --layers``).

Each lowered layer's ``forward``/``backward`` (the output layer's ``loss_forward``/``backward``) and
each public kernel of the backend modules (conv, pool, dense, the fused update module, the
activation and softmax-CE modules) is wrapped by a timer for the run; a kernel that calls another
wrapped kernel counts once, in the outer one. A row is the median over the timed steps of that
pass's (or kernel's) time per step, so rows need not add up to the step's median exactly.
``clock="cpu"`` reads the thread's CPU time instead of the wall clock: with ``NUMBA_NUM_THREADS=1``
every kernel runs on the calling thread, so on a busy machine the time a step waits for a core is
left out (it is not with two threads, whose second thread's work it would also leave out).
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from chainrule.derive.spec import Conv2d, Dense, Pool2d
from chainrule.kernels.update import update_module


class Timers:
    """Seconds per (pass, kernel) bucket in the current step; the pass is set by the layer wrappers."""

    clock = staticmethod(time.perf_counter)

    def __init__(self) -> None:
        self.current: dict[tuple[str, str], float] = defaultdict(float)
        self.steps: list[dict[tuple[str, str], float]] = []
        self.where = "step"
        self.depth = 0

    def layer(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            outer, self.where = self.where, name
            begin = self.clock()
            try:
                return function(*args, **kwargs)
            finally:
                self.current[(name, "")] += self.clock() - begin
                self.where = outer
        return timed

    def kernel(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self.depth += 1
            begin = self.clock()
            try:
                return function(*args, **kwargs)
            finally:
                self.depth -= 1
                if self.depth == 0:
                    self.current[(self.where, name)] += self.clock() - begin
        return timed


def describe(spec: object) -> str:
    if isinstance(spec, Conv2d):
        stride = f"s{spec.stride}" if spec.stride != 1 else ""
        return f"conv{spec.kernel}x{spec.kernel}x{spec.filters}p{spec.padding}{stride}"
    if isinstance(spec, Pool2d):
        return f"{spec.mode}pool{spec.size}" + (f"s{spec.stride}" if spec.stride != spec.size else "")
    if isinstance(spec, Dense):
        return f"dense{spec.n_out}"
    return type(spec).__name__.lower()


def layer_name(index: int, layer: Any) -> str:
    if hasattr(layer, "conv") and hasattr(layer, "pool"):  # ConvAvgPool
        return f"{index} {describe(layer.conv.spec)}+{describe(layer.pool.spec)}"
    return f"{index} {describe(getattr(layer, 'spec', layer))}"


def kernel_modules(net: Any) -> list[ModuleType]:
    backend = net.output.kernels
    modules = [backend.conv, backend.pool, backend.dense, update_module(), backend.softmax_ce()]
    for layer in net.layers:
        for part in (layer, getattr(layer, "conv", None)):
            act = getattr(part, "act", None)
            if act is not None and act.module not in modules:
                modules.append(act.module)
    return modules


def instrument(net: Any, timers: Timers) -> list[tuple[object, str, object]]:
    """Wrap the layers' passes and the kernels; returns what to restore (owner, name, original)."""
    saved: list[tuple[object, str, object]] = []

    def wrap(owner: object, attr: str, wrapped: Callable[..., Any]) -> None:
        saved.append((owner, attr, owner.__dict__.get(attr, _ABSENT)))
        setattr(owner, attr, wrapped)

    for index, layer in enumerate(net.layers):
        name = layer_name(index, layer)
        wrap(layer, "forward", timers.layer(f"{name} fwd", layer.forward))
        wrap(layer, "backward", timers.layer(f"{name} bwd", layer.backward))
    out = net.output
    name = f"{len(net.layers)} output {describe(out.spec)}"
    wrap(out, "loss_forward", timers.layer(f"{name} fwd", out.loss_forward))
    wrap(out, "backward", timers.layer(f"{name} bwd", out.backward))
    for module in kernel_modules(net):
        for attr, value in list(vars(module).items()):
            if attr.startswith("_") or not callable(value) or isinstance(value, type):
                continue
            if getattr(value, "__module__", None) != module.__name__ and not hasattr(value, "py_func"):
                continue
            wrap(module, attr, timers.kernel(attr, value))
    return saved


_ABSENT = object()


def restore(saved: list[tuple[object, str, object]]) -> None:
    for owner, attr, original in reversed(saved):
        if original is _ABSENT:
            delattr(owner, attr)
        else:
            setattr(owner, attr, original)


def profile(net: Any, optimizer: Any, work: list, steps: int, warmup: int, stat: str = "median",
            clock: str = "wall") -> tuple[float, dict[tuple[str, str], float]]:
    """(step seconds, seconds per (pass, kernel) bucket), each the median over the steps, or the
    minimum (``stat="min"``: steadier on a busy machine, where a step can lose its core)."""
    reduce = statistics.median if stat == "median" else min
    for i in range(warmup):
        x, _, onehot = work[i % len(work)]
        net.train_step(x, onehot, optimizer)
    timers = Timers()
    if clock == "cpu":
        timers.clock = time.thread_time
    saved = instrument(net, timers)
    totals = []
    try:
        for i in range(steps):
            x, _, onehot = work[i % len(work)]
            timers.current = defaultdict(float)
            begin = timers.clock()
            net.train_step(x, onehot, optimizer)
            totals.append(timers.clock() - begin)
            timers.steps.append(timers.current)
    finally:
        restore(saved)
    keys = list(dict.fromkeys(key for step in timers.steps for key in step))
    medians = {key: reduce(step.get(key, 0.0) for step in timers.steps) for key in keys}
    return reduce(totals), medians


def print_layer_table(model: str, net: Any, optimizer: Any, work: list, steps: int,
                      warmup: int, stat: str = "median", clock: str = "wall") -> None:
    total, medians = profile(net, optimizer, work, steps, warmup, stat, clock)
    batch = work[0][0].shape[0]
    print(f"{model}: ms per step ({clock} clock), batch {batch}, {stat} of {steps} steps "
          f"(instrumented step "
          f"{total * 1e3:.3f} ms)")
    print(f"{'layer / pass':34} {'ms':>7}  kernels (ms)")
    order = sorted({where for where, _ in medians}, key=_pass_order)
    for where in order:
        kernels = [(name, value) for (w, name), value in medians.items() if w == where and name]
        kernels.sort(key=lambda item: -item[1])
        shown = ", ".join(f"{name} {value * 1e3:.3f}" for name, value in kernels)
        print(f"{where:34} {medians.get((where, ''), np.nan) * 1e3:7.3f}  {shown}")


def _pass_order(where: str) -> tuple[int, int]:
    if where == "step":
        return (2, 0)
    index = int(where.split()[0])
    return (0, index) if where.endswith("fwd") else (1, -index)
