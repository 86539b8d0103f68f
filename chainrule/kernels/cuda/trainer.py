"""The CUDA chunk trainer (a :class:`chainrule.kernels.chunks.ChunkTrainer`): many steps per call.

The training data are uploaded once; an epoch's order once per epoch; a chunk's hyperparameter
rows (``request.hypers``: the learning-rate schedule and Adam's corrections, per step) once per
chunk. A step then copies nothing between host and device. Its first kernel gathers its batch and
selects its hyperparameter row on the device, from a device cursor (:data:`CURSOR`); the lowered
layers' device passes follow; the kernel that adds the step's loss and correct count into device
sums also moves the cursor on; the backward pass ends the step. The host reads those sums, the
batch losses and the count of non-finite updates once per chunk, and then copies the parameters
and the optimiser state back into the host arrays that checkpoints read. Because every step reads
only fixed device addresses, a full-batch step can be captured once into a CUDA graph and replayed
(:mod:`.capture`; plain launches in the simulator).

A chunk whose loss or update went non-finite is replayed from its start (the host arrays still hold
the parameters it began with) one step at a time, stopping after the failing step, as the per-step
loop would (``train_step``: a non-finite loss skips its backward pass).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import cuda

from chainrule.kernels.chunks import ChunkRequest, ChunkResult
from chainrule.kernels.cuda import counters
from chainrule.kernels.cuda.capture import StepGraph, capture_step
from chainrule.kernels.cuda.layers import upload_into
from chainrule.kernels.cuda.updates import DeviceUpdates, mirror_rules

THREADS = 256  # one block of the reduction kernel; threads per block of the gathers
LOSS_SUM, CORRECT, LAST_LOSS, BAD_LOSSES = 0, 1, 2, 3  # slots of the device sums (4,) float64
CURSOR = ("batch index in the epoch", "hyperparameter row in the chunk")  # int64 (2,)


@cuda.jit
def set_cursor_kernel(cursor, batch_index):
    # The chunk's first batch: cursor = (batch_index, 0)
    if cuda.grid(1) == 0:
        cursor[0] = batch_index
        cursor[1] = 0


@cuda.jit
def begin_step_kernel(x, t, labels, order, cursor, batch, rows, h, xb, tb, lb, uniforms, drawn,
                      ub):
    # The step's first kernel: its batch gathered from the device data by the epoch's order,
    # xb[j] = x[order[cursor[0] * batch + j]] (and tb, lb likewise), its hyperparameters
    # h (2, 8) = rows[cursor[1]] ([weights, biases]) and its dropout uniforms ub, the chunk's
    # uniforms from step cursor[1] on. x (n, width), t (n, n_out), labels (n, 1); xb (size, width),
    # tb (size, n_out), lb (size, 1) with size <= batch; rows (K, 2, 8); ub (size * drawn,) with
    # drawn the uniforms per sample (0: no dropout)
    i = cuda.grid(1)
    base = cursor[0] * batch
    if i < xb.size:
        row, col = i // xb.shape[1], i % xb.shape[1]
        xb[row, col] = x[order[base + row], col]
    if i < tb.size:
        row, col = i // tb.shape[1], i % tb.shape[1]
        tb[row, col] = t[order[base + row], col]
    if i < lb.shape[0]:
        lb[i, 0] = labels[order[base + i], 0]
    if i < h.size:
        r, c = i // h.shape[1], i % h.shape[1]
        h[r, c] = rows[cursor[1], r, c]
    if drawn > 0 and i < ub.size:
        ub[i] = uniforms[cursor[1] * batch * drawn + i]


@cuda.jit
def accumulate_kernel(out, labels, has_labels, loss, cursor, losses, sums):
    # One block: the batch's correct count, summed in a fixed order (a tree over THREADS partial
    # counts); then sums += (loss * rows, correct), last loss, a count of non-finite losses, and
    # losses[cursor[1]] = loss; then the cursor moves to the next batch and hyperparameter row
    # (the backward pass after this kernel reads neither). out (rows, n_out) predictions;
    # labels (rows, 1) int64; loss (1,) the batch's mean loss; losses (K,) float64, one per step
    tid = cuda.threadIdx.x
    partial = cuda.shared.array(256, dtype=np.int64)
    count = 0
    if has_labels:
        for n in range(tid, out.shape[0], 256):
            best = 0
            if out.shape[1] == 1:
                best = 1 if out[n, 0] >= 0.5 else 0
            else:
                for k in range(1, out.shape[1]):
                    if out[n, k] > out[n, best]:
                        best = k
            if best == labels[n, 0]:
                count += 1
    partial[tid] = count
    cuda.syncthreads()
    step = 128
    while step > 0:
        if tid < step:
            partial[tid] += partial[tid + step]
        cuda.syncthreads()
        step //= 2
    if tid == 0:
        value = loss[0]
        sums[0] += value * out.shape[0]
        sums[1] += partial[0]
        sums[2] = value
        losses[cursor[1]] = value
        cursor[0] += 1
        cursor[1] += 1
        if not math.isfinite(value):
            sums[3] += 1


def _blocks(count: int) -> int:
    return max(1, (count + THREADS - 1) // THREADS)


@dataclass
class StepCounts:
    """What the steps cost, counted by the backend (kernels/cuda/counters.py)."""

    steps: int = 0
    launches: int = 0  # kernel launches inside the steps (a graph replay counts its kernels)
    transfers: int = 0  # host↔device copies inside the steps
    chunk_transfers: int = 0  # copies at the chunks' edges (order, hypers, sums, weights back)
    chunks: int = 0
    graph_steps: int = 0  # steps replayed from a captured CUDA graph
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        steps = max(1, self.steps)
        return {"launches_per_step": self.launches / steps,
                "transfers_per_step": self.transfers / steps,
                "transfers_per_chunk": self.chunk_transfers / max(1, self.chunks),
                "graph_steps": self.graph_steps, "steps": self.steps, "notes": self.notes}


_LATEST: list[StepCounts] = []  # the latest trainer's counts, for `train --format json`


def latest_counts() -> StepCounts | None:
    """The step counts of the latest chunk trainer, or None when none ran."""
    return _LATEST[-1] if _LATEST else None


class CudaChunkTrainer:
    """Binds a :class:`ChunkRequest` to device memory; :meth:`train_chunk` runs its batches."""

    def __init__(self, request: ChunkRequest, *, use_graphs: bool = True) -> None:
        self.request, self.layers, self.output = request, list(request.layers), request.output
        self.params, self.use_graphs = request.params, use_graphs
        n = request.x.shape[0]
        self.x = counters.to_device(np.ascontiguousarray(request.x).reshape(n, -1))  # (n, width)
        self.t = counters.to_device(np.ascontiguousarray(request.t))  # (n, n_out)
        has = request.labels is not None
        labels = request.labels if has else np.zeros(n, dtype=np.int64)
        self.labels = counters.to_device(np.asarray(labels, dtype=np.int64).reshape(n, 1))
        self.has_labels = 1 if has else 0
        self.input_shape = request.x.shape[1:]
        self.order = counters.device_empty(n, np.int64)
        self.order_host: np.ndarray | None = None
        self.cursor = counters.device_zeros(2, np.int64)
        self.sums = counters.device_zeros(4, np.float64)
        self.h = counters.device_zeros((2, 8), np.float64)  # [weights, biases] of this step
        self.rows = counters.device_empty((1, 2, 8), np.float64)
        self.losses = counters.device_empty(1, np.float64)  # (capacity,) the chunk's batch losses
        # dropout: uniforms per sample and step (all layers), the chunk's draws (capacity,)
        self.drawn = sum(layer.uniforms_size(1) for layer in self.layers)
        self.uniforms = counters.device_empty(1, np.float64)
        self.updates = self._device_updates()
        self.batches: dict[int, tuple[Any, Any, Any, Any]] = {}
        self.graph: StepGraph | None = None
        self.graph_key: tuple[int, int, int] | None = None
        self.counts = StepCounts()
        _LATEST[:] = [self.counts]

    def _keys(self) -> list[str]:
        return list(self.params)

    def _device_updates(self) -> DeviceUpdates:
        """The optimiser's rules on the device, bound to the fixed rows of ``h``: biases read row
        1, the other parameters row 0 (the order of ``request.hypers``)."""
        rules = self.request.updates.rules
        hypers = {id(rules[key].hyper): self.h[1 if key.endswith("bias") else 0]
                  for key in self._keys()}
        return mirror_rules(self.request.updates, self._keys(), self.params, hypers)

    # -- the chunk's edges --------------------------------------------------------------------
    def _load(self, order: np.ndarray, rows: np.ndarray, uniforms: np.ndarray | None) -> None:
        """Upload what changed: the epoch's order, this chunk's hyper rows and dropout uniforms,
        the weights and the optimiser state (the host may have been written between chunks)."""
        if self.order_host is None or not np.array_equal(self.order_host, order):
            upload_into(self.order, np.asarray(order, dtype=np.int64))
            self.order_host = np.array(order, copy=True)
        if rows.shape[0] > self.rows.shape[0]:
            capacity = max(rows.shape[0], 2 * self.rows.shape[0])
            self.rows = counters.device_empty((capacity, 2, 8), np.float64)
            self.losses = counters.device_empty(capacity, np.float64)
        upload_into(self.rows[:rows.shape[0]], rows)
        if uniforms is not None:
            if uniforms.size > self.uniforms.size:
                self.uniforms = counters.device_empty(max(uniforms.size, 2 * self.uniforms.size),
                                                      np.float64)
            upload_into(self.uniforms[:uniforms.size], uniforms)
        for layer in [*self.layers, self.output]:
            layer.load_from_host(self.params)
        for key, rule in self.updates.rules.items():
            host = self.request.updates.rules[key]
            for dev, array in ((rule.first, host.first), (rule.second, host.second)):
                if array.size and int(host.kind) != 0:
                    upload_into(dev, array)

    def _store(self) -> None:
        """Weights and optimiser state back into the host arrays."""
        for layer in [*self.layers, self.output]:
            layer.sync_to_host(self.params)
        for key, rule in self.updates.rules.items():
            host = self.request.updates.rules[key]
            for dev, array in ((rule.first, host.first), (rule.second, host.second)):
                if array.size and int(host.kind) != 0:
                    counters.to_host(dev, array)

    # -- one step -----------------------------------------------------------------------------
    def _batch(self, rows: int) -> tuple[Any, Any, Any, Any]:
        """The step's device buffers for ``rows`` samples: inputs, targets, labels, uniforms."""
        if rows not in self.batches:
            self.batches[rows] = (counters.device_empty((rows, self.x.shape[1]), self.x.dtype),
                                  counters.device_empty((rows, self.t.shape[1]), self.t.dtype),
                                  counters.device_empty((rows, 1), np.int64),
                                  counters.device_empty(max(1, rows * self.drawn), np.float64))
        return self.batches[rows]

    def _forward(self, rows: int, batch: int) -> None:
        xb, tb, lb, ub = self._batch(rows)
        threads = max(xb.size, tb.size, self.h.size, ub.size)
        counters.launch(begin_step_kernel, _blocks(threads), THREADS, self.x, self.t, self.labels,
                        self.order, self.cursor, batch, self.rows, self.h, xb, tb, lb,
                        self.uniforms, self.drawn, ub)
        h, offset = xb.reshape(rows, *self.input_shape), 0
        for layer in self.layers:  # each dropout layer reads its part of the step's uniforms
            size = layer.uniforms_size(rows)
            h = layer.forward_device(h, train=True,
                                     uniforms=ub[offset:offset + size] if size else None)
            offset += size
        loss, out = self.output.loss_forward_device(h, tb)
        counters.launch(accumulate_kernel, 1, THREADS, out, lb, self.has_labels, loss, self.cursor,
                        self.losses, self.sums)

    def _backward(self) -> None:
        grad = self.output.backward_device(self.updates, need_input_grad=bool(self.layers))
        for index in range(len(self.layers) - 1, -1, -1):
            grad = self.layers[index].backward_device(grad, self.updates,
                                                      need_input_grad=index > 0)

    def _step(self, rows: int, batch: int) -> None:
        self._forward(rows, batch)
        self._backward()

    def _run_full_step(self, batch: int) -> None:
        """A full batch: replayed from the captured graph when there is one, else launched."""
        key = (batch, id(self.rows), id(self.uniforms))
        if self.use_graphs and self.graph_key != key:
            self.graph_key = key
            self.graph = capture_step(lambda: self._step(batch, batch), self.counts.notes)
        if self.graph is not None and self.graph_key == key:
            self.graph.replay()
            self.counts.graph_steps += 1
        else:
            self._step(batch, batch)

    # -- the chunk ------------------------------------------------------------------------------
    def train_chunk(self, order: np.ndarray, batch: int, first: int, last: int,
                    lr_scales: np.ndarray) -> ChunkResult:
        before = counters.COUNTERS.transfers
        # (K, 2, 8): asking advances the optimiser by K steps, so it is asked once per chunk
        rows = np.ascontiguousarray(self.request.hypers(np.asarray(lr_scales, dtype=np.float64)))
        uniforms = self._draw(order.shape[0], batch, first, last)
        self._load(order, rows, uniforms)
        counters.zero(self.sums)
        counters.zero(self.updates.bad)
        counters.launch(set_cursor_kernel, 1, 1, self.cursor, first)
        n = order.shape[0]
        launches, transfers = counters.COUNTERS.launches, counters.COUNTERS.transfers
        for index in range(first, last):
            size = min(batch, n - index * batch)
            if size == batch and size in self.batches:  # not the first: kernels built, buffers set
                self._run_full_step(batch)
            else:
                self._step(size, batch)
        inside = counters.COUNTERS.transfers - transfers
        self.counts.steps += last - first
        self.counts.launches += counters.COUNTERS.launches - launches
        self.counts.transfers += inside
        sums = counters.to_host(self.sums)
        bad = int(counters.to_host(self.updates.bad)[0])
        if not math.isfinite(sums[LOSS_SUM]) or sums[BAD_LOSSES] or bad:
            return self._replay_failing(order, batch, first, last, rows, uniforms)
        self._store()
        result = self._result(sums, order, batch, first, last, bad)
        self.counts.chunks += 1
        self.counts.chunk_transfers += counters.COUNTERS.transfers - before - inside
        return result

    def _draw(self, n: int, batch: int, first: int, last: int) -> np.ndarray | None:
        """The chunk's dropout uniforms, as ``rng.random`` gives them to the steps one by one
        (per step, per dropout layer, bottom first: the same numbers in the same order)."""
        rng = self.request.rng
        if not self.drawn or rng is None:
            return None
        samples = min(n, last * batch) - first * batch
        return rng.random(samples * self.drawn)  # (samples * drawn,) float64

    def _result(self, sums: np.ndarray, order: np.ndarray, batch: int, first: int, last: int,
                bad: int) -> ChunkResult:
        seen = min(last * batch, order.shape[0]) - first * batch
        losses = counters.to_host(self.losses[:last - first])  # (steps,) one copy per chunk
        return ChunkResult(steps=last - first, loss_sum=float(sums[LOSS_SUM]), seen=int(seen),
                           correct=int(sums[CORRECT]), last_loss=float(sums[LAST_LOSS]),
                           nonfinite=bad, batch_losses=losses)

    def _replay_failing(self, order: np.ndarray, batch: int, first: int, last: int,
                        rows: np.ndarray, uniforms: np.ndarray | None) -> ChunkResult:
        """The chunk again from the host's copy of its start, step by step, reading the loss and
        the non-finite count after each, up to the first step that fails."""
        self.counts.notes.append(f"non-finite values in batches {first}..{last - 1}: replayed "
                                 "step by step to find the first")
        self._load(order, rows, uniforms)  # the chunk's start, from the host arrays
        counters.zero(self.sums)
        counters.zero(self.updates.bad)
        counters.launch(set_cursor_kernel, 1, 1, self.cursor, first)
        n = order.shape[0]
        for index in range(first, last):
            self._forward(min(batch, n - index * batch), batch)
            sums = counters.to_host(self.sums)
            if sums[BAD_LOSSES]:  # the per-step loop skips this step's backward pass
                self._store()
                return self._result(sums, order, batch, first, index + 1, 0)
            self._backward()
            bad = int(counters.to_host(self.updates.bad)[0])
            if bad:
                self._store()
                return self._result(sums, order, batch, first, index + 1, bad)
        self._store()
        return self._result(counters.to_host(self.sums), order, batch, first, last, 0)
