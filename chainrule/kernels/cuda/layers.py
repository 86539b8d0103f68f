"""Lowered layers of the CUDA backend: the protocol of kernels/layers.py, on the device.

Each layer keeps device copies of its parameters and device buffers for its activations (one set
per batch shape, allocated once, so that a captured step replays on the same addresses). Its
``*_device`` methods take and return device arrays and copy nothing between host and device; the
training loop's chunk trainer (:mod:`.trainer`) calls only those. The host protocol
(``forward(params, x, ...)``, ``backward(params, grad, updates, ...)``, the output layer's
``predict`` / ``loss_forward``) wraps them for :class:`chainrule.train.network.Network`: a call
uploads the layer's parameters from the host dict (:meth:`load_from_host`), host inputs are
uploaded, arrays pass between layers on the device, and a backward pass with host rules mirrors
them on the device (:class:`.updates.DeviceUpdates`) and writes parameters, optimiser state and
stored gradients back (:meth:`sync_to_host`). So train/ never knows where the arrays live.

The passes are those of the CPU layers (Nielsen, *NNDL*, ch. 2; LeCun et al., 1998): z = x Wᵀ by
the tiled GEMM (dense) or the direct correlation (conv), the fused bias + activation + derivative,
BP2 + BP3 fused with the bias's step, δW for the layer below (from the weights before the step),
then BP4 (δᵀx, or the conv's weight correlation) and the weights' step. Shapes: dense (batch, n);
conv/pool (batch, channels, rows, cols).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule.derive.spec import Conv2d, Dense, Pool2d
from chainrule.kernels.cuda import counters
from chainrule.kernels.cuda.updates import DeviceUpdates, mirror_rules
from chainrule.kernels.fused_step import ParamUpdates
from chainrule.kernels.layers import OutputLayer

Params = dict[str, np.ndarray]
Device = Any  # a numba.cuda device array


def is_device(array: Any) -> bool:
    """Whether ``array`` already lives on the device (a host array is a NumPy array)."""
    return not isinstance(array, np.ndarray)


def as_device(array: Any) -> Device:
    """A device array for ``array``: itself, or a copy of a host array (one transfer)."""
    return array if is_device(array) else counters.to_device(np.ascontiguousarray(array))


def upload_into(dev: Device, host: np.ndarray) -> None:
    """Copy ``host`` into the existing device array ``dev`` (one transfer; the address stays)."""
    counters.COUNTERS.transfers += 1
    dev.copy_to_device(np.ascontiguousarray(host), stream=counters.stream())


@dataclass
class Buffers:
    """Device buffers by (name, shape, dtype), allocated on first use and then reused."""

    arrays: dict[tuple[str, tuple[int, ...], str], Device] = field(default_factory=dict)

    def get(self, name: str, shape: tuple[int, ...], dtype: Any) -> Device:
        key = (name, tuple(int(s) for s in shape), np.dtype(dtype).str)
        if key not in self.arrays:
            self.arrays[key] = counters.device_empty(key[1], dtype)
        return self.arrays[key]


@dataclass
class DeviceParams:
    """The device copies of one layer's weight and bias (``prefix.weight``, ``prefix.bias``)."""

    prefix: str
    arrays: dict[str, Device] = field(default_factory=dict)

    def keys(self) -> list[str]:
        return [f"{self.prefix}.weight", f"{self.prefix}.bias"]

    def load_from_host(self, params: Params) -> None:
        for key in self.keys():
            host = params[key]
            dev = self.arrays.get(key)
            if dev is None or dev.shape != host.shape or dev.dtype != host.dtype:
                self.arrays[key] = counters.to_device(host)
            else:
                upload_into(dev, host)

    def sync_to_host(self, params: Params) -> None:
        for key in self.keys():
            counters.to_host(self.arrays[key], params[key])

    @property
    def weight(self) -> Device:
        return self.arrays[f"{self.prefix}.weight"]

    @property
    def bias(self) -> Device:
        return self.arrays[f"{self.prefix}.bias"]


def _kernels() -> Any:
    """The backend's device kernels (``gemm``, ``conv``, ``pool``), imported when a layer runs."""
    from chainrule.kernels.cuda import conv, gemm, pool
    return type("K", (), {"gemm": gemm, "conv": conv, "pool": pool})




@dataclass
class CudaHidden:
    """A dense or conv layer with its activation (and optional inverted dropout) on the device."""

    spec: Dense | Conv2d
    prefix: str
    act: Any  # the generated CUDA activation module (bias_act, bias_act_infer)
    dropout_module: Any  # the generated CUDA dropout module, or None
    dropout: float = 0.0
    device_params: DeviceParams = field(init=False)
    buffers: Buffers = field(default_factory=Buffers)
    cache: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.device_params = DeviceParams(self.prefix)

    # -- device protocol (the chunk trainer) ------------------------------------------------
    def _linear(self, x: Device) -> Device:
        k, w = _kernels(), self.device_params.weight
        batch = x.shape[0]
        if isinstance(self.spec, Dense):
            z = self.buffers.get("z", (batch, self.spec.n_out), x.dtype)
            k.gemm.matmul_nt(x, w, z)  # (batch, n_out)
            self.cache["xp"] = x
            return z
        pad = self.spec.padding
        xp = x
        if pad:
            c, rows, cols = x.shape[1:]
            xp = self.buffers.get("xp", (batch, c, rows + 2 * pad, cols + 2 * pad), x.dtype)
            k.conv.pad(x, pad, xp)  # (batch, c, H+2p, W+2p)
        self.cache["xp"] = xp
        z = self.buffers.get("z", (batch, *self.spec.out_shape), x.dtype)
        k.conv.forward(xp, w, self.spec.stride, z)  # (batch, f, Ho, Wo)
        return z

    def forward_device(self, x: Device, *, train: bool, uniforms: Device | None = None) -> Device:
        z = self._linear(x)
        shape3 = (z.shape[0], z.shape[1], z.size // (z.shape[0] * z.shape[1]))
        a = self.buffers.get("a", z.shape, z.dtype)
        if not train:
            self.act.bias_act_infer(z.reshape(shape3), self.device_params.bias, a.reshape(shape3))
            return a
        d = self.buffers.get("d", z.shape, z.dtype)
        self.act.bias_act(z.reshape(shape3), self.device_params.bias, a.reshape(shape3),
                          d.reshape(shape3))
        if uniforms is not None and self.dropout > 0.0:
            # inverted dropout printed from derive/layers/dropout.py: μ a / p and μ/p on d
            self.dropout_module.dropout(uniforms, 1.0 - self.dropout, a, d)
        self.cache.update(x=x, d=d)
        return a

    def backward_device(self, grad_a: Device, updates: DeviceUpdates, *,
                        need_input_grad: bool = True) -> Device | None:
        d = self.cache["d"]
        shape3 = (d.shape[0], d.shape[1], d.size // (d.shape[0] * d.shape[1]))
        delta = self.buffers.get("delta", d.shape, d.dtype)
        updates.delta_bias(f"{self.prefix}.bias", self.device_params.bias,
                           grad_a.reshape(shape3), d.reshape(shape3), delta.reshape(shape3))
        return weight_and_input_grads(self, delta, updates, need_input_grad=need_input_grad)

    def uniforms_size(self, batch: int) -> int:
        """How many uniforms one training forward pass's dropout mask reads (0: no dropout)."""
        if self.dropout <= 0.0:
            return 0
        spec = self.spec
        n_out = spec.n_out if isinstance(spec, Dense) else int(np.prod(spec.out_shape))
        return batch * n_out

    # -- host protocol (Network) ------------------------------------------------------------
    def load_from_host(self, params: Params) -> None:
        self.device_params.load_from_host(params)

    def sync_to_host(self, params: Params) -> None:
        self.device_params.sync_to_host(params)

    def forward(self, params: Params, x: Any, *, train: bool,
                rng: np.random.Generator | None = None) -> Device:
        self.load_from_host(params)
        uniforms = None
        if train and rng is not None and self.dropout > 0.0:
            # the CPU layer's float64 draw, uploaded: the same masks on both devices for one seed
            uniforms = counters.to_device(rng.random(self.uniforms_size(x.shape[0])))
        return self.forward_device(as_device(x), train=train, uniforms=uniforms)

    def backward(self, params: Params, grad_a: Any, updates: ParamUpdates, *,
                 need_input_grad: bool = True) -> Device | None:
        # the host rules mirrored on the device, the device pass, then parameters, state and
        # gradients written back
        device_updates = mirror_rules(updates, self.device_params.keys(), params)
        dx = self.backward_device(as_device(grad_a), device_updates,
                                  need_input_grad=need_input_grad)
        device_updates.write_back(updates, params, self.device_params)
        return dx


def weight_and_input_grads(layer: CudaHidden | CudaOutput, delta: Device, updates: DeviceUpdates,
                           *, need_input_grad: bool) -> Device | None:
    """δW (or the conv's input correlation) for the layer below, from the weights before the
    step; then BP4 with the step on W. delta: (batch, n_out) dense, (batch, f, Ho, Wo) conv."""
    k, xp = _kernels(), layer.cache["xp"]
    w, key = layer.device_params.weight, f"{layer.prefix}.weight"
    spec = layer.spec
    if isinstance(spec, Dense):
        dx = None
        if need_input_grad:
            dx = layer.buffers.get("dx", xp.shape, xp.dtype)
            k.gemm.matmul_nn(delta, w, dx)  # (batch, n_out) @ (n_out, n_in)
        updates.dense_weight(key, w, delta, xp)  # BP4 δᵀx + step
        return dx
    dx = None
    if need_input_grad:
        dxp = layer.buffers.get("dxp", xp.shape, xp.dtype)
        k.conv.input_grad(delta, w, spec.stride, dxp)
        dx = dxp
        if spec.padding:
            dx = layer.buffers.get("dx", (xp.shape[0], *spec.in_shape), xp.dtype)
            k.conv.unpad(dxp, spec.padding, dx)
    updates.conv_weight(key, w, xp, delta, spec.stride)  # BP4 correlation + step
    return dx


@dataclass
class CudaOutput(OutputLayer):
    """The last dense layer on the device: z = x Wᵀ, then the generated BP1 kernel (softmax-CE
    or activation + loss), which also writes the batch's mean loss into a device scalar."""

    modules: Any = None  # the generated CUDA module: softmax_ce() or output(activation, loss)
    act_module: Any = None  # the activation module, for predict without softmax
    device_params: DeviceParams = field(init=False)
    buffers: Buffers = field(default_factory=Buffers)

    def __post_init__(self) -> None:
        self.device_params = DeviceParams(self.prefix)

    # -- device protocol --------------------------------------------------------------------
    def _z_device(self, x: Device) -> Device:
        z = self.buffers.get("z", (x.shape[0], self.spec.n_out), x.dtype)
        _kernels().gemm.matmul_nt(x, self.device_params.weight, z)  # (batch, n_out)
        self.cache["xp"] = x
        return z

    def predict_device(self, x: Device) -> Device:
        z, bias = self._z_device(x), self.device_params.bias
        out = self.buffers.get("out", z.shape, z.dtype)
        if self.activation == "softmax":
            self.modules.softmax(z, bias, out)
        else:
            shape3 = (*z.shape, 1)
            self.act_module.bias_act_infer(z.reshape(shape3), bias, out.reshape(shape3))
        return out

    def loss_forward_device(self, x: Device, t: Device) -> tuple[Device, Device]:
        """(loss (1,), predictions (batch, n_out)) on the device; δ (BP1) kept for backward."""
        z, bias = self._z_device(x), self.device_params.bias
        out = self.buffers.get("out", z.shape, z.dtype)
        delta = self.buffers.get("delta", z.shape, z.dtype)
        loss = self.buffers.get("loss", (1,), z.dtype)
        if self.activation == "softmax":
            self.modules.softmax_ce_layer(z, bias, t, out, delta, 1.0 / z.shape[0], loss)
        else:
            self.modules.output_layer(z, bias, t, out, delta, self.loss_scale / z.shape[0], loss)
        self.cache["delta"] = delta
        return loss, out

    def backward_device(self, updates: DeviceUpdates, *, need_input_grad: bool = True
                        ) -> Device | None:
        delta = self.cache["delta"]  # (batch, n_out), BP1
        updates.bias(f"{self.prefix}.bias", self.device_params.bias,
                     delta.reshape(*delta.shape, 1))  # BP3 + step on b
        return weight_and_input_grads(self, delta, updates, need_input_grad=need_input_grad)

    # -- host protocol ----------------------------------------------------------------------
    def load_from_host(self, params: Params) -> None:
        self.device_params.load_from_host(params)

    def sync_to_host(self, params: Params) -> None:
        self.device_params.sync_to_host(params)

    def predict(self, params: Params, x: Any) -> np.ndarray:
        self.load_from_host(params)
        return counters.to_host(self.predict_device(as_device(x)))

    def loss_forward(self, params: Params, x: Any, t: np.ndarray) -> tuple[float, np.ndarray]:
        self.load_from_host(params)
        loss, out = self.loss_forward_device(as_device(x), as_device(t))
        return float(counters.to_host(loss)[0]), counters.to_host(out)

    def backward(self, params: Params, updates: ParamUpdates, *, need_input_grad: bool = True
                 ) -> Device | None:
        keys = self.device_params.keys()
        device_updates = mirror_rules(updates, keys, params)
        dx = self.backward_device(device_updates, need_input_grad=need_input_grad)
        device_updates.write_back(updates, params, self.device_params)
        return dx


class _Parameterless:
    """What a device layer without parameters or dropout shares: nothing to sync, no uniforms,
    and the host-array protocol of kernels/layers.py around its device passes."""

    def forward_device(self, x: Device, *, train: bool, uniforms: Device | None = None
                       ) -> Device:
        raise NotImplementedError

    def backward_device(self, grad: Device, updates: DeviceUpdates, *,
                        need_input_grad: bool = True) -> Device | None:
        raise NotImplementedError

    def uniforms_size(self, batch: int) -> int:
        return 0

    def load_from_host(self, params: Params) -> None:
        """No parameters."""

    def sync_to_host(self, params: Params) -> None:
        """No parameters."""

    def forward(self, params: Params, x: Any, *, train: bool,
                rng: np.random.Generator | None = None) -> Device:
        return self.forward_device(as_device(x), train=train)

    def backward(self, params: Params, grad: Any, updates: ParamUpdates, *,
                 need_input_grad: bool = True) -> Device | None:
        return self.backward_device(as_device(grad), DeviceUpdates.none(),
                                    need_input_grad=need_input_grad)


@dataclass
class CudaPool(_Parameterless):
    """Max or average pooling on the device: no parameters, gradient routed (max) or spread."""

    spec: Pool2d
    buffers: Buffers = field(default_factory=Buffers)
    cache: dict = field(default_factory=dict)

    def forward_device(self, x: Device, *, train: bool, uniforms: Device | None = None) -> Device:
        pool, size, stride = _kernels().pool, self.spec.size, self.spec.stride
        out = self.buffers.get("out", (x.shape[0], *self.spec.out_shape), x.dtype)
        if self.spec.mode == "max":
            arg = self.buffers.get("arg", out.shape, np.int64)
            pool.max_forward(x, size, stride, out, arg)
            self.cache["arg"] = arg
        else:
            pool.avg_forward(x, size, stride, out)
        self.cache["in_shape"] = x.shape
        self.cache["dtype"] = x.dtype
        return out

    def backward_device(self, grad: Device, updates: DeviceUpdates, *,
                        need_input_grad: bool = True) -> Device | None:
        if not need_input_grad:
            return None
        pool = _kernels().pool
        dx = self.buffers.get("dx", self.cache["in_shape"], self.cache["dtype"])
        if self.spec.mode == "max":
            pool.max_backward(grad, self.cache["arg"], dx, self.spec.size, self.spec.stride)
        else:
            pool.avg_backward(grad, self.spec.size, self.spec.stride, dx)
        return dx


@dataclass
class CudaFlatten(_Parameterless):
    """(batch, c, rows, cols) → (batch, c·rows·cols) on the device, as a view; and back."""

    in_shape: tuple[int, ...]

    def forward_device(self, x: Device, *, train: bool, uniforms: Device | None = None) -> Device:
        return x.reshape(x.shape[0], x.size // x.shape[0])

    def backward_device(self, grad: Device, updates: DeviceUpdates, *,
                        need_input_grad: bool = True) -> Device | None:
        return grad.reshape(grad.shape[0], *self.in_shape) if need_input_grad else None


CudaLayer = CudaHidden | CudaPool | CudaFlatten
