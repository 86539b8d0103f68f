"""Generated output-layer kernels: bias + activation + loss + δ (BP1) fused in one pass.

δ = ∂L/∂z comes from :func:`chainrule.derive.output_delta.output_delta` (``sympy.diff`` of the loss
through the activation, e.g. σ + BCE → a − t, softmax + CE → s − t; Bishop, *PRML*, §4.3) and the
loss from ``get_loss(name).scalar``; both are printed, never typed. The factor that turns the sum
over output units into the loss's vector form (1/N for ``mse`` and ``bce``, 1 for ``half_mse``) is
read off ``Loss.vector`` by evaluating it on N units, and the batch mean divides by the batch size.
"""

from __future__ import annotations

from types import ModuleType

from chainrule.errors import ChainruleError
from chainrule.kernels.header import module_header
from chainrule.kernels.index import indexed_module

_FUSED = '''
@njit(cache=True, error_model="numpy")
def output_layer(z, b, t, a, delta, scale):
    # BP1 fused. z, t, a, delta: (batch, n_out); b: (n_out,); scale = (vector-form factor) / batch
    # a = g(z + b); delta = scale * dL/dz; returns the batch-mean loss
    total = 0.0
    for n in range(z.shape[0]):
        for k in range(z.shape[1]):
            zz = z[n, k] + b[k]
            aa = g(zz)
            a[n, k] = aa
            delta[n, k] = scale * output_delta(zz, aa, t[n, k])
            total += unit_loss(aa, t[n, k])
    return total * scale
'''

_SOFTMAX = '''

@njit(cache=True, error_model="numpy", inline="always")
def row_terms(z, b, n, terms):
    # Row n of z + b: its maximum m, terms[k] = partition_term(z + b - m) (float64) and their sum
    # (row_shift, with the terms kept: s_k takes them, so e^x runs once per value, not twice;
    # the MLP's 64 x 10 softmax-CE: 9.6 -> 6.8 us, bench/kernel_micro.py)
    top = -math.inf
    for k in range(z.shape[1]):
        top = max(top, z[n, k] + b[k])
    total = 0.0
    for k in range(z.shape[1]):
        terms[k] = partition_term(z[n, k] + b[k] - top)
        total += terms[k]
    return top, total


@njit(cache=True, error_model="numpy")
def softmax(z, b, s):
    # Inference: s = softmax(z + b) per row, shifted by the row maximum. z, s: (batch, n_out)
    terms = np.empty(z.shape[1])  # (n_out,) one row's partition terms
    for n in range(z.shape[0]):
        top, total = row_terms(z, b, n, terms)
        for k in range(z.shape[1]):
            s[n, k] = softmax_of_term(terms[k], total)


@njit(cache=True, error_model="numpy")
def softmax_ce_layer(z, b, t, s, delta, scale):
    # Softmax + cross-entropy + BP1 fused. z, t, s, delta: (batch, n_out); scale = 1 / batch
    # L = sum_k ce_term: -t_k ln s_k with ln s_k = z_k - m - ln(sum) (no log of a rounded zero)
    loss = 0.0
    terms = np.empty(z.shape[1])  # (n_out,) one row's partition terms
    for n in range(z.shape[0]):
        top, total = row_terms(z, b, n, terms)
        log_total = log_partition(total)
        for k in range(z.shape[1]):
            shifted = z[n, k] + b[k] - top
            sk = softmax_of_term(terms[k], total)
            s[n, k] = sk
            loss += ce_term(shifted, log_total, t[n, k])
            delta[n, k] = scale * softmax_ce_delta(sk, t[n, k])
    return loss * scale
'''


_DROPOUT = '''
@njit(cache=True, error_model="numpy")
def dropout(u, keep, a, d):
    # Training forward with the mask mu_j = [u_j < keep], u uniform on [0, 1): a becomes
    # y = mu a / p, d (= g'(z)) becomes mu g'(z) / p, the dropout factor of BP2. All flat.
    for i in range(a.shape[0]):
        mu = 1.0 if u[i] < keep else 0.0
        a[i] = dropout_forward(mu, a[i], keep)
        d[i] = dropout_backward(mu, d[i], keep)
'''


def loss_factor(loss: str, n_out: int) -> float:
    """The factor c with L_vector = c · Σ_units L_scalar (:meth:`Loss.unit_factor`)."""
    from chainrule.derive.losses import get_loss

    loss_def = get_loss(loss)
    if loss_def.scalar is None:
        raise ChainruleError(f"loss {loss!r} has no per-unit form")
    return loss_def.unit_factor(n_out)


def output_source(activation: str, loss: str) -> str:
    """The generated output-layer module for an activation and a per-unit loss."""
    from chainrule.derive.activations import A, Z, get_activation  # SymPy: only when deriving
    from chainrule.derive.losses import T, get_loss, unit_losses
    from chainrule.derive.output_delta import output_delta
    from chainrule.kernels.printer import print_function

    act, loss_def = get_activation(activation), get_loss(loss)
    if loss_def.name not in unit_losses():
        raise ChainruleError(f"loss {loss!r} cannot train an output layer: expected one of: "
                             f"{', '.join(unit_losses())} (or softmax_ce with a softmax output)")
    delta = output_delta(act.name, loss_def.name)
    return (module_header(f"Output layer: {act.name} activation with {loss_def.name} loss.")
            + print_function("g", [Z], act.expr, comment=f"g(z) = {act.expr}") + "\n\n"
            + print_function("output_delta", [Z, A, T], delta,
                             comment=f"BP1: dL/dz = {delta}  (derive/output_delta.py)") + "\n\n"
            + print_function("unit_loss", [A, T], loss_def.scalar,
                             comment=f"L(a, t) = {loss_def.scalar}  (derive/losses.py)")
            + "\n" + _FUSED)


def softmax_ce_source() -> str:
    """The generated softmax + cross-entropy module: its scalar bodies (the partition term,
    s, the CE term and δ = s − t) printed from derive/ by :mod:`chainrule.kernels.bodies`."""
    from chainrule.kernels.bodies import (  # SymPy: only when deriving
        softmax_ce_functions,
        softmax_of_term_function,
    )

    return (module_header("Output layer: softmax with cross-entropy.")
            + softmax_ce_functions('@njit(cache=True, error_model="numpy")') + "\n\n"
            + softmax_of_term_function('@njit(cache=True, error_model="numpy")') + _SOFTMAX)


def dropout_source() -> str:
    """The generated inverted-dropout module: y = μa/p and ∂C/∂a = μg/p printed from
    derive/layers/dropout.py; μ = 1 where the uniform draw is below the keep probability p."""
    from chainrule.kernels.bodies import (  # SymPy: only when deriving
        dropout_functions,
    )

    return (module_header("Inverted dropout.")
            + dropout_functions('@njit(cache=True, error_model="numpy", inline="always")') + "\n" + _DROPOUT)


def output_module(activation: str, loss: str) -> ModuleType:
    """The module of an output layer, from the cache's index when it knows it (index.py)."""
    def derive() -> tuple[str, str]:
        from chainrule.derive.activations import get_activation
        from chainrule.derive.losses import get_loss

        name = f"out_{get_activation(activation).name}_{get_loss(loss).name}"
        return name, output_source(activation, loss)

    return indexed_module(f"out:{activation}:{loss}", derive)


def dropout_module() -> ModuleType:
    return indexed_module("dropout", lambda: ("dropout", dropout_source()))


def softmax_ce_module() -> ModuleType:
    return indexed_module("softmax_ce", lambda: ("softmax_ce", softmax_ce_source()))
