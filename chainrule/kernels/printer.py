"""The kernel code printer: SymPy expressions to scalar Python source using ``math.*``.

A subclass of SymPy's :class:`~sympy.printing.pycode.PythonCodePrinter`, so the printed body runs
unchanged in ``numba.njit`` and in ``numba.cuda.jit`` device functions (DESIGN.md, "Kernels": never
``lambdify(modules='numpy')``, whose Piecewise prints as ``numpy.select``). The named activations of
:mod:`chainrule.derive.functions` print through their elementary definitions; Heaviside and sign
print as conditional expressions; logarithms are guarded against log(0) so that a saturated output
gives a large finite loss instead of NaN, and ln(1 + e^u) (softplus) prints in its stable form
max(u, 0) + ln(1 + e^{−|u|}), which does not overflow for large u. tanh prints as
1 − 2/(e^{2u} + 1), the same function (the tests prove it), which runs faster than libm's tanh.
Common subexpressions are eliminated with ``sympy.cse`` (Meurer et al., *SymPy: symbolic computing
in Python*, PeerJ CS 2017, §2.9 code generation).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from chainrule.derive.functions import NAMED_FUNCTIONS, elementary

LOG_FLOOR = "1e-300"  # smallest argument a printed log sees: log(0) would poison the loss with -inf


class KernelPrinter(PythonCodePrinter):
    """Print scalar SymPy expressions as ``math.*`` Python that Numba compiles."""

    printmethod = "_kernelcode"
    # "exp": the function e^u prints as; the CPU activation kernels print "vexp", the vectorisable
    # exp of kernels/cpu/fastexp.py, and everything else libm's math.exp
    # "tanh": a function tanh(u) prints as (the CPU activation kernels' "vtanh", kernels/cpu/
    # fasttanh.py, float32 arithmetic for float32 values), or "" for the identity below
    _default_settings: ClassVar[dict] = {**PythonCodePrinter._default_settings, "exp": "math.exp",
                                         "tanh": ""}

    def __init__(self, settings: dict | None = None) -> None:
        super().__init__({"fully_qualified_modules": True, **(settings or {})})

    def _print_Function(self, expr: sp.Function) -> str:
        if isinstance(expr, NAMED_FUNCTIONS):
            return self._print(elementary(expr))
        return super()._print_Function(expr)

    def _print_exp(self, expr: sp.exp) -> str:
        return f"{self._settings['exp']}({self._print(expr.args[0])})"

    def _print_Heaviside(self, expr: sp.Heaviside) -> str:
        arg = self._print(expr.args[0])
        at_zero = expr.args[1] if len(expr.args) > 1 else sp.Rational(1, 2)
        if at_zero == 0:
            return f"(1.0 if {arg} > 0 else 0.0)"
        if at_zero == 1:
            return f"(1.0 if {arg} >= 0 else 0.0)"
        return f"(1.0 if {arg} > 0 else ({float(at_zero)!r} if {arg} == 0 else 0.0))"

    def _print_sign(self, expr: sp.sign) -> str:
        arg = self._print(expr.args[0])
        return f"(1.0 if {arg} > 0 else (-1.0 if {arg} < 0 else 0.0))"

    def _print_tanh(self, expr: sp.tanh) -> str:
        # tanh(u) = 1 − 2/(e^{2u} + 1), an exact identity (tested): libm's tanhf measured 5× slower
        # than expf in the fused kernels, and this form saturates to ±1 without overflow.
        u = self._print(expr.args[0])
        if self._settings["tanh"]:  # for a float64 u, fasttanh.py's vtanh is this identity
            return f"{self._settings['tanh']}({u})"
        return f"(1.0 - 2.0/({self._settings['exp']}(2.0*{u}) + 1.0))"

    def _print_log(self, expr: sp.log) -> str:
        stable = _softplus_argument(expr.args[0])
        if stable is not None:  # ln(1 + e^u) = max(u, 0) + ln(1 + e^{-|u|}): no overflow
            u = self._print(stable)
            return f"(max({u}, 0.0) + math.log1p({self._settings['exp']}(-abs({u}))))"
        return f"math.log(max({self._print(expr.args[0])}, {LOG_FLOOR}))"

    def _print_Rational(self, expr: sp.Rational) -> str:
        return f"{expr.p}.0/{expr.q}.0"

    def _print_Integer(self, expr: sp.Integer) -> str:
        return f"{int(expr)}.0"

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        base, exponent = expr.args
        if exponent.is_Integer and 1 < int(exponent) <= 4:  # a**2 as a*a: no call to pow
            factor = self.parenthesize(base, sp.printing.precedence.PRECEDENCE["Mul"])
            return "(" + "*".join([factor] * int(exponent)) + ")"
        return super()._print_Pow(expr, rational=rational)


def _softplus_argument(arg: sp.Expr) -> sp.Expr | None:
    """u when ``arg`` is 1 + e^u (the softplus form), else None."""
    if isinstance(arg, sp.Add) and len(arg.args) == 2 and sp.S.One in arg.args:
        other = arg.args[0] if arg.args[1] == 1 else arg.args[1]
        if isinstance(other, sp.exp):
            return other.args[0]
    return None


def print_expr(expr: sp.Expr) -> str:
    """One expression as a Python expression string."""
    return KernelPrinter().doprint(sp.sympify(expr))


def print_function(name: str, args: Sequence[sp.Symbol], expr: sp.Expr, *,
                   decorator: str = '@njit(cache=True, error_model="numpy")', comment: str = "",
                   exp: str = "math.exp", tanh: str = "") -> str:
    """A scalar function ``name(args)`` returning ``expr``, with common subexpressions hoisted;
    ``exp`` names the function that e^u prints as, ``tanh`` the one tanh(u) does (else the
    identity)."""
    printer = KernelPrinter({"exp": exp, "tanh": tanh})
    replacements, (reduced,) = sp.cse([sp.sympify(expr)], symbols=sp.numbered_symbols("_cse"))
    lines = [decorator, f"def {name}({', '.join(str(a) for a in args)}):"]
    if comment:
        lines += [f"    # {line}" for line in comment.splitlines()]
    lines += [f"    {sym} = {printer.doprint(value)}" for sym, value in replacements]
    lines.append(f"    return {printer.doprint(reduced)}")
    return "\n".join(lines) + "\n"
