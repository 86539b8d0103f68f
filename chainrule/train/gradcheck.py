"""Gradient checking: the kernels' backprop gradients against central finite differences.

In float64, each parameter's gradient from :meth:`Network.loss_and_gradients` is compared with
(L(w + ε) − L(w − ε)) / 2ε of the same network's own loss, coordinate by coordinate (CS231n notes,
"Gradient checks"). A parameter's error is max |g − g_fd| / max(|g| + |g_fd|) over the checked
coordinates; for large parameters a seeded random subset of coordinates is checked.

On another device (``cuda``) the gradients come from that device's kernels and the central
differences from the same network on the CPU (float64, the same parameters): an independent
reference, and one device forward and backward pass instead of two per coordinate. A check named
``loss`` then compares the two devices' losses at the unperturbed parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chainrule.derive.spec import ModelSpec
from chainrule.train.network import Network, build_network

TOLERANCE = 1e-6


@dataclass(frozen=True)
class ParamCheck:
    param: str
    rel_err: float
    checked: int  # coordinates compared
    size: int  # coordinates in the parameter


@dataclass(frozen=True)
class GradcheckResult:
    checks: tuple[ParamCheck, ...]
    max_rel_err: float
    passed: bool
    tolerance: float = TOLERANCE

    def to_json(self) -> dict:
        return {"checks": [{"param": c.param, "rel_err": c.rel_err, "checked": c.checked,
                            "size": c.size} for c in self.checks],
                "max_rel_err": self.max_rel_err, "passed": self.passed,
                "tolerance": self.tolerance}


def gradcheck(spec: ModelSpec, *, activation: str | None = None, loss: str = "softmax_ce",
              output_activation: str | None = None, seed: int = 0, samples: int = 2,
              eps: float = 1e-6, max_coords: int = 20, device: str = "cpu") -> GradcheckResult:
    """Check every parameter of a float64 network for ``spec`` on ``samples`` random inputs."""
    def build(on: str) -> Network:
        return build_network(spec, activation=activation, loss=loss,
                             output_activation=output_activation, seed=seed, dtype=np.float64,
                             device=on)

    net = build(device)
    rng = np.random.default_rng(seed + 1)
    net_bias_jitter(net, rng)
    x = rng.standard_normal((samples, *spec.input_shape))
    y = random_targets(net, samples, rng)
    loss_value, grads, _ = net.loss_and_gradients(x, y)
    reference = net if device == "cpu" else build("cpu")
    for name, value in net.params.items():
        reference.params[name][...] = value
    checks = tuple(check_param(reference, name, grads[name], x, y, rng, eps=eps,
                               max_coords=max_coords) for name in net.params)
    if reference is not net:
        checks += (loss_check(loss_value, reference.loss_value(x, y)),)
    worst = max(c.rel_err for c in checks)
    return GradcheckResult(checks, worst, bool(worst < TOLERANCE))


def loss_check(loss: float, reference: float) -> ParamCheck:
    """The device's loss against the CPU's, as a relative error."""
    scale = max(1e-12, abs(loss) + abs(reference))
    return ParamCheck("loss", abs(loss - reference) / scale, 1, 1)


def net_bias_jitter(net: Network, rng: np.random.Generator) -> None:
    """Give the zero-initialised biases small random values, so that they are exercised too."""
    for name, value in net.params.items():
        if name.endswith(".bias"):
            value[...] = 0.1 * rng.standard_normal(value.shape)


def random_targets(net: Network, samples: int, rng: np.random.Generator) -> np.ndarray:
    """One-hot classes for softmax_ce, probabilities in (0, 1) for bce, normals for mse."""
    n_out = net.spec.n_outputs
    if net.loss == "softmax_ce":
        return np.eye(n_out)[rng.integers(0, n_out, samples)]
    if net.loss == "bce":
        return rng.uniform(0.05, 0.95, (samples, n_out))
    return rng.standard_normal((samples, n_out))


def check_param(net: Network, name: str, grad: np.ndarray, x: np.ndarray, y: np.ndarray,
                rng: np.random.Generator, *, eps: float, max_coords: int) -> ParamCheck:
    """Central differences on all coordinates of ``name``, or on ``max_coords`` random ones."""
    value = net.params[name]
    flat = value.reshape(-1)
    picks = (np.arange(flat.size) if flat.size <= 3 * max_coords
             else np.sort(rng.choice(flat.size, max_coords, replace=False)))
    numeric = np.empty(picks.size)
    for slot, index in enumerate(picks):
        old = flat[index]
        flat[index] = old + eps
        up = net.loss_value(x, y)
        flat[index] = old - eps
        down = net.loss_value(x, y)
        flat[index] = old
        numeric[slot] = (up - down) / (2 * eps)
    analytic = grad.reshape(-1)[picks]
    scale = max(1e-12, float(np.max(np.abs(analytic) + np.abs(numeric))))
    return ParamCheck(name, float(np.max(np.abs(analytic - numeric)) / scale), int(picks.size),
                      int(flat.size))
