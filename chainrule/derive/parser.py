"""A whitelist parser from user text to SymPy: Python's ``ast`` walked node by node.

User text is never passed to ``eval``, ``sympify`` or ``parse_expr``. Only numbers, names,
``+ - * / **``, unary minus and calls to the functions in :data:`FUNCTIONS` are accepted; anything
else raises :class:`ParseError` naming the offending token. Input length, nesting depth (of the
syntax tree, not of the brackets), node count, literal size, constant size and exponent size are
bounded (:mod:`chainrule.limits`), so ``9**9**9**9`` and ``(x+1)**999`` are refused before
anything is computed. Identifiers are ASCII (plus the Greek letters that no Latin one resembles):
a Cyrillic ``х`` is refused with the ASCII letter to write instead. A constant that is not a
finite real number (``1e309``, ``x/0``, ``log(0)``, ``sqrt(-1)``) is refused.
"""

from __future__ import annotations

import ast
import math
import unicodedata
import warnings
from collections.abc import Callable, Mapping

import sympy as sp

from chainrule import limits
from chainrule.derive.functions import NAMED_FUNCTIONS
from chainrule.errors import ChainruleError

MAX_LENGTH = 1000
MAX_DEPTH = 60
MAX_EXPONENT = limits.MAX_EXPONENT
MAX_DIGITS = 40
MAX_NAME = 32
MAX_NODES = limits.MAX_NODES
MAX_CONSTANT_BITS = math.ceil(limits.MAX_CONSTANT_DIGITS * math.log2(10))
# Greek letters that no Latin letter resembles may name variables (σ and π are also names).
GREEK = frozenset("αβγδεζηθλμξπρςστφχψω")
# Letters that look like ASCII ones; the error names the ASCII letter to type instead.
_LOOKALIKES = dict(zip("аеорсухіјѕԁԛԝкмнтвАВЕКМНОРСТХЅІЈονικυΑΒΕΖΗΙΚΜΝΟΡΤΥΧ×÷",
                       "aeopcyxijsdqwkmhtbABEKMHOPCTXSIJovikuABEZHIKMNOPTYX*/", strict=True))

class ParseError(ChainruleError):
    """The text is not an expression that chainrule accepts."""


def _arities(function: type[sp.Function]) -> tuple[int, ...]:
    """How many arguments a SymPy function class takes, as a sorted tuple (its ``nargs``)."""
    return tuple(sorted(int(n) for n in function.nargs))


FUNCTIONS: Mapping[str, tuple[Callable[..., sp.Expr], tuple[int, ...]]] = {
    "exp": (sp.exp, (1,)),
    "log": (sp.log, (1,)),
    "ln": (sp.log, (1,)),
    "sqrt": (sp.sqrt, (1,)),
    "abs": (sp.Abs, (1,)),
    "sin": (sp.sin, (1,)),
    "cos": (sp.cos, (1,)),
    "tanh": (sp.tanh, (1,)),
    **{name: (function, _arities(function)) for function in NAMED_FUNCTIONS
       for name in function.parse_names},  # each class owns its names (derive/functions.py)
    "max": (sp.Max, (2, 3, 4, 5, 6, 7, 8)),
    "min": (sp.Min, (2, 3, 4, 5, 6, 7, 8)),
}
CONSTANTS: Mapping[str, sp.Expr] = {"pi": sp.pi, "π": sp.pi}
_BINARY: Mapping[type[ast.operator], Callable[[sp.Expr, sp.Expr], sp.Expr]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: _power(a, b),
}
_OPERATOR_TOKENS = {
    ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|",
    ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>",
}


def symbol(name: str) -> sp.Symbol:
    """The SymPy symbol chainrule uses for a variable name: always real."""
    return sp.Symbol(name, real=True)


def parse_expression(text: str) -> sp.Expr:
    """Parse ``text`` into a SymPy expression, or raise :class:`ParseError`."""
    tree = _parse_tree(text)
    nodes = sum(isinstance(node, ast.expr) and not isinstance(node, ast.Call)
                for node in ast.walk(tree))  # a call counts once, by its function's name
    if nodes > MAX_NODES:
        raise ParseError(f"expression has {nodes} terms (numbers, names, operations and calls); "
                         f"the limit is {MAX_NODES}")
    try:
        result = _Converter().convert(tree.body, depth=0)
    except (OverflowError, MemoryError, RecursionError):
        raise ParseError(f"expression {text[:40]!r} is too large to build") from None
    return _finite_real(result, text)


def _finite_real(expr: sp.Expr, text: str) -> sp.Expr:
    """``expr`` when every constant in it is a finite real number; else a ParseError."""
    if expr.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
        raise ParseError(f"expression {text[:60]!r} has a constant that is not a finite number "
                         "(such as 1e309, x/0 or log(0)): expected finite constants")
    if expr.has(sp.I):
        raise ParseError(f"expression {text[:60]!r} has a complex constant (such as sqrt(-1) or "
                         "log(-1)): chainrule works with real numbers")
    return expr


def _check_characters(text: str) -> None:
    """Refuse a character outside ASCII, σ, π and the unconfusable Greek letters."""
    for column, char in enumerate(text, start=1):
        if char.isascii() or char in GREEK:
            continue
        ascii_char = _LOOKALIKES.get(char) or unicodedata.normalize("NFKC", char)
        name = unicodedata.name(char, "unnamed")
        hint = (f": write {ascii_char!r} instead" if ascii_char.isascii() and ascii_char.strip()
                else ": names and operators are ASCII")
        raise ParseError(f"character {char!r} (U+{ord(char):04X} {name}) at column {column} "
                         f"is not accepted{hint}")


def _parse_tree(text: str) -> ast.Expression:
    if not isinstance(text, str):
        raise ParseError(f"expected an expression as text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"expression is {len(text)} characters long; the limit is {MAX_LENGTH}")
    stripped = text.strip().replace("^", "**").replace("·", "*").replace("−", "-")
    if not stripped:
        raise ParseError("expected an expression, got empty text")
    if "[" in stripped:
        raise ParseError("unexpected '[': expressions are scalar; give vector values with --at")
    _check_characters(stripped)
    try:
        with warnings.catch_warnings():  # "\*" in a string literal: the ParseError below says it
            warnings.simplefilter("ignore", (SyntaxWarning, DeprecationWarning))
            return ast.parse(stripped, mode="eval")
    except SyntaxError as exc:
        near = f" near column {exc.offset}" if exc.offset else ""
        raise ParseError(f"malformed expression {text!r}{near}: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError):
        raise ParseError(f"malformed expression {text[:40]!r}") from None


class _Converter:
    """Walks an ``ast`` tree and builds SymPy, refusing every node type not listed here."""

    def convert(self, node: ast.AST, *, depth: int) -> sp.Expr:
        if depth > MAX_DEPTH:
            raise ParseError(f"expression nests more than {MAX_DEPTH} levels deep")
        handler = getattr(self, f"_{type(node).__name__}", None)
        if handler is None:
            raise ParseError(f"unsupported syntax {_describe(node)}: expected numbers, names, "
                             "+ - * / **, and calls to " + ", ".join(sorted(FUNCTIONS)))
        return _bounded(handler(node, depth + 1), node)

    def _Constant(self, node: ast.Constant, depth: int) -> sp.Expr:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParseError(f"unsupported literal {value!r}: expected a number")
        if isinstance(value, int):
            if value.bit_length() > MAX_CONSTANT_BITS or len(str(abs(value))) > MAX_DIGITS:
                raise ParseError(f"integer literal has more than {MAX_DIGITS} digits")
            return sp.Integer(value)
        if not math.isfinite(value):
            raise ParseError(f"number {_describe(node)} is not finite in double precision "
                             "(the largest is about 1.8e308)")
        return sp.Float(repr(value))

    def _Name(self, node: ast.Name, depth: int) -> sp.Expr:
        name = node.id
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in FUNCTIONS:
            raise ParseError(f"function {name!r} used without arguments: write {name}(x)")
        if len(name) > MAX_NAME or name.startswith("_"):
            raise ParseError(f"unsupported name {name[:40]!r}: names are letters and digits, "
                             f"at most {MAX_NAME} characters, not starting with '_'")
        return symbol(name)

    def _UnaryOp(self, node: ast.UnaryOp, depth: int) -> sp.Expr:
        operand = self.convert(node.operand, depth=depth)
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.UAdd):
            return operand
        raise ParseError(f"unsupported operator {_describe(node)}: expected unary - or +")

    def _BinOp(self, node: ast.BinOp, depth: int) -> sp.Expr:
        # A flat chain a + b + c + … is one level, not one per term: walk its left spine.
        chain: list[ast.BinOp] = [node]
        while isinstance(chain[-1].left, ast.BinOp) and not isinstance(chain[-1].op, ast.Pow) \
                and not isinstance(chain[-1].left.op, ast.Pow):
            chain.append(chain[-1].left)
        ops = [_binary(link) for link in chain]
        result = self.convert(chain[-1].left, depth=depth)
        for link, op in zip(reversed(chain), reversed(ops), strict=True):
            result = op(result, self.convert(link.right, depth=depth))
        return result

    def _Call(self, node: ast.Call, depth: int) -> sp.Expr:
        if not isinstance(node.func, ast.Name):
            raise ParseError(f"unsupported call {_describe(node.func)}: expected a function name")
        name = node.func.id
        if name not in FUNCTIONS:
            raise ParseError(f"unknown function {name!r}: expected one of "
                             + ", ".join(sorted(FUNCTIONS)))
        if node.keywords:
            raise ParseError(f"keyword arguments are not supported in {name}(...)")
        function, arities = FUNCTIONS[name]
        if len(node.args) not in arities:
            expected = " or ".join(str(a) for a in arities[:2])
            raise ParseError(f"{name} takes {expected} argument(s), got {len(node.args)}")
        args = [self.convert(arg, depth=depth) for arg in node.args]
        return function(*args)


def _binary(node: ast.BinOp) -> Callable[[sp.Expr, sp.Expr], sp.Expr]:
    op = _BINARY.get(type(node.op))
    if op is None:
        token = _OPERATOR_TOKENS.get(type(node.op), type(node.op).__name__)
        raise ParseError(f"unsupported operator {token!r}: expected + - * / **")
    return op


def _power(base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
    if exponent.is_number:
        magnitude = _magnitude(exponent)
        if base.is_number:  # a constant: bound its size before computing it
            size = _magnitude(base)
            digits = magnitude * abs(math.log10(size)) if size not in (0.0, 1.0) else 0.0
            if digits > limits.MAX_CONSTANT_DIGITS:
                raise ParseError(f"constant {str(base)[:20]}**{str(exponent)[:20]} is too large: "
                                 f"about {digits:.3g} digits, the limit is "
                                 f"{limits.MAX_CONSTANT_DIGITS}")
        elif magnitude > MAX_EXPONENT:
            raise ParseError(f"exponent {magnitude:.6g} is too large: the limit is {MAX_EXPONENT}")
    return sp.Pow(base, exponent)


def _magnitude(number: sp.Expr) -> float:
    """|number| as a float, or a ParseError when it cannot be one."""
    try:
        value = abs(complex(sp.N(number, 15)))
    except (TypeError, ValueError, OverflowError, ZeroDivisionError):
        value = math.inf
    if not math.isfinite(value):
        raise ParseError(f"constant {str(number)[:40]!r} is not a finite number")
    return value


def _bounded(expr: sp.Expr, node: ast.AST) -> sp.Expr:
    """``expr`` when its constants and integer powers are within :mod:`chainrule.limits`."""
    for number in expr.atoms(sp.Rational):
        if max(abs(number.p).bit_length(), number.q.bit_length()) > MAX_CONSTANT_BITS:
            raise ParseError(f"a constant in {_describe(node)} has more than "
                             f"{limits.MAX_CONSTANT_DIGITS} digits")
    for number in expr.atoms(sp.Float):
        if not math.isfinite(float(number)) or abs(float(number)) > 10.0**limits.MAX_CONSTANT_DIGITS:
            raise ParseError(f"a constant in {_describe(node)} is larger than "
                             f"1e{limits.MAX_CONSTANT_DIGITS}")
    for power in expr.atoms(sp.Pow):
        if power.exp.is_Number and not power.base.is_number \
                and abs(float(power.exp)) > MAX_EXPONENT:
            raise ParseError(f"{_describe(node)} raises to the power {power.exp}: the limit is "
                             f"{MAX_EXPONENT} in magnitude")
    return expr


def _describe(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # noqa: BLE001 - describing a node must never fail
        text = type(node).__name__
    return repr(text[:40])
