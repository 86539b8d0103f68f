"""Scalar bodies printed from derive/ for the softmax-CE and dropout kernels, for any backend.

Each function is printed by :func:`chainrule.kernels.printer.print_function` from an expression of
:mod:`chainrule.derive.layers.softmax` (the partition term e^{z−m}, s = e^{z−m}/Σ, the CE term
−t((z − m) − ln Σ)), :mod:`chainrule.derive.output_delta` (δ = s − t) and
:mod:`chainrule.derive.layers.dropout` (y = μa/p, ∂C/∂a = μ(∂C/∂y)/p), exactly as the activations'
g and g' are printed; the CPU modules pass ``@njit``, the CUDA modules ``@cuda.jit(device=True)``.
The row loop both softmax kernels share (its maximum and partition sum, ``row_shift``) is here too;
the other loops around them (rows, sums) are the kernels' templates.
"""

from __future__ import annotations

import sympy as sp

from chainrule.derive.layers import dropout as ddrop
from chainrule.derive.layers import softmax as dsoft
from chainrule.derive.output_delta import S, output_delta
from chainrule.kernels.printer import print_function

_SOURCE = "derive/layers/softmax.py"


def softmax_ce_functions(decorator: str) -> str:
    """partition_term, log_partition, softmax_unit, ce_term and softmax_ce_delta."""
    delta = output_delta("linear", "softmax_ce")
    shifted, total, log_total, t = dsoft.SHIFTED, dsoft.TOTAL, dsoft.LOG_TOTAL, dsoft.TARGET
    parts = [
        print_function("partition_term", [shifted], dsoft.partition_term(), decorator=decorator,
                       comment=f"e^(z_k - m): a term of the row's sum  ({_SOURCE})"),
        print_function("log_partition", [total], sp.log(total), decorator=decorator,
                       comment=f"ln sum_k e^(z_k - m)  ({_SOURCE})"),
        print_function("softmax_unit", [shifted, total], dsoft.softmax_unit(), decorator=decorator,
                       comment=f"s_i = {dsoft.softmax_unit()}  ({_SOURCE}: softmax)"),
        print_function("ce_term", [shifted, log_total, t], dsoft.cross_entropy_term(),
                       decorator=decorator,
                       comment=f"-t_i ln s_i = {dsoft.cross_entropy_term()}  ({_SOURCE})"),
        print_function("softmax_ce_delta", [S, t], delta, decorator=decorator,
                       comment=f"BP1: dL/dz_k = {delta}  (derive/output_delta.py: "
                               "softmax_ce_delta)"),
    ]
    return "\n\n".join(parts)


def softmax_of_term_function(decorator: str) -> str:
    """softmax_of_term(term, total): s_i from the partition term a kernel already computed."""
    return print_function("softmax_of_term", [dsoft.TERM, dsoft.TOTAL], dsoft.softmax_of_term(),
                          decorator=decorator,
                          comment=f"s_i = {dsoft.softmax_of_term()}, term = e^(z_i - m)  "
                                  f"({_SOURCE}: softmax)")


def row_shift_function(decorator: str) -> str:
    """row_shift(z, b, n): the row's maximum m and Σ_k partition_term(z + b − m), the loop both
    backends' softmax kernels start each row with (the shift keeps e^x finite)."""
    return f'''
{decorator}
def row_shift(z, b, n):
    # Row n of z + b: its maximum m, and sum_k partition_term(z + b - m) (the shift keeps exp finite)
    top = -math.inf
    for k in range(z.shape[1]):
        top = max(top, z[n, k] + b[k])
    total = 0.0
    for k in range(z.shape[1]):
        total += partition_term(z[n, k] + b[k] - top)
    return top, total
'''


def dropout_functions(decorator: str) -> str:
    """dropout_forward (y = μa/p) and dropout_backward (∂C/∂a = μg/p)."""
    mu, unit_a, unit_g, keep = ddrop.MU, ddrop.UNIT_A, ddrop.UNIT_GRAD, ddrop.KEEP
    return "\n\n".join([
        print_function("dropout_forward", [mu, unit_a, keep], ddrop.unit_forward(),
                       decorator=decorator,
                       comment=f"y = {ddrop.unit_forward()}  (derive/layers/dropout.py: forward)"),
        print_function("dropout_backward", [mu, unit_g, keep], ddrop.unit_backward(),
                       decorator=decorator,
                       comment=f"dC/da = {ddrop.unit_backward()}  (derive/layers/dropout.py)"),
    ])
