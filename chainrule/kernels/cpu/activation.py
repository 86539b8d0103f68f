"""Generated activation kernels: bias + activation + derivative fused in one pass.

g(z) is printed from ``get_activation(name).expr`` and g'(z) from ``Activation.derivative()``
(``sympy.diff``) with g(z) replaced by a wherever the named identity allows (σ' = a(1−a),
tanh' = 1 − a²), so the fused pass reuses the value it just computed. The forward pass stores
d = g'(z), which BP2 (Nielsen, *NNDL*, ch. 2: δˡ = ((wˡ⁺¹)ᵀδˡ⁺¹) ⊙ g'(zˡ)) multiplies later.
"""

from __future__ import annotations

from types import ModuleType

from chainrule.kernels.header import module_header
from chainrule.kernels.index import indexed_module

# g and g' are inlined into the fused loops by Numba itself, so that LLVM sees one loop body and
# vectorises it (called as separate functions, the tanh pass over C1 ran 6 times slower)
INLINE = '@njit(cache=True, error_model="numpy", inline="always")'

_FUSED = '''
@njit(cache=True, error_model="numpy", parallel=True)
def bias_act(z, b, a, d):
    # Fused forward pass. z, a, d: (batch, channels, positions); b: (channels,)
    # a = g(z + b) (layer forward), d = g'(z + b) (kept for BP2: delta = (W^T delta_next) * d)
    for n in prange(z.shape[0]):  # elementwise: samples are independent
        for c in range(z.shape[1]):
            bc = b[c]
            for s in range(z.shape[2]):
                zz = z[n, c, s] + bc
                aa = g(zz)
                a[n, c, s] = aa
                d[n, c, s] = g_prime(zz, aa)


@njit(cache=True, error_model="numpy")
def bias_act_rows(z, b, a, d):
    # bias_act for one position per channel (dense layers): the inner loop runs along the
    # channels, so it vectorises (bias_act's one-position inner loop did not: 50 -> 7 us for
    # LeNet-5's C5). z, a, d: (batch, channels); b: (channels,). Fewer than SERIAL_ROWS_MAX
    # values run in the caller's thread, without a parallel region (the same values)
    if z.size < SERIAL_ROWS_MAX:
        act_rows(z, b, a, d, 0, z.shape[0])
    else:
        act_row_blocks(z, b, a, d)


@njit(cache=True, error_model="numpy", parallel=True)
def act_row_blocks(z, b, a, d):
    for n in prange(z.shape[0]):
        act_rows(z, b, a, d, n, n + 1)


@njit(cache=True, error_model="numpy", inline="always")
def act_rows(z, b, a, d, first, last):
    # rows first..last-1 of bias_act_rows
    for n in range(first, last):
        for c in range(z.shape[1]):
            zz = z[n, c] + b[c]
            aa = g(zz)
            a[n, c] = aa
            d[n, c] = g_prime(zz, aa)


@njit(cache=True, error_model="numpy", parallel=True)
def bias_act_infer(z, b, a):
    # Inference: a = g(z + b) only. z, a: (batch, channels, positions); b: (channels,)
    for n in prange(z.shape[0]):
        for c in range(z.shape[1]):
            bc = b[c]
            for s in range(z.shape[2]):
                a[n, c, s] = g(z[n, c, s] + bc)
'''


def activation_source(name: str) -> str:
    """The generated module for activation ``name``."""
    from chainrule.derive.activations import A, Z, get_activation  # SymPy: only when deriving
    from chainrule.kernels.printer import print_function

    act = get_activation(name)
    derivative = act.derivative()
    from_output = derivative.subs(act.expr, A)
    g = print_function("g", [Z], act.expr, exp="vexp", tanh="vtanh", decorator=INLINE,
                       comment=f"g(z) = {act.expr}  (derive/activations.py: {act.name})")
    g_prime = print_function("g_prime", [Z, A], from_output, exp="vexp", tanh="vtanh",
                             decorator=INLINE,
                             comment=f"g'(z) = d/dz {act.expr} = {derivative}  (sympy.diff, "
                                     f"rule {act.rule!r})\nwith a = g(z): {from_output}")
    return (module_header(f"Activation kernels for {act.name}: {act.description}.")
            + "from chainrule.kernels.cpu.fastexp import vexp  # e^u that vectorises\n"
            + "from chainrule.kernels.cpu.fasttanh import vtanh  # float32 tanh in float32\n\n"
            + serial_rows_line(g + g_prime) + "\n\n" + g + "\n\n" + g_prime + "\n" + _FUSED)


# values of a dense layer's bias + activation pass (bias_act_rows) below which it runs in one
# thread when g and g' call no exp or tanh: the parallel region's start costs more than the
# pass (64 x 128 ReLU values: 4.0 us in two threads, 1.4 us in one, bench/kernel_micro.py; the
# MLP's compiled step 196 -> 193 us), while tanh and sigmoid passes of that size are faster in
# two (4.8 against 3.9 us, 17 against 9.7 us; 2-core AMD EPYC)
SERIAL_ROWS_MAX = 32_768


def serial_rows_line(printed: str) -> str:
    """The module's SERIAL_ROWS_MAX: :data:`SERIAL_ROWS_MAX` where the printed g and g' call no
    exp or tanh (piecewise-linear: ReLU, leaky ReLU, hardlim, linear), else 0 (always split)."""
    cheap = not any(call in printed for call in ("vexp(", "vtanh(", "math."))
    return f"SERIAL_ROWS_MAX = {SERIAL_ROWS_MAX if cheap else 0}  # activation.py: serial_rows_line\n"


def activation_module(name: str) -> ModuleType:
    """The module of ``name``, from the cache's index when it knows it (no SymPy; index.py)."""
    def derive() -> tuple[str, str]:
        from chainrule.derive.activations import get_activation

        return f"act_{get_activation(name).name}", activation_source(name)

    return indexed_module(f"act:{name}", derive)
