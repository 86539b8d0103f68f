"""The MLP's floor: chainrule's batch gather and two 784×128 products alone, an epoch of them.

Each step of mlp:784-128-10 makes two products over the hidden layer's 784 × 128 weight: the
forward pass z = x Wᵀ (64 × 784 by 784 × 128) and BP4 with the SGD update, Wᵀ ← Wᵀ − η xᵀ δ (784 × 64
by 64 × 128, BLAS adding into Wᵀ; the epoch holds this layer's weights transposed,
blocks.epoch_transposes). Together they are 25.7 MFLOP of a step's 26.2. This peer runs
only those two and the gather of each shuffled batch's rows before them (NumPy's ``x_train[idx]``),
through the same generated kernels and block split as chainrule's compiled epoch (kernels/cpu/
epoch.py's steps module: ``gather_batch``, ``dense_forward_t``, ``weight_step_t``), over 60k samples in
batches of 64, with nothing else: no activation, no output layer, no bias. NumPy's epoch
(bench/numpy_ref.py) gathers the same rows and makes the same two products with the same OpenBLAS,
so this epoch over NumPy's is the lowest MLP / NumPy ratio that chainrule could reach with them
(issue 13's target is 0.6); the rest of chainrule's step comes on top. It trains nothing useful: δ
is a fixed (64, 128) array, and it reports no accuracy.
"""

from __future__ import annotations

import time

import numba
import numpy as np
from numba import njit

from chainrule.kernels.cache import load_source
from chainrule.kernels.cpu import dense, epoch, threads
from chainrule.kernels.update import Rule, hyperparameters, update_module


@njit(cache=False)
def products_epoch(x, t, order, delta, w, scratch, h, batch, count, gather_batch, dense_forward,
                   weight_step, kind, thread_count):  # type: ignore[no-untyped-def]
    # count steps: the batch gathered, then the two products. x: (n, 784); t: (n, 10);
    # delta: (batch, 128); w: (784, 128), held transposed as the epoch holds it
    xb = np.empty((batch, x.shape[1]), x.dtype)  # (batch, 784), reused as the epoch does
    tb = np.empty((batch, t.shape[1]), t.dtype)  # (batch, 10)
    z = np.empty((batch, w.shape[1]), x.dtype)  # (batch, 128)
    none = np.empty(0, x.dtype)
    for i in range(count):
        gather_batch(x, t, order, i * batch, (i + 1) * batch, xb, tb, thread_count)
        dense_forward(xb, w, z, thread_count)
        weight_step(delta, xb, w, scratch, kind, none, none, h, thread_count)


def train_products(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                   y_test: np.ndarray, *, epochs: int, batch: int, lr: float,
                   seed: int = 0) -> dict[str, object]:
    """Seconds per epoch of the gather and the two products (the median over ``epochs``, each
    with a fresh shuffle); no test accuracy."""
    threads.configure()
    numba.get_num_threads()  # the thread pool first: cached parallel code links to its symbols
    update_module()  # the module weight_step calls, loaded (or compiled) before the steps
    steps = load_source("epoch_steps", epoch.steps_source(dense))
    rng = np.random.default_rng(seed)
    x = np.ascontiguousarray(x_train.reshape(len(x_train), -1), dtype=np.float32)  # (n, 784)
    t = np.eye(10, dtype=np.float32)[y_train]  # (n, 10) one-hot, as the epoch gathers it
    w = (rng.standard_normal((784, 128)) * np.sqrt(2 / 784)).astype(np.float32)  # (784, 128) Wᵀ
    delta = (rng.standard_normal((batch, 128)) * 1e-3).astype(np.float32)  # a fixed δ
    scratch = np.empty_like(w)
    h = hyperparameters(lr=lr * 1e-3)  # small steps keep W finite over the epochs
    count = len(x) // batch
    args = (delta, w, scratch, h, batch)
    thread_count = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    kernels = (steps.gather_batch, steps.dense_forward_t, steps.weight_step_t, int(Rule.SGD),
               thread_count)  # as the epoch's
    products_epoch(x, t, rng.permutation(len(x)), *args, 2, *kernels)  # compiled before timing
    seconds = []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        begin = time.perf_counter()
        products_epoch(x, t, order, *args, count, *kernels)
        seconds.append(time.perf_counter() - begin)
    return {"seconds_per_epoch": float(np.median(seconds)), "test_acc": None}
