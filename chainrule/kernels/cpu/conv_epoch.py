"""The CPU's compiled epoch for conv nets: LeNet-5, the two-conv net and their kin step a chunk of
mini-batches in one generated Numba function, with no Python between the kernels (issue 13).

epoch.py does this for dense networks; this module prints the same ``train_chunk`` for a network
of conv layers (im2col or direct loops, as conv.py chooses), pools (max, average, and the average
pool fused into the conv below it), the flatten, dense hidden layers and the dense output layer.
Each layer's lines call the kernels its lowered layer calls in ``Network.train_step``
(kernels/layers.py), in the same order and on the same values, so a chunk gives the parameters of
stepping batch by batch, bit for bit (tests/kernels/test_conv_epoch.py); a wide float32 dense
layer is held transposed as epoch.py holds it (``DenseWeights``), and equals to rounding. The buffers are allocated
once per call instead of once per step, and the Python between the kernels is gone.

Emitters are registered per lowered layer class, as lowerings are per layer kind; a network with
any other layer is left to the step loop. Dropout (on dense layers) takes its masks from the
uniforms the run's generator gives, drawn for many steps at once, as epoch.py does. The
generated source names the digests of conv.py and pool.py, whose kernels Numba compiles into it,
so an edit to either gives a new module (epoch.py's steps module does the same for dense.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numba

from chainrule.derive.spec import Conv2d
from chainrule.kernels.cache import load_source
from chainrule.kernels.chunks import ChunkRequest, ChunkTrainer
from chainrule.kernels.fit_lines import fit_lines
from chainrule.kernels.header import module_header
from chainrule.kernels.layers import (
    ConvAvgPool,
    ConvContraction,
    FlattenLayer,
    HiddenLayer,
    OutputLayer,
    PoolLayer,
    RowActivation,
)
from chainrule.kernels.update import RULE_ARGS, update_module

GRAD = "{G}"  # where a backward block reads the gradient of its output, filled in top down


@dataclass(frozen=True)
class Site:
    """One lowered layer being printed: its index, the index its parameters (if it has any)
    take in the weight tuples, whether the layer below needs its input gradient, and its input's
    name and shape."""

    index: int
    param: int
    need_input_grad: bool
    h: str  # the name of its input, (b, *in_shape)
    in_shape: tuple[int, ...]  # per sample


@dataclass
class Code:
    """What the emitters print: the buffers (allocated once per call), the forward lines of one
    step, and per layer a backward block with the name of the gradient it passes down."""

    dtype: str
    # epoch.DenseWeights: how dense weights (index, n_in, n_out) are printed and held
    dense: Callable[[int, int, int, str], Any]
    buffers: list[str] = field(default_factory=list)
    forward: list[str] = field(default_factory=list)
    backward: list[tuple[list[str], str]] = field(default_factory=list)  # bottom layer first
    imports: list[str] = field(default_factory=list)
    restores: list[str] = field(default_factory=list)  # after the loop (DenseWeights.restored)

    def weights(self, index: int, n_in: int, n_out: int) -> Any:
        """Dense weights ``index``: their held copies before the loop, and back after it."""
        weights = self.dense(index, n_in, n_out, self.dtype)
        self.buffers += weights.held()
        self.restores += weights.restored()
        return weights

    def buffer(self, name: str, shape: tuple[int, ...], comment: str, dtype: str = "") -> None:
        """``{name}_all``: (batch, *shape), sliced to the batch's b samples by the step."""
        dims = ", ".join(["batch", *map(str, shape)])
        self.buffers.append(f"{name}_all = np.empty(({dims}), np.{dtype or self.dtype})"
                            f"  # {comment}")


Emitter = Callable[[Any, Site, Code], tuple[str, tuple[int, ...]]]  # output name and shape
_EMITTERS: dict[type, Emitter] = {}


def emitter(kind: type) -> Callable[[Emitter], Emitter]:
    """Register the decorated function as the printer of a lowered layer class."""
    def register(function: Emitter) -> Emitter:
        _EMITTERS[kind] = function
        return function
    return register


def _layer_buffers(code: Code, j: int, prefix: str, shape: tuple[int, ...]) -> None:
    """z, a = g(z + b), d = g'(z + b) and delta of a layer, each (batch, *shape)."""
    for name, what in (("z", "z"), ("a", "a = g(z + b)"), ("d", "d = g'(z + b)"), ("e", "delta")):
        code.buffer(f"{name}{j}", shape, f"{what} of {prefix}")


def _view(shape: tuple[int, ...]) -> str:
    return ".reshape((" + ", ".join(["b", *map(str, shape)]) + "))"


def _activation(layer: HiddenLayer, j: int, p: int, code: Code, f: int, positions: int) -> None:
    """a = g(z + b), d = g'(z + b): the row kernel for one position, else the channel kernel."""
    row = isinstance(layer.act, RowActivation)
    code.imports.append(f"from {layer.act.module.__name__} import "
                        f"{'bias_act_rows' if row else 'bias_act'} as act{j}")
    view = _view((f,) if row else (f, positions))
    code.forward.append(f"act{j}(z{j}{view}, biases[{p}], a{j}{view}, d{j}{view})"
                        "  # a = g(z + b), d = g'(z + b)")


def _conv_forward(layer: HiddenLayer, site: Site, code: Code) -> tuple[int, int, int]:
    """conv.forward's path and the activation into z{j}, a{j}, d{j}: (b, f, Ho, Wo)."""
    spec = layer.spec
    assert isinstance(spec, Conv2d)
    j, p, k, (c, rows, cols) = site.index, site.param, spec.kernel, spec.in_shape
    f, ho, wo = spec.out_shape
    _layer_buffers(code, j, layer.prefix, (f, ho, wo))
    code.forward += [(f"# {layer.prefix}: conv {c}x{rows}x{cols} -> {f}x{ho}x{wo}, {k}x{k} "
                     f"stride {spec.stride} padding {spec.padding}, {layer.activation}"),
                     f"z{j}, a{j}, d{j} = z{j}_all[:b], a{j}_all[:b], d{j}_all[:b]"]
    if layer.kernels.conv.uses_im2col(c, k):
        width = k * k * c
        code.buffers += [(f"p{j}_all = np.empty((batch * {ho * wo}, {width}), np.{code.dtype})"
                         "  # P, kept for BP4"),
                         f"w2_{j} = np.empty(({f}, {width}), np.{code.dtype})  # W in P's order",
                         f"dw2_{j} = np.empty(({f}, {width}), np.{code.dtype})"]
        code.forward += [f"p{j} = p{j}_all[:b * {ho * wo}]",
                         f"to_window_order(weights[{p}], w2_{j})",
                         (f"patch_forward({site.h}, w2_{j}, {k}, {spec.stride}, {spec.padding}, "
                         f"p{j}, z{j})")]
    elif spec.padding:
        code.buffer(f"xp{j}", (c, rows + 2 * spec.padding, cols + 2 * spec.padding),
                    f"{layer.prefix}'s input, zero-padded")
        code.forward += [f"xp{j} = xp{j}_all[:b]", f"pad_planes({site.h}, {spec.padding}, xp{j})"]
    else:
        code.forward.append(f"xp{j} = {site.h}")
    if not layer.kernels.conv.uses_im2col(c, k):
        code.forward.append(f"wide_forward(xp{j}, weights[{p}], z{j})" if spec.stride == 1
                            else f"direct_forward(xp{j}, weights[{p}], {spec.stride}, z{j})")
    _activation(layer, j, p, code, f, ho * wo)
    return f, ho, wo


def _conv_grads(layer: HiddenLayer, site: Site, code: Code) -> tuple[list[str], str]:
    """ConvContraction.grads on the delta e{j}: dL/dx (if asked) from W before its step, then
    BP4 and the rule on W. Returns the lines and the input gradient's name."""
    spec = layer.spec
    assert isinstance(spec, Conv2d)
    j, p, k, (c, rows, cols) = site.index, site.param, spec.kernel, spec.in_shape
    im2col, lines = layer.kernels.conv.uses_im2col(c, k), []
    if site.need_input_grad:
        code.buffer(f"g{j}", (c, rows, cols), f"dL/dx of {layer.prefix}")
        lines.append(f"g{j} = g{j}_all[:b]")
        if im2col:
            lines.append(f"patch_input_grad(e{j}, w2_{j}, {k}, {spec.stride}, {spec.padding}, "
                         f"g{j})")
        else:
            pad = 2 * spec.padding
            code.buffer(f"dxp{j}", (c, rows + pad, cols + pad), "dL/dx, padded")
            lines += [f"dxp{j} = dxp{j}_all[:b]",
                      f"direct_input_grad(e{j}, weights[{p}], {spec.stride}, dxp{j})",
                      f"unpad_planes(dxp{j}, {spec.padding}, g{j})"]
    if im2col:
        lines += [f"patch_weight_grad(p{j}, e{j}, dw2_{j})",
                  f"from_window_order(dw2_{j}, w_grad[{p}])"]
    else:
        lines.append(f"wide_weight_grad(xp{j}, e{j}, w_grad[{p}])" if spec.stride == 1 else
                     f"direct_weight_grad(xp{j}, e{j}, {spec.stride}, w_grad[{p}])")
    size = spec.filters * c * k * k
    lines.append(f"bad += apply(weights[{p}].reshape({size}), w_grad[{p}].reshape({size}), "
                 f"{RULE_ARGS.format('w', p, 'hw')})  # the rule on W")
    return lines, (f"g{j}" if site.need_input_grad else "")


def _delta_bias(j: int, p: int, f: int, positions: int) -> str:
    """BP2 (delta = dL/da * g'(z)) + BP3 + the rule on b, as ParamUpdates.delta_bias."""
    view = _view((f, positions))
    return (f"bad += delta_bias_step({GRAD}{view}, d{j}{view}, e{j}{view}, biases[{p}], "
            f"b_grad[{p}], {RULE_ARGS.format('b', p, 'hb')}, "
            f"reduction_blocks(b * {f * positions}, {f}, threads))  # BP2 + BP3")


def _dense_grads(layer: HiddenLayer | OutputLayer, site: Site, code: Code, delta: str,
                 n_out: int) -> tuple[list[str], str]:
    """DenseContraction.grads: dL/dx = delta W (if asked), then BP4 + the rule on W."""
    j, n_in = site.index, math.prod(site.in_shape)
    weights = code.dense(site.param, n_in, n_out, code.dtype)
    lines = []
    if site.need_input_grad:
        code.buffer(f"g{j}", site.in_shape, f"dL/dx of {layer.prefix}")
        lines += [f"g{j} = g{j}_all[:b]", weights.input_grad(delta, f"g{j}{_view((n_in,))}")]
    lines.append(weights.weight_step(delta, f"{site.h}{_view((n_in,))}") + "  # BP4 + the rule on W")
    return lines, (f"g{j}" if site.need_input_grad else "")


@emitter(HiddenLayer)
def _hidden(layer: HiddenLayer, site: Site, code: Code) -> tuple[str, tuple[int, ...]]:
    """A conv layer (direct loops or im2col), or a dense one (a dense layer, or a conv whose
    window covers its input); its backward block: BP2 + BP3, dL/dx, BP4."""
    j, p = site.index, site.param
    if isinstance(layer.contraction, ConvContraction):
        f, ho, wo = _conv_forward(layer, site, code)
        lines, down = _conv_grads(layer, site, code)
        code.backward.append(([f"e{j} = e{j}_all[:b]", _delta_bias(j, p, f, ho * wo), *lines],
                              down))
        return f"a{j}", (f, ho, wo)
    out_shape = layer.spec.out_shape
    n_out, n_in = out_shape[0], math.prod(site.in_shape)
    _layer_buffers(code, j, layer.prefix, out_shape)
    weights = code.weights(p, n_in, n_out)
    code.forward += [f"# {layer.prefix}: dense {n_in} -> {n_out}, {layer.activation}",
                     f"z{j}, a{j}, d{j} = z{j}_all[:b], a{j}_all[:b], d{j}_all[:b]",
                     weights.forward(f"{site.h}{_view((n_in,))}", f"z{j}{_view((n_out,))}")]
    _activation(layer, j, p, code, n_out, 1)
    if layer.dropout > 0.0:  # HiddenLayer.forward: the mask from rng.random(a.size)
        code.forward += [(f"drop(u[at:at + b * {n_out}], keeps[{j}], a{j}.reshape(b * {n_out}), "
                         f"d{j}.reshape(b * {n_out}))  # inverted dropout"),
                         f"at += b * {n_out}"]
    lines, down = _dense_grads(layer, site, code, f"e{j}{_view((n_out,))}", n_out)
    code.backward.append(([f"e{j} = e{j}_all[:b]", _delta_bias(j, p, n_out, 1), *lines], down))
    return f"a{j}", out_shape


@emitter(ConvAvgPool)
def _conv_avg_pool(layer: ConvAvgPool, site: Site, code: Code) -> tuple[str, tuple[int, ...]]:
    """The conv, then the average pool; backward: the pool's spread fused into BP2
    (avg_backward_delta), BP3 + the rule on b, then the conv's gradients."""
    j, p, size = site.index, site.param, layer.pool.spec.size
    f, ho, wo = _conv_forward(layer.conv, site, code)
    pooled = layer.pool.spec.out_shape
    code.buffer(f"q{j}", pooled, f"{layer.conv.prefix} pooled")
    code.forward += [f"q{j} = q{j}_all[:b]",
                     f"avg_forward(a{j}, {size}, {layer.pool.spec.stride}, q{j})"]
    lines, down = _conv_grads(layer.conv, site, code)
    view = _view((f, ho * wo))
    code.backward.append(([f"e{j} = e{j}_all[:b]",
                           f"avg_backward_delta({GRAD}, {size}, d{j}, e{j})  # pool + BP2",
                           (f"bad += bias_step(e{j}{view}, biases[{p}], b_grad[{p}], "
                            f"{RULE_ARGS.format('b', p, 'hb')}, "
                            f"reduction_blocks(b * {f * ho * wo}, {f}, threads))  # BP3"),
                           *lines], down))
    return f"q{j}", pooled


@emitter(PoolLayer)
def _pool(layer: PoolLayer, site: Site, code: Code) -> tuple[str, tuple[int, ...]]:
    """Max pooling (with the arg-max kept) or average pooling; backward routes or spreads."""
    j, spec = site.index, layer.spec
    code.buffer(f"q{j}", spec.out_shape, f"pool {j}'s output")
    code.forward.append(f"q{j} = q{j}_all[:b]")
    lines: list[str] = []
    if site.need_input_grad:
        code.buffer(f"g{j}", site.in_shape, f"dL/dx of pool {j}")
        lines.append(f"g{j} = g{j}_all[:b]")
    if spec.mode == "max":
        code.buffer(f"arg{j}", spec.out_shape, "the arg-max of each window", "int64")
        code.forward += [f"arg{j} = arg{j}_all[:b]",
                         f"max_forward({site.h}, {spec.size}, {spec.stride}, q{j}, arg{j})"]
        lines += [f"max_backward({GRAD}, arg{j}, g{j})"] if site.need_input_grad else []
    else:
        code.forward.append(f"avg_forward({site.h}, {spec.size}, {spec.stride}, q{j})")
        lines += ([f"avg_backward({GRAD}, {spec.size}, {spec.stride}, g{j})"]
                  if site.need_input_grad else [])
    code.backward.append((lines, f"g{j}" if site.need_input_grad else ""))
    return f"q{j}", spec.out_shape


@emitter(FlattenLayer)
def _flatten(layer: FlattenLayer, site: Site, code: Code) -> tuple[str, tuple[int, ...]]:
    """A reshape both ways (the buffers are contiguous)."""
    j, n = site.index, math.prod(site.in_shape)
    code.forward.append(f"f{j} = {site.h}{_view((n,))}  # flatten")
    code.backward.append(([f"u{j} = {GRAD}{_view(site.in_shape)}  # unflatten"], f"u{j}"))
    return f"f{j}", (n,)


def _output(out: OutputLayer, site: Site, code: Code, epoch: ModuleType) -> None:
    """The output layer, in epoch.py's lines: z, BP1 fused with the loss, BP3, then dL/dx and
    BP4."""
    p, n_out = site.param, out.spec.n_out
    code.buffers += epoch.output_buffers(n_out, f"np.{code.dtype}")
    weights = code.weights(p, math.prod(site.in_shape), n_out)
    code.forward += epoch.output_forward(out, site.h, weights)
    lines, down = _dense_grads(out, site, code, "delta", n_out)
    code.backward.append(([epoch.output_bias(n_out, p), *lines], down))


@dataclass(frozen=True)
class ConvPlan:
    """The network a generated conv epoch is printed for."""

    layers: tuple[Any, ...]  # the lowered hidden layers, bottom first
    output: OutputLayer
    in_shape: tuple[int, ...]  # one sample
    dtype: str

    @property
    def keeps(self) -> tuple[float, ...]:
        """Per layer, 1 - its dropout (1 for a layer without)."""
        return tuple(1.0 - layer.dropout if isinstance(layer, HiddenLayer) else 1.0
                     for layer in self.layers)

    @property
    def drawn(self) -> int:
        """Dropout uniforms per sample and step: the widths of the layers with dropout."""
        return sum(layer.spec.out_shape[0] for layer in self.layers
                   if isinstance(layer, HiddenLayer) and layer.dropout > 0.0)

    @property
    def prefixes(self) -> tuple[str, ...]:
        """The parameter prefixes, bottom first (the order of the weight tuples)."""
        convs = [layer.conv if isinstance(layer, ConvAvgPool) else layer for layer in self.layers]
        return (*(layer.prefix for layer in convs if isinstance(layer, HiddenLayer)),
                self.output.prefix)


def conv_plan(request: ChunkRequest) -> ConvPlan | None:
    """The plan for a network whose every layer has an emitter, with at least one conv layer
    (dense networks are epoch.py's), its dropout masks drawn from ``request.rng``; or None."""
    if request.x.dtype.name not in ("float32", "float64") or request.x.ndim != 4:
        return None
    if not isinstance(request.output, OutputLayer):
        return None
    for layer in request.layers:
        if type(layer) not in _EMITTERS or (isinstance(layer, HiddenLayer) and layer.dropout
                                            and request.rng is None):
            return None
    if not any(isinstance(layer, ConvAvgPool) or (isinstance(layer, HiddenLayer)
                                                 and isinstance(layer.spec, Conv2d))
               for layer in request.layers):
        return None
    return ConvPlan(tuple(request.layers), request.output, tuple(request.x.shape[1:]),
                    request.x.dtype.name)


_CONV_NAMES = ("patch_forward", "patch_input_grad", "patch_weight_grad", "to_window_order",
               "from_window_order", "pad_planes", "unpad_planes", "wide_forward",
               "direct_forward", "wide_weight_grad", "direct_weight_grad", "direct_input_grad")
_POOL_NAMES = ("max_forward", "max_backward", "avg_forward", "avg_backward", "avg_backward_delta")


def _imports(plan: ConvPlan, code: Code, epoch: ModuleType) -> str:
    """The steps module's, update.py's, the output layer's, conv.py's, pool.py's and the
    activations' kernels, with conv.py's and pool.py's digests."""
    kernels = plan.output.kernels
    out_module, out_name = epoch.output_kernel(plan.output)
    steps = load_source("epoch_steps", epoch.steps_source(kernels.dense))
    lines = [(f"# conv.py sha256 {epoch.module_digest(kernels.conv)}, pool.py sha256 {epoch.module_digest(kernels.pool)}: "
             "their kernels are compiled into this module"),
             f"from {steps.__name__} import {', '.join(epoch.STEP_NAMES)}",
             f"from {update_module().__name__} import apply, bias_step, delta_bias_step",
             f"from {out_module.__name__} import {out_name} as output_layer",
             f"from {kernels.conv.__name__} import {', '.join(_CONV_NAMES)}",
             f"from {kernels.pool.__name__} import {', '.join(_POOL_NAMES)}", *code.imports]
    if plan.drawn:
        lines.append(f"from {kernels.dropout().__name__} import dropout as drop")
    return "\n".join(lines) + "\n\n\n"


def _print_layers(plan: ConvPlan, epoch: ModuleType) -> Code:
    """Every layer's buffers, forward lines and backward block, bottom first."""
    code = Code(plan.dtype, epoch.DenseWeights)
    code.buffers += [(f"xs = np.empty((batch, {math.prod(plan.in_shape)}), np.{plan.dtype})"
                     "  # the gathered batch"),
                     f"ts = np.empty((batch, {plan.output.spec.n_out}), np.{plan.dtype})"]
    code.forward.append(f"x0 = xb{_view(plan.in_shape)}")
    h, shape, param = "x0", plan.in_shape, 0
    for index, layer in enumerate(plan.layers):
        site = Site(index, param, index > 0, h, shape)
        h, shape = _EMITTERS[type(layer)](layer, site, code)
        param += 1 if isinstance(layer, (HiddenLayer, ConvAvgPool)) else 0
    _output(plan.output, Site(len(plan.layers), param, bool(plan.layers), h, shape), code, epoch)
    return code


def _backward_lines(code: Code) -> list[str]:
    """The backward blocks top down, each reading the gradient the block above passed down."""
    lines: list[str] = []
    grad = ""
    for block, down in reversed(code.backward):
        lines += [line.replace(GRAD, grad) for line in block]
        grad = down
    return lines


def conv_epoch_source(plan: ConvPlan, epoch: ModuleType) -> str:
    """The generated module of ``train_chunk`` for this plan, in the loop of ``epoch`` (epoch.py,
    handed over by the backend: a module of kernels/cpu may not import its siblings, whose
    package imports it)."""
    def indent(lines: list[str], depth: int) -> str:
        return "".join(" " * depth + line + "\n" for line in lines)

    code = _print_layers(plan, epoch)
    title = (f"A chunk of training steps of a conv net: {len(plan.layers)} layers on "
             f"{'x'.join(map(str, plan.in_shape))} inputs ({plan.dtype}).")
    origin = "the lowered layers (kernels/cpu/conv_epoch.py)"
    return fit_lines(module_header(title, origin) + _imports(plan, code, epoch)
                     + epoch.SIGNATURE.lstrip("\n") + indent(code.buffers, 4) + epoch.LOOP
                     + indent(code.forward, 8) + epoch.AFTER_FORWARD
                     + indent(_backward_lines(code), 8) + epoch.end(code.restores))


def conv_chunk_sources(request: ChunkRequest, epoch: ModuleType) -> list[tuple[str, str, str]]:
    """The two generated modules of a conv net's epoch, as (name, role, source): epoch.py's
    shared steps and ``train_chunk``; [] for a network this module does not print."""
    plan = conv_plan(request)
    if plan is None:
        return []
    return [("epoch steps", epoch.STEPS_ROLE, epoch.steps_source(plan.output.kernels.dense)),
            ("epoch", epoch.EPOCH_ROLE, conv_epoch_source(plan, epoch))]


def conv_chunk_trainer(request: ChunkRequest, epoch: ModuleType) -> ChunkTrainer | None:
    """A trainer for a conv net (the generated function loaded, compiled on first use) in
    ``epoch``'s loop, or None for a network this module does not print."""
    plan = conv_plan(request)
    if plan is None:
        return None
    numba.get_num_threads()  # the thread pool first: see epoch.chunk_trainer
    module = load_source("conv_epoch", conv_epoch_source(plan, epoch))
    scale = 1.0 if plan.output.activation == "softmax" else plan.output.loss_scale
    return epoch.CpuChunkTrainer(module.train_chunk, request, plan.prefixes, scale,
                                 plan.keeps or (1.0,), plan.drawn)
