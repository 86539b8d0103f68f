"""The JAX peer (CPU, XLA): the same models and recipe as bench/torch_ref.py, written two ways.

* ``jit-step``: one ``jax.jit``-compiled SGD step (forward, ``jax.grad``, update), called from a
  Python loop once per mini-batch; the batch is gathered inside the step from the data set, which
  sits on the device once.
* ``scan``: the whole epoch as one compiled function, a ``jax.lax.scan`` of that step over the
  (batches, 64) index matrix, so that no Python runs between the steps (JAX's documented idiom,
  https://docs.jax.dev/en/latest/_autosummary/jax.lax.scan.html). 60000 = 937·64 + 32: the last
  short batch runs through the jit step after the scan, so both variants do the same work.

Compilation happens before timing (ahead-of-time lowering, and a warm-up call on a copy of the
parameters for each batch shape). Models: mlp:784-128-10 (ReLU, He init) and lenet5 (tanh, average
pooling, C1 padded by 2), softmax-CE, plain SGD. Used only by bench/run.py, in .venv-bench.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

Params = dict[str, jax.Array]


def _he(key: jax.Array, shape: tuple[int, ...], fan_in: int) -> jax.Array:
    return jax.random.normal(key, shape, jnp.float32) * np.sqrt(2.0 / fan_in)


def init_mlp(key: jax.Array) -> Params:
    k1, k2 = jax.random.split(key)
    return {"w1": _he(k1, (784, 128), 784), "b1": jnp.zeros(128), "w2": _he(k2, (128, 10), 128),
            "b2": jnp.zeros(10)}


def mlp(params: Params, x: jax.Array) -> jax.Array:
    a1 = jax.nn.relu(x.reshape(len(x), -1) @ params["w1"] + params["b1"])  # (m, 128)
    return a1 @ params["w2"] + params["b2"]  # (m, 10)


LENET_CONVS = {"c1": (6, 1, 5), "c3": (16, 6, 5), "c5": (120, 16, 5)}  # (out, in, k)


def init_lenet5(key: jax.Array) -> Params:
    keys = jax.random.split(key, 5)
    params: Params = {}
    for k, (name, (out, inp, size)) in zip(keys, LENET_CONVS.items(), strict=False):
        params[name] = _he(k, (out, inp, size, size), inp * size * size)  # OIHW
        params[name + "b"] = jnp.zeros(out)
    params["f6"], params["f6b"] = _he(keys[3], (120, 84), 120), jnp.zeros(84)
    params["out"], params["outb"] = _he(keys[4], (84, 10), 84), jnp.zeros(10)
    return params


def _conv(x: jax.Array, w: jax.Array, b: jax.Array, padding: int) -> jax.Array:
    y = lax.conv_general_dilated(x, w, (1, 1), [(padding, padding)] * 2,
                                 dimension_numbers=("NCHW", "OIHW", "NCHW"))
    return jnp.tanh(y + b[None, :, None, None])


def _avg_pool(x: jax.Array) -> jax.Array:
    return lax.reduce_window(x, 0.0, lax.add, (1, 1, 2, 2), (1, 1, 2, 2), "VALID") / 4.0


def lenet5(params: Params, x: jax.Array) -> jax.Array:
    a = _avg_pool(_conv(x, params["c1"], params["c1b"], 2))  # (m, 6, 14, 14)
    a = _avg_pool(_conv(a, params["c3"], params["c3b"], 0))  # (m, 16, 5, 5)
    a = _conv(a, params["c5"], params["c5b"], 0).reshape(len(x), 120)  # (m, 120)
    a = jnp.tanh(a @ params["f6"] + params["f6b"])  # (m, 84)
    return a @ params["out"] + params["outb"]  # (m, 10)


MODELS: dict[str, tuple[Callable[[jax.Array], Params], Callable[..., jax.Array]]] = {
    "mlp": (init_mlp, mlp), "lenet5": (init_lenet5, lenet5)}


def make_step(forward: Callable[..., jax.Array], lr: float) -> Callable[..., Params]:
    """One SGD step on the batch ``idx`` of (xs, ys), gathered inside the compiled function."""
    def loss(params: Params, x: jax.Array, y: jax.Array) -> jax.Array:
        logits = forward(params, x)
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))

    def step(params: Params, xs: jax.Array, ys: jax.Array, idx: jax.Array) -> Params:
        grads = jax.grad(loss)(params, xs[idx], ys[idx])
        return jax.tree.map(lambda p, g: p - lr * g, params, grads)
    return step


def make_epoch(step: Callable[..., Params]) -> Callable[..., Params]:
    """The epoch as one ``lax.scan`` of ``step`` over the rows of ``order`` (batches, batch)."""
    def epoch(params: Params, xs: jax.Array, ys: jax.Array, order: jax.Array) -> Params:
        def body(carry: Params, idx: jax.Array) -> tuple[Params, None]:
            return step(carry, xs, ys, idx), None
        return lax.scan(body, params, order)[0]
    return epoch


def train(model_name: str, variant: str, x_train: np.ndarray, y_train: np.ndarray,
          x_test: np.ndarray, y_test: np.ndarray, *, epochs: int, batch: int, lr: float,
          seed: int = 0) -> dict[str, Any]:
    """Train with ``variant`` "jit-step" or "scan"; seconds per epoch (median) and test accuracy."""
    init, forward = MODELS[model_name]
    params = init(jax.random.PRNGKey(seed))
    xs = jnp.asarray(x_train.reshape(len(x_train), -1) if model_name == "mlp" else x_train)
    ys = jnp.asarray(y_train.astype(np.int32))
    full, tail = divmod(len(x_train), batch)
    step = jax.jit(make_step(forward, lr))
    epoch = jax.jit(make_epoch(make_step(forward, lr)))
    order0 = np.arange(full * batch, dtype=np.int32).reshape(full, batch)
    sizes = sorted({batch, tail} - {0})
    warm = [step(params, xs, ys, jnp.arange(size, dtype=jnp.int32)) for size in sizes]
    if variant == "scan":
        epoch = epoch.lower(params, xs, ys, order0).compile()
        warm.append(epoch(params, xs, ys, order0))
    jax.block_until_ready(warm)
    rng = np.random.default_rng(seed)
    seconds = []
    for _ in range(epochs):
        order = rng.permutation(len(x_train)).astype(np.int32)
        start = time.perf_counter()
        if variant == "scan":
            params = epoch(params, xs, ys, order[:full * batch].reshape(full, batch))
            if tail:
                params = step(params, xs, ys, order[full * batch:])
        else:
            for first in range(0, len(order), batch):
                params = step(params, xs, ys, order[first:first + batch])
        jax.block_until_ready(params)
        seconds.append(time.perf_counter() - start)
    return {"seconds_per_epoch": float(np.median(seconds)), "epochs_timed": len(seconds),
            "test_acc": accuracy(forward, params, x_test, y_test)}


def accuracy(forward: Callable[..., jax.Array], params: Params, x: np.ndarray,
             y: np.ndarray) -> float:
    """Test accuracy, in chunks of 1000 samples (one compiled shape)."""
    predict = jax.jit(lambda p, xb: forward(p, xb).argmax(1))
    predictions = np.concatenate([np.asarray(predict(params, jnp.asarray(x[i:i + 1000])))
                                  for i in range(0, len(x), 1000)])
    return float((predictions == y).mean())
