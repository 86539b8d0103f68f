"""The CPU's compiled epoch: a generated Numba function per model runs a chunk of mini-batches
with no Python between the steps (issue 13: the CPU form of a captured step, like an epoch
written as JAX's ``lax.scan``).

Each step is the one ``Network.train_step`` runs, kernel for kernel: the batch gathered by the
epoch's order into reused buffers; per dense layer dense.py's product (with the same block split,
:data:`~chainrule.kernels.blocks.SPLIT_MIN_FLOPS`) and the generated bias + activation pass; BP1
from the generated output module; then, top layer first, BP3, BP2 and BP4 fused with the
optimiser's rule (kernels/update.py), each input gradient taken before its weights' step (Nielsen,
*NNDL*, ch. 2). The same kernels on the same values in the same order give the same parameters, bit
for bit, as stepping one batch at a time (tests/kernels/test_epoch.py). One exception: a float32
layer of 64 outputs or more is held transposed for the chunk (:class:`DenseWeights`,
blocks.epoch_transposes), W as (n_in, n_out), so that its forward product and BP4 read every
operand along rows (the MLP's step 208 -> 193 us); BLAS may round those products differently in
that layout, so such a layer equals the steps to rounding (issue 13 allows a changed summation
order where gradcheck and the accuracy tests pass). The parallel kernels it calls keep their
``prange`` threads.

The function is printed for the model's layer sizes and kernels and cached as every generated
module is (cache.py). Numba's cache of a function holds the code of the functions it calls, and is
keyed on its own file only, so the source names the generated modules it calls (whose names hold
their hashes) and carries the digest of dense.py: a change to either gives a new module.

Dense networks here: an input flatten, dense hidden layers (with inverted dropout when the request
brings the run's generator), a dense output layer; conv_epoch.py prints the function for conv nets
from the pieces this module shares (the steps module, the loop's text, the trainer). The dropout masks come from the uniforms that
``rng.random`` gives per layer and step in the step loop: drawn for many steps at once they are
the same numbers in the same order. For any other :class:`~chainrule.kernels.chunks.ChunkRequest`
:func:`chunk_trainer` returns None (the backend then asks conv_epoch.py).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numba
import numpy as np

from chainrule.derive.spec import Dense
from chainrule.kernels import blas
from chainrule.kernels.blocks import REDUCE_SPLIT_MIN, SPLIT_MIN_FLOPS, epoch_transposes
from chainrule.kernels.cache import load_source
from chainrule.kernels.chunks import ChunkRequest, ChunkResult
from chainrule.kernels.fit_lines import fit_lines
from chainrule.kernels.header import module_header
from chainrule.kernels.layers import FlattenLayer, HiddenLayer, OutputLayer, RowActivation
from chainrule.kernels.update import RULE_ARGS, update_module

_HELPERS = '''
@njit(cache=True, error_model="numpy")
def row_blocks(m, k, n, threads):
    # blocks.row_blocks: row blocks of an (m, k) by (k, n) product, one per thread when it is big
    if 2 * m * k * n < SPLIT_MIN_FLOPS:
        return 1
    return max(1, min(threads, m))


@njit(cache=True, error_model="numpy")
def reduction_blocks(values, channels, threads):
    # blocks.reduction_blocks: blocks of channels of a bias reduction (one: no parallel region)
    if values < REDUCE_SPLIT_MIN:
        return 1
    return max(1, min(threads, channels))


@njit(cache=True, error_model="numpy")
def dense_forward(x, w, out, threads):
    # dense.forward: out = x w^T. x: (b, n_in); w: (n_out, n_in); out: (b, n_out)
    blocks = row_blocks(x.shape[0], x.shape[1], w.shape[0], threads)
    if blocks == 1:
        matmul(x, w.T, out, 1.0, 0.0)
    elif x.shape[0] < w.shape[0]:
        features_times(x, w, out, min(blocks, w.shape[0]))
    else:
        rows_times(x, w, out, blocks)


@njit(cache=True, error_model="numpy")
def input_grad(delta, w, out, threads):
    # dense.input_grad: out = delta w (dL/dx). delta: (b, n_out); w: (n_out, n_in); out: (b, n_in)
    blocks = row_blocks(delta.shape[0], delta.shape[1], w.shape[1], threads)
    if blocks == 1:
        matmul(delta, w, out, 1.0, 0.0)
    else:
        rows_times_plain(delta, w, out, blocks)


@njit(cache=True, error_model="numpy")
def weight_step(delta, x, w, scratch, kind, first, second, h, threads):
    # ParamUpdates.dense_weight: BP4 delta^T x with the rule on w. delta: (b, n_out), read
    # transposed in place; x: (b, n_in); scratch: (n_out, n_in)
    b, n_out = delta.shape
    blocks = row_blocks(n_out, b, x.shape[1], threads)
    return rows_step(delta.T, x, w.reshape(w.size), scratch, kind, first, second, h, blocks)


@njit(cache=True, error_model="numpy")
def dense_forward_t(x, wt, out, threads):
    # dense_forward on weights held transposed (blocks.epoch_transposes): out = x wt, the same
    # sums. x: (b, n_in); wt: (n_in, n_out); out: (b, n_out)
    blocks = row_blocks(x.shape[0], x.shape[1], wt.shape[1], threads)
    if blocks == 1:
        matmul(x, wt, out, 1.0, 0.0)
    elif x.shape[0] < wt.shape[1]:
        columns_times(x, wt, out, min(blocks, wt.shape[1]))
    else:
        rows_times_plain(x, wt, out, blocks)


@njit(cache=True, error_model="numpy")
def input_grad_t(delta, wt, out, threads):
    # input_grad on weights held transposed: out = delta wt^T. delta: (b, n_out);
    # wt: (n_in, n_out); out: (b, n_in)
    blocks = row_blocks(delta.shape[0], delta.shape[1], wt.shape[0], threads)
    if blocks == 1:
        matmul(delta, wt.T, out, 1.0, 0.0)
    else:
        rows_times(delta, wt, out, blocks)


@njit(cache=True, error_model="numpy")
def weight_step_t(delta, x, wt, scratch, kind, first, second, h, threads):
    # weight_step on weights held transposed: BP4 x^T delta with the rule on wt. delta:
    # (b, n_out); x: (b, n_in), read transposed in place; wt, scratch: (n_in, n_out); first,
    # second: wt's state in wt's order
    b, n_in = x.shape
    blocks = row_blocks(n_in, b, delta.shape[1], threads)
    return rows_step(x.T, delta, wt.reshape(wt.size), scratch, kind, first, second, h, blocks)


@njit(cache=True, error_model="numpy")
def transposed(a, rows, cols):
    # a, (rows, cols) in C order (any shape of that size, or (0,): no state), as a new flat
    # array in the order of its transpose, (cols, rows)
    if a.size == 0:
        return np.empty(0, a.dtype)
    return np.ascontiguousarray(a.reshape((rows, cols)).T).reshape(rows * cols)


@njit(cache=True, error_model="numpy")
def restore(a, at, rows, cols):
    # a = at transposed back: at (flat, the (cols, rows) order of transposed) into a (rows, cols)
    if a.size > 0:
        a.reshape((rows, cols))[:] = at.reshape((cols, rows)).T


@njit(cache=True, error_model="numpy")
def gather(x, t, order, lo, hi, xb, tb):
    # Batch rows: xb[r] = x[order[lo + r]], tb[r] = t[order[lo + r]]. x: (n, n_in); t: (n, n_out)
    for r in range(hi - lo):
        j = order[lo + r]
        for c in range(x.shape[1]):
            xb[r, c] = x[j, c]
        for c in range(t.shape[1]):
            tb[r, c] = t[j, c]


@njit(cache=True, error_model="numpy", parallel=True)
def gather_blocks(x, t, order, lo, hi, xb, tb, blocks):
    # gather in blocks of rows, one per thread: the rows come from memory (the data set is larger
    # than the cache), and two threads fetch more at once (the MLP: 22 -> 16 us, kernel_micro.py)
    for block in prange(blocks):
        first, last = block * (hi - lo) // blocks, (block + 1) * (hi - lo) // blocks
        gather(x, t, order, lo + first, lo + last, xb[first:last], tb[first:last])


@njit(cache=True, error_model="numpy")
def gather_batch(x, t, order, lo, hi, xb, tb, threads):
    # gather, in blocks.reduction_blocks of its values (one block: no parallel region)
    blocks = reduction_blocks((hi - lo) * x.shape[1], hi - lo, threads)
    if blocks == 1:
        gather(x, t, order, lo, hi, xb, tb)
    else:
        gather_blocks(x, t, order, lo, hi, xb, tb, blocks)


@njit(cache=True, error_model="numpy")
def count_correct(out, labels, order, lo):
    # metrics.correct_count: one output thresholded at 0.5, else np.argmax (a NaN counts as the
    # maximum); labels: (n,), or (0,) when the data have none
    if labels.shape[0] == 0:
        return 0
    hits = 0
    for r in range(out.shape[0]):
        best = 0
        if out.shape[1] == 1:
            best = 1 if out[r, 0] >= 0.5 else 0
        elif not math.isnan(out[r, 0]):
            top = out[r, 0]
            for k in range(1, out.shape[1]):
                if math.isnan(out[r, k]):
                    best = k
                    break
                if out[r, k] > top:
                    best, top = k, out[r, k]
        hits += 1 if best == labels[order[lo + r]] else 0
    return hits
'''


@dataclass(frozen=True)
class _Plan:
    """The dense network a generated epoch function is printed for."""

    hidden: tuple[HiddenLayer, ...]
    output: OutputLayer
    dtype: str  # float32 or float64

    @property
    def drawn(self) -> int:
        """Uniforms drawn per sample and step: the widths of the layers with dropout."""
        return sum(width for layer, width in zip(self.hidden, self.widths[1:])
                   if layer.dropout > 0.0)

    @property
    def weights(self) -> list[DenseWeights]:
        """Every dense layer's weights, bottom first (the output layer's last)."""
        widths = self.widths
        return [DenseWeights(i, widths[i], widths[i + 1], self.dtype)
                for i in range(len(widths) - 1)]

    @property
    def widths(self) -> list[int]:
        """n_in of the first layer, then every layer's n_out."""
        specs = [layer.spec for layer in self.hidden]
        assert all(isinstance(spec, Dense) for spec in specs)  # dense_plan admits no other
        first = specs[0] if specs else self.output.spec
        assert isinstance(first, Dense)
        return [first.n_in, *(spec.n_out for spec in specs if isinstance(spec, Dense)),
                self.output.spec.n_out]


def dense_plan(request: ChunkRequest) -> _Plan | None:
    """The plan for a dense network (its dropout masks drawn from ``request.rng``), or None
    (the loop steps instead)."""
    if request.x.dtype.name not in ("float32", "float64"):
        return None
    hidden: list[HiddenLayer] = []
    for layer in request.layers:
        if isinstance(layer, FlattenLayer) and not hidden:
            continue  # the input, flattened: gathered as rows of features
        if not (isinstance(layer, HiddenLayer) and isinstance(layer.spec, Dense)
                and isinstance(layer.act, RowActivation)
                and (layer.dropout == 0.0 or request.rng is not None)):
            return None
        hidden.append(layer)
    if not isinstance(request.output, OutputLayer):
        return None
    return _Plan(tuple(hidden), request.output, request.x.dtype.name)


def output_kernel(output: OutputLayer) -> tuple[Any, str]:
    """The generated output module and its fused BP1 function's name."""
    if output.activation == "softmax":
        return output.kernels.softmax_ce(), "softmax_ce_layer"
    return output.kernels.output(output.activation, output.loss), "output_layer"


def module_digest(module: Any) -> str:
    """The first 16 hex digits of the SHA-256 of a module's file (a generated source names the
    static modules Numba compiles into it by these)."""
    return hashlib.sha256(Path(module.__file__).read_bytes()).hexdigest()[:16]


# what a generated epoch imports from the steps module
STEP_NAMES = ("count_correct", "dense_forward", "dense_forward_t", "gather_batch", "input_grad",
              "input_grad_t", "reduction_blocks", "restore", "transposed", "weight_step",
              "weight_step_t")
STEPS_ORIGIN = "the templates of kernels/cpu/epoch.py"  # its module header


def steps_source(dense: ModuleType) -> str:
    """The generated module of the steps every model's epoch function shares (compiled once per
    dtype, not per model): dense.py's products with their block split, BP4 with the rule, the
    batch gather and the count of correct predictions."""
    lines = [blas.import_line().rstrip("\n"),
             f"# dense.py sha256 {module_digest(dense)}: its kernels are compiled into this module",
             f"from {dense.__name__} import _features_times as features_times",
             f"from {dense.__name__} import _rows_times as rows_times",
             f"from {dense.__name__} import _rows_times_plain as rows_times_plain",
             f"from {dense.__name__} import _columns_times as columns_times",
             f"from {update_module().__name__} import rows_step",
             "", f"SPLIT_MIN_FLOPS = {SPLIT_MIN_FLOPS}  # blocks.py",
             f"REDUCE_SPLIT_MIN = {REDUCE_SPLIT_MIN}  # blocks.py", "", ""]
    title = "The steps of a compiled epoch of a dense network (kernels/cpu/epoch.py)."
    return fit_lines(module_header(title, STEPS_ORIGIN) + "\n".join(lines) + _HELPERS.lstrip("\n"))


def _imports(plan: _Plan) -> str:
    out_module, out_name = output_kernel(plan.output)
    steps = load_source("epoch_steps", steps_source(plan.output.kernels.dense))
    lines = [f"from {steps.__name__} import {', '.join(STEP_NAMES)}",
             f"from {update_module().__name__} import bias_step, delta_bias_step",
             f"from {out_module.__name__} import {out_name} as output_layer"]
    lines += [f"from {layer.act.module.__name__} import bias_act_rows as act{i}"
              for i, layer in enumerate(plan.hidden)]
    if plan.drawn:
        lines.append(f"from {plan.output.kernels.dropout().__name__} import dropout as drop")
    return "\n".join(lines) + "\n\n\n"


def _forward(plan: _Plan) -> list[str]:
    """The step's forward pass and loss; h names each layer's input."""
    widths, lines, h = plan.widths, [], "xb"
    for i, layer in enumerate(plan.hidden):
        lines += [f"# {layer.prefix}: dense {widths[i]} -> {widths[i + 1]}, {layer.activation}",
                  f"z{i}, a{i}, d{i} = z{i}_all[:b], a{i}_all[:b], d{i}_all[:b]",
                  plan.weights[i].forward(h, f"z{i}"),
                  f"act{i}(z{i}, biases[{i}], a{i}, d{i})  # a = g(z + b), d = g'(z + b)"]
        if layer.dropout > 0.0:  # HiddenLayer.forward: the mask from rng.random(a.size)
            size = f"b * {widths[i + 1]}"
            lines += [(f"drop(u[at:at + {size}], keeps[{i}], a{i}.reshape({size}), "
                       f"d{i}.reshape({size}))"),
                      f"at += {size}"]
        h = f"a{i}"
    return lines + output_forward(plan.output, h, plan.weights[-1])


@dataclass(frozen=True)
class DenseWeights:
    """The calls on dense weights ``index`` (n_out, n_in) that a generated epoch prints. A wide
    layer's (blocks.epoch_transposes) are held transposed for the chunk: copied once into
    ``wt{index}``, (n_in, n_out), with their optimiser state (``wf``, ``ws``) in that order, and
    copied back after the loop. The products then read every operand along rows, and each value
    is the same sum as stepping gives (tests/kernels/test_epoch.py)."""

    index: int
    n_in: int
    n_out: int
    dtype: str  # the network's, float32 or float64

    @property
    def transposed(self) -> bool:
        return epoch_transposes(self.n_out, self.dtype)

    def _matrix(self, name: str) -> str:
        return f"{name}[{self.index}].reshape(({self.n_out}, {self.n_in}))"

    def forward(self, h: str, z: str) -> str:
        if self.transposed:
            return f"dense_forward_t({h}, wt{self.index}, {z}, threads)"
        return f"dense_forward({h}, {self._matrix('weights')}, {z}, threads)"

    def input_grad(self, delta: str, g: str) -> str:
        if self.transposed:
            return f"input_grad_t({delta}, wt{self.index}, {g}, threads)"
        return f"input_grad({delta}, {self._matrix('weights')}, {g}, threads)"

    def weight_step(self, delta: str, x: str) -> str:
        """BP4 + the rule on W (``bad +=`` its count)."""
        i, rule = self.index, RULE_ARGS.format("w", self.index, "hw")
        if self.transposed:
            return (f"bad += weight_step_t({delta}, {x}, wt{i}, w_grad[{i}].reshape(({self.n_in}, "
                    f"{self.n_out})), kind, wf{i}, ws{i}, hw, threads)")
        return (f"bad += weight_step({delta}, {x}, {self._matrix('weights')}, "
                f"{self._matrix('w_grad')}, {rule}, threads)")

    def held(self) -> list[str]:
        """Before the loop: the transposed copies (none for a layer held as it is)."""
        if not self.transposed:
            return []
        i, shape = self.index, f"{self.n_out}, {self.n_in}"
        return [(f"wt{i} = transposed(weights[{i}], {shape}).reshape(({self.n_in}, "
                 f"{self.n_out}))  # W^T for the chunk (blocks.epoch_transposes)"),
                f"wf{i}, ws{i} = transposed(w_first[{i}], {shape}), transposed(w_second[{i}], {shape})"]

    def restored(self) -> list[str]:
        """After the loop: the weights and their state copied back."""
        if not self.transposed:
            return []
        i, shape = self.index, f"{self.n_out}, {self.n_in}"
        return [f"restore(weights[{i}], wt{i}, {shape})",
                f"restore(w_first[{i}], wf{i}, {shape})",
                f"restore(w_second[{i}], ws{i}, {shape})"]


def output_forward(out: OutputLayer, h: str, weights: DenseWeights) -> list[str]:
    """The output layer's z from input ``h``, then BP1 fused with the loss."""
    return [(f"# {out.prefix}: dense {weights.n_in} -> {out.spec.n_out}, {out.activation}, "
             f"{out.loss}"),
            "zo, out, delta = zo_all[:b], out_all[:b], delta_all[:b]",
            weights.forward(h, "zo"),
            f"loss = output_layer(zo, biases[{weights.index}], tb, out, delta, scale / b)  # BP1"]


def output_bias(n_out: int, index: int) -> str:
    """BP3 + the rule on the output layer's bias ``index``."""
    return (f"bad += bias_step(delta.reshape((b, {n_out}, 1)), biases[{index}], "
            f"b_grad[{index}], {RULE_ARGS.format('b', index, 'hb')}, "
            f"reduction_blocks(b * {n_out}, {n_out}, threads))")


def output_buffers(n_out: int, dtype: str) -> list[str]:
    """The output layer's z, output and delta: (batch, n_out) each."""
    return [f"{name}_all = np.empty((batch, {n_out}), {dtype})" for name in ("zo", "out", "delta")]


def _backward(plan: _Plan) -> list[str]:
    """BP3 + rule on b, dL/dx from the weights before their step, BP4 + rule on W; top first."""
    widths, last = plan.widths, len(plan.hidden)
    inputs = ["xb", *(f"a{i}" for i in range(last))]
    lines = [output_bias(widths[-1], last)]
    grad = "delta"
    for i in range(last, -1, -1):
        if i < last:
            n = widths[i + 1]
            lines += [f"e{i} = e{i}_all[:b]  # BP2 delta of {plan.hidden[i].prefix}",
                      (f"bad += delta_bias_step(g{i}.reshape((b, {n}, 1)), "
                       f"d{i}.reshape((b, {n}, 1)), e{i}.reshape((b, {n}, 1)), biases[{i}], "
                       f"b_grad[{i}], {RULE_ARGS.format('b', i, 'hb')}, "
                       f"reduction_blocks(b * {n}, {n}, threads))")]
            grad = f"e{i}"
        if i > 0:
            lines += [f"g{i - 1} = g{i - 1}_all[:b]",
                      plan.weights[i].input_grad(grad, f"g{i - 1}")]
        lines.append(plan.weights[i].weight_step(grad, inputs[i]))
    return lines


def _buffers(plan: _Plan) -> list[str]:
    widths, dtype = plan.widths, f"np.{plan.dtype}"
    lines = [f"xs = np.empty((batch, {widths[0]}), {dtype})  # the gathered batch",
             f"ts = np.empty((batch, {widths[-1]}), {dtype})"]
    for i in range(len(plan.hidden)):
        lines += [f"{name}{i}_all = np.empty((batch, {widths[i + 1]}), {dtype})"
                  for name in ("z", "a", "d", "g", "e")]
    lines += output_buffers(widths[-1], dtype)
    return lines + [line for weights in plan.weights for line in weights.held()]


SIGNATURE = '''
@njit(cache=True, error_model="numpy")
def train_chunk(order, batch, first, last, hypers, threads, x, t, labels, scale, u, keeps, kind,
                weights, biases, w_first, w_second, b_first, b_second, w_grad, b_grad, losses,
                counts):
    # Batches first..last-1 of the epoch's order (batch i: order[i*batch:(i+1)*batch]), one
    # training step each. hypers: (last-first, 2, 8) the rule's rows [weights, biases] per step;
    # u: the dropout layers' uniforms, step by step and layer by layer; keeps: per hidden layer,
    # 1 - dropout; losses: (last-first,) the mean batch losses out; counts out: [steps done,
    # correct, bad]. Stops after a non-finite loss (before its backward pass) or update.
    n, at = x.shape[0], 0
'''

LOOP = '''    done, correct, bad = 0, 0, 0
    for i in range(first, last):
        lo, hi = i * batch, min(i * batch + batch, n)
        b = hi - lo
        hw, hb = hypers[i - first, 0], hypers[i - first, 1]
        xb, tb = xs[:b], ts[:b]
        gather_batch(x, t, order, lo, hi, xb, tb, threads)
'''

AFTER_FORWARD = '''        losses[i - first] = loss
        done += 1
        if not math.isfinite(loss):
            break
        correct += count_correct(out, labels, order, lo)
'''

def end(restores: list[str]) -> str:
    """The loop's end, then the held weights copied back (DenseWeights.restored), then the
    counts."""
    return ("        if bad > 0:\n            break\n"
            + "".join(f"    {line}\n" for line in restores)
            + "    counts[0], counts[1], counts[2] = done, correct, bad\n")


def epoch_source(plan: _Plan) -> str:
    """The generated module of ``train_chunk`` for this plan (the shared steps loaded)."""
    def indent(lines: list[str], depth: int) -> str:
        return "".join(" " * depth + line + "\n" for line in lines)

    title = "A chunk of training steps of a dense network: " + \
        "-".join(map(str, plan.widths)) + f" ({plan.dtype})."
    origin = "the lowered layers (kernels/cpu/epoch.py)"
    return fit_lines(module_header(title, origin) + _imports(plan) + SIGNATURE.lstrip("\n")
                     + indent(_buffers(plan), 4) + LOOP + indent(_forward(plan), 8)
                     + AFTER_FORWARD + indent(_backward(plan), 8)
                     + end([line for weights in plan.weights for line in weights.restored()]))


@dataclass
class CpuChunkTrainer:
    """Runs chunks of an epoch through the generated ``train_chunk`` (kernels/chunks.py)."""

    function: Callable[..., None]
    request: ChunkRequest
    prefixes: tuple[str, ...]  # the dense layers' parameter prefixes, bottom first
    scale: float  # the loss's vector-form factor (1 for softmax-CE)
    keeps: tuple[float, ...]  # per hidden layer, 1 - its dropout (as HiddenLayer.forward has it)
    drawn: int  # uniforms per sample and step (the dropout layers' widths)

    def train_chunk(self, order: np.ndarray, batch: int, first: int, last: int,
                    lr_scales: np.ndarray) -> ChunkResult:
        """Batches first..last-1, in pieces whose dropout uniforms fit MAX_DRAWS (one piece
        without dropout); stops after a failed batch."""
        n = self.request.x.shape[0]
        piece = max(1, MAX_DRAWS // max(1, batch * self.drawn))
        losses: list[float] = []
        correct = bad = 0
        for start in range(first, last, piece):
            stop = min(last, start + piece)
            done, hits, bad = self._piece(order, batch, start, stop,
                                          lr_scales[start - first:stop - first])
            losses += done
            correct += hits
            if len(done) < stop - start or bad or not math.isfinite(done[-1]):
                break
        sizes = [min(batch, n - i * batch) for i in range(first, first + len(losses))]
        return ChunkResult(len(losses), sum(loss * size for loss, size in zip(losses, sizes)),
                           sum(sizes), correct, losses[-1] if losses else 0.0, bad,
                           np.array(losses))

    def _piece(self, order: np.ndarray, batch: int, first: int, last: int,
               lr_scales: np.ndarray) -> tuple[list[float], int, int]:
        """One call of the generated loop: (batch losses, correct, bad of the last batch)."""
        request, n = self.request, self.request.x.shape[0]
        hypers = request.hypers(lr_scales)  # (K, 2, 8); counts K optimiser steps
        samples = min(n, last * batch) - first * batch
        u = (request.rng.random(samples * self.drawn) if request.rng is not None and self.drawn
             else _NO_DRAWS)  # the uniforms rng.random gives the steps' dropout, in order
        losses, counts = np.zeros(last - first), np.zeros(3, dtype=np.int64)
        self.function(order, batch, first, last, hypers, _threads(), request.x.reshape(n, -1),
                      request.t, _labels(request.labels), self.scale, u, self.keeps,
                      *self._bound(), losses, counts)
        steps, correct, bad = (int(c) for c in counts)
        return losses[:steps].tolist(), correct, bad

    def _bound(self) -> tuple[Any, ...]:
        """The rule's kind, then per dense layer (tuples, bottom first) the weights, biases,
        their state slots and their gradient buffers, read afresh from the request's dicts."""
        params, updates = self.request.params, self.request.updates
        weights = tuple(f"{prefix}.weight" for prefix in self.prefixes)
        biases = tuple(f"{prefix}.bias" for prefix in self.prefixes)
        kind = int(updates.rules[weights[0]].kind)
        return (kind, tuple(params[k] for k in weights), tuple(params[k] for k in biases),
                tuple(updates.rules[k].first for k in weights),
                tuple(updates.rules[k].second for k in weights),
                tuple(updates.rules[k].first for k in biases),
                tuple(updates.rules[k].second for k in biases),
                tuple(updates.buffers[k] for k in weights),
                tuple(updates.buffers[k] for k in biases))


def _threads() -> int:
    """The thread count the block split uses (blocks.thread_blocks)."""
    return int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]


_NO_DRAWS = np.zeros(0)  # no dropout: no uniforms
MAX_DRAWS = 1 << 20  # dropout uniforms drawn per call at most (8 MB)


def _labels(labels: np.ndarray | None) -> np.ndarray:
    return np.zeros(0, dtype=np.int64) if labels is None else labels


STEPS_ROLE = ("the compiled epoch's shared steps: the batch gather, the BLAS products with their "
              "block split, BP4 fused with the update, the count of correct predictions")
EPOCH_ROLE = ("the compiled epoch: a chunk of training steps, each calling the kernels above "
              "layer by layer (the forward pass, BP1, then BP3, BP2 and BP4 with the update)")


def chunk_sources(request: ChunkRequest) -> list[tuple[str, str, str]]:
    """The two generated modules of a dense network's epoch, as (name, role, source): the steps
    every model's epoch shares and ``train_chunk``; [] for any other network."""
    plan = dense_plan(request)
    if plan is None:
        return []
    return [("epoch steps", STEPS_ROLE, steps_source(plan.output.kernels.dense)),
            ("epoch", EPOCH_ROLE, epoch_source(plan))]


def chunk_trainer(request: ChunkRequest) -> CpuChunkTrainer | None:
    """A trainer for a dense network (the generated function loaded, compiled on first use), or
    None for any other."""
    plan = dense_plan(request)
    if plan is None:
        return None
    # start Numba's thread pool: the compiled loop calls parallel kernels, and code loaded from
    # the cache links against the pool's symbols (allocate_sched, ...), which only its launch
    # registers ("LLVM ERROR: Symbol not found" otherwise, in a process that ran no parallel
    # kernel yet)
    numba.get_num_threads()
    module = load_source("epoch", epoch_source(plan))
    prefixes = (*(layer.prefix for layer in plan.hidden), plan.output.prefix)
    scale = 1.0 if plan.output.activation == "softmax" else plan.output.loss_scale
    keeps = tuple(1.0 - layer.dropout for layer in plan.hidden) or (1.0,)
    return CpuChunkTrainer(module.train_chunk, request, prefixes, scale, keeps, plan.drawn)
