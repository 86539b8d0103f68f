"""Gradient reductions fused with the optimiser step: each reduced gradient element is used at once.

The reductions are those of backprop (Nielsen, *NNDL*, ch. 2): BP3 ∂L/∂b = Σ δ over the batch
(and positions, for a conv), BP2 δ = ∂L/∂a ⊙ g'(z) in the same pass, and BP4 ∂L/∂W = δᵀx as row
blocks of a BLAS product (dense) or of Σₙ δₙ colsₙᵀ (conv by im2col). As soon as a bias channel's
sum or a block of weight rows is reduced, the same task applies the optimiser's rule to it
(``step``), while the values are still in registers or cache: no gradient array is written out
and read back by a second kernel. The rules: SGD w ← w − η g; momentum v ← βv + g, w ← w − η v
(Sutskever et al., ICML 2013, as in PyTorch); Adam with bias correction (Kingma & Ba, ICLR 2015).
g is the loss gradient plus the penalty gradient, which is printed from
:data:`chainrule.derive.penalties.PENALTIES` (``sympy.diff`` of λ/2·w² → λw and of λ|w| → λ·sign(w);
Goodfellow et al., *Deep Learning*, §7.1) with λ renamed to ``l2`` and ``l1``. A fourth rule,
STORE, writes the gradient instead (``first[i] = grad[i]``): that is how :meth:`Network.loss_and_gradients`
and gradient checking read the gradients, through the very kernels that train.

Every sum runs in a fixed order and each element is updated once, so runs are bit-identical. Each
kernel returns how many updated values are not finite, for the training loop's NaN stop.
"""

from __future__ import annotations

from enum import IntEnum
from functools import cache
from types import ModuleType
from typing import Any

import numpy as np

from chainrule.kernels.header import module_header
from chainrule.kernels.index import indexed_module


@cache
def penalty_symbols() -> tuple[Any, Any, Any]:
    """The SymPy symbols l2, l1 and g of the printed penalty gradient (SymPy loads only here)."""
    import sympy as sp

    return sp.symbols("l2 l1 g", real=True)


def __getattr__(name: str) -> Any:
    """``L2``, ``L1``, ``G``: :func:`penalty_symbols`, made when first imported (PEP 562)."""
    if name in ("L2", "L1", "G"):
        return penalty_symbols()[("L2", "L1", "G").index(name)]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Rule(IntEnum):
    """What a fused kernel does with each reduced gradient element."""

    STORE = 0  # first[i] = g: gradients only (gradient checking, loss_and_gradients)
    SGD = 1
    MOMENTUM = 2  # first: velocity
    ADAM = 3  # first: m, second: v


HYPER_SLOTS = ("lr", "beta1", "beta2", "eps", "correction1", "correction2", "l2", "l1")
PENALTY_SLOTS = slice(HYPER_SLOTS.index("l2"), HYPER_SLOTS.index("l1") + 1)  # l2, l1
# a fused kernel's rule arguments in a generated epoch (kernels/cpu/epoch.py, conv_epoch.py):
# RULE_ARGS.format("w" or "b", parameter index, the step's hyper row)
RULE_ARGS = "kind, {0}_first[{1}], {0}_second[{1}], {2}"

_CONSTANTS = '''
STORE, SGD, MOMENTUM, ADAM = 0, 1, 2, 3  # Rule in kernels/update.py
LR, BETA1, BETA2, EPS, CORRECTION1, CORRECTION2, L2, L1 = 0, 1, 2, 3, 4, 5, 6, 7  # slots of h (8,)


@njit(cache=True, error_model="numpy")
def step(p, grad, kind, first, second, h):
    # The rule on every element of p, given the reduced loss gradients grad[i] = dL/dw_i. p, grad:
    # flat (size,); first, second: flat (size,) state, or (0,) when the rule reads none.
    # Momentum's beta is h[BETA1]. Returns how many values written are not finite. The L1
    # term's sign(w) keeps the loops from vectorising (SGD on 50k float32 weights: 40 against
    # 22 us, bench/kernel_micro.py), so without L1 they call the gradient printed with l1 = 0, which gives the same bits
    if h[L1] != 0.0:
        return step_with_l1(p, grad, kind, first, second, h)
    return step_without_l1(p, grad, kind, first, second, h)
'''

_RULE_LOOPS = '''

@njit(cache=True, error_model="numpy")
def STEP_NAME(p, grad, kind, first, second, h):
    # step's loops, with the penalty gradient PENALISED. One loop per rule, so each
    # vectorises; callers pass slices (a block of rows, one bias channel)
    bad = 0
    lr, l2, l1 = h[LR], h[L2], h[L1]
    if kind == STORE:
        if first.ctypes.data != grad.ctypes.data:  # reduced elsewhere, not into first: copy it
            for i in range(p.size):
                first[i] = grad[i]
        for i in range(p.size):
            bad += 0 if math.isfinite(first[i]) else 1
    elif kind == SGD:  # w <- w - lr g
        for i in range(p.size):
            w = p[i]
            p[i] = w - lr * penalised(w, grad[i], l2, l1)
            bad += 0 if math.isfinite(p[i]) else 1
    elif kind == MOMENTUM:  # v <- beta v + g;  w <- w - lr v
        beta = h[BETA1]
        for i in range(p.size):
            w = p[i]
            v = beta * first[i] + penalised(w, grad[i], l2, l1)
            first[i] = v
            p[i] = w - lr * v
            bad += 0 if math.isfinite(p[i]) else 1
    else:  # m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;  w <- w - lr m_hat / (sqrt(v_hat) + eps)
        beta1, beta2, eps = h[BETA1], h[BETA2], h[EPS]
        correction1, correction2 = h[CORRECTION1], h[CORRECTION2]
        for i in range(p.size):
            w = p[i]
            g = penalised(w, grad[i], l2, l1)
            m = beta1 * first[i] + (1.0 - beta1) * g
            v = beta2 * second[i] + (1.0 - beta2) * g * g
            first[i] = m
            second[i] = v
            p[i] = w - lr * (m / correction1) / (math.sqrt(v / correction2) + eps)
            bad += 0 if math.isfinite(p[i]) else 1
    return bad
'''

_KERNELS = '''

@njit(cache=True, error_model="numpy")
def step_rows(p, grad, lo, hi, width, kind, first, second, h):
    # The rule on rows lo..hi-1 of a weight whose rows hold width values each (flat arrays)
    start, stop = lo * width, hi * width
    return step(p[start:stop], grad[start:stop], kind, first[start:stop], second[start:stop], h)


@njit(cache=True, error_model="numpy")
def apply(p, grad, kind, first, second, h):
    # The rule on a gradient reduced elsewhere. p, grad: flat (size,)
    return step(p, grad, kind, first, second, h)


@njit(cache=True, error_model="numpy", inline="always")
def lane_total(lanes):
    # the eight partial sums of a channel, added in a fixed tree order
    return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5])
                                                             + (lanes[6] + lanes[7]))


@njit(cache=True, error_model="numpy", inline="always")
def plane_lanes(grad_a, d, delta, n, c, lanes, fused):
    # BP3 over the positions of plane (n, c) in eight float64 lanes: lane u sums the positions s
    # with s % 8 == u, in order, so that no addition waits on the one before (a single running
    # sum waits 3-4 cycles per value: BP2 + BP3 of the two-conv net's first conv, 64 x 32 x 784
    # values, 1523 -> 689 us on one thread, bench/kernel_micro.py). With fused, BP2 first:
    # delta = grad_a * d, written out.
    # grad_a, d, delta: (batch, channels, positions); lanes: (8,) float64
    t0, t1, t2, t3 = lanes[0], lanes[1], lanes[2], lanes[3]
    t4, t5, t6, t7 = lanes[4], lanes[5], lanes[6], lanes[7]
    positions, s = delta.shape[2], 0
    while s + 8 <= positions:
        if fused:
            for u in range(8):
                delta[n, c, s + u] = grad_a[n, c, s + u] * d[n, c, s + u]
        t0 += delta[n, c, s]
        t1 += delta[n, c, s + 1]
        t2 += delta[n, c, s + 2]
        t3 += delta[n, c, s + 3]
        t4 += delta[n, c, s + 4]
        t5 += delta[n, c, s + 5]
        t6 += delta[n, c, s + 6]
        t7 += delta[n, c, s + 7]
        s += 8
    lanes[0], lanes[1], lanes[2], lanes[3] = t0, t1, t2, t3
    lanes[4], lanes[5], lanes[6], lanes[7] = t4, t5, t6, t7
    for u in range(positions - s):  # the last positions % 8 values, into lanes 0, 1, ...
        if fused:
            delta[n, c, s + u] = grad_a[n, c, s + u] * d[n, c, s + u]
        lanes[u] += delta[n, c, s + u]


@njit(cache=True, error_model="numpy", inline="always")
def channel_sums(grad_a, d, delta, scratch, lo, hi, fused):
    # BP3 on channels lo..hi-1 into scratch[c] (in the parameter's dtype): the sum over batch n
    # and positions s of delta[n, c, s]; with fused, BP2 first in the same pass, delta = grad_a *
    # g'(z) (d holds g'(z) from bias_act). Swept sample by sample, each channel's sum in a fixed
    # order (over n, then s in eight lanes: plane_lanes), so the bits do not depend on the blocks.
    # grad_a, d, delta: (batch, channels, positions); scratch: (channels,)
    acc = np.zeros(hi - lo)  # float64 sums, one per channel (dense layers)
    lanes = np.zeros((hi - lo, 8))  # float64 lanes, eight per channel (conv layers)
    for n in range(delta.shape[0]):
        if delta.shape[2] == 1:  # dense layers: vectorised across the channels (indexed in
            # place: through 1-D slices of each row this loop took 8.6 us, not 2.3)
            for c in range(lo, hi):
                if fused:
                    delta[n, c, 0] = grad_a[n, c, 0] * d[n, c, 0]
                acc[c - lo] += delta[n, c, 0]
        else:
            for c in range(lo, hi):
                plane_lanes(grad_a, d, delta, n, c, lanes[c - lo], fused)
    for c in range(lo, hi):
        scratch[c] = acc[c - lo] if delta.shape[2] == 1 else lane_total(lanes[c - lo])


@njit(cache=True, error_model="numpy")
def bias_block(delta, p, scratch, kind, first, second, h, lo, hi):
    # BP3 on channels lo..hi-1 (channel_sums), then the rule on those b_c.
    # delta: (batch, channels, positions); p, scratch: (channels,)
    channel_sums(delta, delta, delta, scratch, lo, hi, False)
    return step_rows(p, scratch, lo, hi, 1, kind, first, second, h)


@njit(cache=True, error_model="numpy")
def delta_bias_block(grad_a, d, delta, p, scratch, kind, first, second, h, lo, hi):
    # BP2 + BP3 on channels lo..hi-1 in one pass (channel_sums), then the rule on those b_c.
    # grad_a, d, delta: (batch, channels, positions); p, scratch: (channels,)
    channel_sums(grad_a, d, delta, scratch, lo, hi, True)
    return step_rows(p, scratch, lo, hi, 1, kind, first, second, h)


@njit(cache=True, error_model="numpy")
def rows_block(a, b, p, scratch, kind, first, second, h, lo, hi):
    # BP4 of a dense layer on rows lo..hi-1: scratch[lo:hi] = a[lo:hi] b by one single-threaded
    # BLAS call, then the rule on those rows while they are in cache. a: (n_out, batch) = delta^T
    # (a transposed view is read in place); b: (batch, n_in) = x; scratch: (n_out, n_in);
    # p: flat (n_out*n_in). SGD without L1 is affine in g and w, so BLAS applies it in the
    # product itself: w <- alpha a b + beta w, with alpha and beta the rule's derivatives
    # (sgd_grad_coefficient, sgd_weight_coefficient); no gradient is written out and read back
    # (BP4 + SGD of the MLP's hidden layer: 111 -> 95 us, bench/kernel_micro.py)
    width = scratch.shape[1]
    if kind == SGD and h[L1] == 0.0:
        w = p.reshape(scratch.shape)  # (n_out, n_in)
        matmul(a[lo:hi], b, w[lo:hi], sgd_grad_coefficient(h[LR], h[L2]),
               sgd_weight_coefficient(h[LR], h[L2]))
        return nonfinite(p[lo * width:hi * width])
    matmul(a[lo:hi], b, scratch[lo:hi], 1.0, 0.0)
    return step_rows(p, scratch.reshape(-1), lo, hi, width, kind, first, second, h)


@njit(cache=True, error_model="numpy")
def nonfinite(p):
    # how many values of p (flat) are not finite (an integer sum: it vectorises)
    bad = 0
    for i in range(p.size):
        bad += 0 if math.isfinite(p[i]) else 1
    return bad


@njit(cache=True, error_model="numpy", parallel=True)
def bias_blocks(delta, p, scratch, kind, first, second, h, blocks):
    bad = 0
    for block in prange(blocks):
        lo, hi = span(block, blocks, delta.shape[1])
        bad += bias_block(delta, p, scratch, kind, first, second, h, lo, hi)
    return bad


@njit(cache=True, error_model="numpy", parallel=True)
def delta_bias_blocks(grad_a, d, delta, p, scratch, kind, first, second, h, blocks):
    bad = 0
    for block in prange(blocks):
        lo, hi = span(block, blocks, grad_a.shape[1])
        bad += delta_bias_block(grad_a, d, delta, p, scratch, kind, first, second, h, lo, hi)
    return bad


@njit(cache=True, error_model="numpy", parallel=True)
def rows_blocks(a, b, p, scratch, kind, first, second, h, blocks):
    bad = 0
    for block in prange(blocks):
        lo, hi = span(block, blocks, scratch.shape[0])
        bad += rows_block(a, b, p, scratch, kind, first, second, h, lo, hi)
    return bad


@njit(cache=True, error_model="numpy")
def span(block, blocks, size):
    # rows (or channels) lo..hi-1 of block `block` of `blocks`
    return block * size // blocks, (block + 1) * size // blocks


# The kernels the layers call: blocks (blocks.py) of channels or rows, one per thread; one block
# runs in the caller's thread, without a parallel region (which costs microseconds: BP2 + BP3 of
# the MLP's hidden layer, 64 x 128 values, took 3 us serially and 15 us in two blocks;
# bench/kernel_micro.py)
@njit(cache=True, error_model="numpy")
def bias_step(delta, p, scratch, kind, first, second, h, blocks):
    if blocks == 1:
        return bias_block(delta, p, scratch, kind, first, second, h, 0, delta.shape[1])
    return bias_blocks(delta, p, scratch, kind, first, second, h, blocks)


@njit(cache=True, error_model="numpy")
def delta_bias_step(grad_a, d, delta, p, scratch, kind, first, second, h, blocks):
    if blocks == 1:
        return delta_bias_block(grad_a, d, delta, p, scratch, kind, first, second, h, 0,
                                grad_a.shape[1])
    return delta_bias_blocks(grad_a, d, delta, p, scratch, kind, first, second, h, blocks)


@njit(cache=True, error_model="numpy")
def rows_step(a, b, p, scratch, kind, first, second, h, blocks):
    if blocks == 1:
        return rows_block(a, b, p, scratch, kind, first, second, h, 0, scratch.shape[0])
    return rows_blocks(a, b, p, scratch, kind, first, second, h, blocks)


@njit(cache=True, error_model="numpy", parallel=True)
def cols_step(cols, delta, p, scratch, kind, first, second, h, blocks):
    # BP4 of a conv by im2col, dL/dW = sum_n delta[n] cols[n]^T: row blocks of filters, each
    # summing its samples in order (no shared sums), then the rule on those filters' weights.
    # cols: (batch, c_in*k*k, Ho*Wo); delta: (batch, f, Ho*Wo); scratch: (f, c_in*k*k); p: flat
    filters, width = scratch.shape
    grad = scratch.reshape(-1)
    bad = 0
    for block in prange(blocks):
        lo, hi = block * filters // blocks, (block + 1) * filters // blocks
        acc = np.zeros((hi - lo, width), dtype=scratch.dtype)
        product = np.empty((hi - lo, width), dtype=scratch.dtype)
        for n in range(cols.shape[0]):
            matmul(delta[n, lo:hi], cols[n].T, product, 1.0, 0.0)
            acc += product
        scratch[lo:hi] = acc
        bad += step_rows(p, grad, lo, hi, width, kind, first, second, h)
    return bad
'''


def update_source() -> str:
    """The generated module: ``penalised(w, g, l2, l1)`` printed from derive, and again with
    l1 = 0 (``smooth_penalised``), the rule loops with each, then the kernels. It names
    blas.py's digest, whose ``matmul`` Numba compiles into it."""
    from chainrule.derive.penalties import LAMBDA, PENALTIES, W  # SymPy: only when deriving
    from chainrule.kernels import blas
    from chainrule.kernels.printer import print_function

    L2, L1, G = penalty_symbols()  # the printed names
    l2_grad = PENALTIES["l2"].gradient().subs(LAMBDA, L2)
    l1_grad = PENALTIES["l1"].gradient().subs(LAMBDA, L1)
    penalised = G + l2_grad + l1_grad
    grad_coefficient, weight_coefficient = sgd_coefficients(W, G + l2_grad)
    LR = rate_symbol()
    loops = "".join(_RULE_LOOPS.replace("STEP_NAME", name).replace("PENALISED", function)
                    .replace("penalised(", f"{function}(")
                    for name, function in (("step_with_l1", "penalised"),
                                           ("step_without_l1", "smooth_penalised")))
    return (module_header("Gradient reductions fused with the optimiser step "
                          "(the L2/L1 penalty gradient printed from derive).")
            + blas.import_line()
            + print_function("penalised", [W, G, L2, L1], penalised,
                             comment=f"g + d/dw(l2/2 w^2) + d/dw(l1 |w|) = g + {l2_grad} + "
                                     f"{l1_grad}  (derive/penalties.py)")
            + "\n" + print_function("smooth_penalised", [W, G, L2, L1], penalised.subs(L1, 0),
                                    comment=f"penalised with l1 = 0: g + {l2_grad}")
            + "\n" + print_function("sgd_grad_coefficient", [LR, L2], grad_coefficient,
                                    comment="d/dg of SGD's w - lr smooth_penalised(w, g)")
            + "\n" + print_function("sgd_weight_coefficient", [LR, L2], weight_coefficient,
                                    comment="d/dw of SGD's w - lr smooth_penalised(w, g)")
            + "\n" + _CONSTANTS + loops + _KERNELS)


def sgd_coefficients(w: Any, smooth: Any) -> tuple[Any, Any]:
    """α = ∂/∂g and β = ∂/∂w of SGD's rule w − lr·``smooth`` (the gradient with its penalty, no
    L1), which is affine in g and w: the step is then one BLAS product, w ← α·δᵀx + β·w."""
    import sympy as sp

    _, _, g = penalty_symbols()
    rule = w - rate_symbol() * smooth
    alpha, beta = sp.diff(rule, g), sp.diff(rule, w)
    if sp.expand(rule - alpha * g - beta * w) != 0 or {g, w} & (alpha.free_symbols
                                                                | beta.free_symbols):
        raise ValueError(f"the SGD rule {rule} is not affine in g and w")
    return alpha, beta


@cache
def rate_symbol() -> Any:
    """The SymPy symbol of the learning rate, printed as lr."""
    import sympy as sp

    return sp.Symbol("lr", real=True)


@cache
def update_module() -> ModuleType:
    """The module, from the cache's index when it knows it (no SymPy; kernels/index.py)."""
    return indexed_module("update", lambda: ("update", update_source()))


def hyperparameters(*, lr: float = 0.0, beta1: float = 0.0, beta2: float = 0.0, eps: float = 0.0,
                    correction1: float = 1.0, correction2: float = 1.0, l2: float = 0.0,
                    l1: float = 0.0) -> np.ndarray:
    """The float64 (8,) array ``h`` the kernels read, in the order of :data:`HYPER_SLOTS`."""
    return np.array([lr, beta1, beta2, eps, correction1, correction2, l2, l1], dtype=np.float64)
