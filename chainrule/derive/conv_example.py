"""A worked convolution (E15): one channel, one K×K kernel, stride and zero padding.

The first output cell is written out term by term, and the whole map is computed by evaluating the
forward equation of :func:`chainrule.derive.layers.conv_layer` (the same expression that is
differentiated there), with C = F = 1 and no bias. Seed 002's 6×6 image with the kernel
[[1,0,1],[0,1,0],[1,0,1]] gives 429 in the first cell. CS231n notes, "Convolutional Networks".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from chainrule.derive.derivation import Step
from chainrule.derive.layers import conv as conv_symbols
from chainrule.derive.layers import conv_layer, evaluate
from chainrule.errors import ChainruleError
from chainrule.limits import MAX_IMAGE  # rows or columns of the image

Matrix = list[list[float]]


@dataclass(frozen=True)
class ConvExample:
    image: Matrix
    kernel: Matrix
    stride: int
    padding: int
    padded: Matrix
    output: Matrix
    steps: tuple[Step, ...]  # the first output cell, term by term

    @property
    def first_cell(self) -> float:
        return self.output[0][0]


def convolve(image: Matrix, kernel: Matrix, *, stride: int = 1, padding: int = 0) -> ConvExample:
    """The worked convolution of ``image`` with ``kernel``; bad shapes raise ChainruleError."""
    _check(image, kernel, stride, padding)
    x = np.asarray(image, dtype=np.float64)[None]  # (1, H, W)
    w = np.asarray(kernel, dtype=np.float64)[None, None]  # (1, 1, K, K)
    k, (h, width) = len(kernel), x.shape[1:]
    h_out, w_out = (h + 2 * padding - k) // stride + 1, (width + 2 * padding - k) // stride + 1
    values = {"x": x, "w": w, "b": np.zeros(1), "C": 1, "F": 1, "K": k, "H": h, "W": width,
              "H_out": h_out, "W_out": w_out, "s": stride, "P": padding}
    forward = conv_layer().equation("forward").rhs
    cs = conv_symbols
    out = evaluate(forward, [(cs.o, 1), (cs.i, h_out), (cs.j, w_out)], values)[0]  # (H', W')
    padded = np.pad(x[0], padding)
    return ConvExample(_rows(image), _rows(kernel), stride, padding, padded.tolist(),
                       out.tolist(), _first_cell_steps(padded, w[0, 0], float(out[0, 0])))


def _first_cell_steps(padded: np.ndarray, kernel: np.ndarray, value: float) -> tuple[Step, ...]:
    k = kernel.shape[0]
    m, n = conv_symbols.m, conv_symbols.n
    w, x = sp.IndexedBase("w"), sp.IndexedBase("x")
    # x·w in the order the numbers are put in (image value, then kernel value)
    general = sp.Sum(_times(x[m, n], w[m, n]), (m, 0, k - 1), (n, 0, k - 1))
    symbolic = sp.Add(*(_times(x[a, b], w[a, b]) for a in range(k) for b in range(k)),
                      evaluate=False)
    terms = [(float(padded[a, b]), float(kernel[a, b])) for a in range(k) for b in range(k)]
    products = sp.Add(*(sp.Mul(_num(xv), _num(wv), evaluate=False) for xv, wv in terms),
                      evaluate=False)
    written = " + ".join(f"{_factor(xv)}·{_factor(wv)}" for xv, wv in terms)
    return (
        Step("sum", general, symbolic, "z[0,0] = Σ_m Σ_n x[m,n]·w[m,n]: the kernel laid on the "
             "top-left window of the (zero-padded) image"),
        Step("product", symbolic, products, "put in the numbers", numeric=written),
        Step("simplify", products, _num(value), "add the products",
             numeric=f"{written} = {_show(value)}", value=value),
    )


def _times(first: sp.Expr, second: sp.Expr) -> sp.Expr:
    """first·second, printed in this order (SymPy would sort w before x)."""
    return sp.Mul(sp.UnevaluatedExpr(first), second, evaluate=False)


def _check(image: Matrix, kernel: Matrix, stride: int, padding: int) -> None:
    for name, matrix in (("image", image), ("kernel", kernel)):
        widths = {len(row) for row in matrix}
        if not matrix or len(widths) != 1 or 0 in widths:
            raise ChainruleError(f"{name} is ragged or empty: row lengths {[len(r) for r in matrix]}")
    if len(image) > MAX_IMAGE or len(image[0]) > MAX_IMAGE:
        raise ChainruleError(f"image is {len(image)}×{len(image[0])}; the limit is "
                             f"{MAX_IMAGE}×{MAX_IMAGE}")
    if len(kernel) != len(kernel[0]):
        raise ChainruleError(f"kernel must be square, got {len(kernel)}×{len(kernel[0])}")
    if stride < 1:
        raise ChainruleError(f"stride must be at least 1, got {stride}")
    if padding < 0:
        raise ChainruleError(f"padding must be 0 or more, got {padding}")
    k = len(kernel)
    rows, cols = len(image) + 2 * padding, len(image[0]) + 2 * padding
    if k > rows or k > cols:
        raise ChainruleError(f"kernel {k}×{k} is larger than the padded image {rows}×{cols}")


def _rows(matrix: Matrix) -> Matrix:
    return [[float(v) for v in row] for row in matrix]


def _num(value: float) -> sp.Expr:
    return sp.Integer(int(value)) if float(value).is_integer() else sp.Float(value, 6)


def _factor(value: float) -> str:
    """A number as a factor of a product: negative ones in parentheses."""
    return f"({_show(value)})" if value < 0 else _show(value)


def _show(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
