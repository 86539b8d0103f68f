"""Parse ``--at "x=-2,w=[2,-3,-3],b=0.5"`` and matrix literals such as ``"[[1,0],[0,1]]"``.

Values go through a whitelist walk of Python's ``ast`` (numbers, unary minus, lists); nothing is
evaluated. Scalars become ``float``, vectors ``list[float]``, matrices ``list[list[float]]``;
:func:`scalar_assignments` reads a vector ``w=[2,-3]`` as the scalars ``w0``, ``w1``.
"""

from __future__ import annotations

import ast
import math
import re

from chainrule.errors import ChainruleError

Value = float | list[float] | list[list[float]]
MAX_VALUES_TEXT = 100_000
_NAME = re.compile(r"^[A-Za-z\u0370-\u03ff][A-Za-z0-9_\u0370-\u03ff]{0,31}$")


def parse_assignments(text: str) -> dict[str, Value]:
    """Parse ``name=value`` pairs separated by top-level commas."""
    if len(text) > MAX_VALUES_TEXT:
        raise ChainruleError(f"--at text is {len(text)} characters; the limit is {MAX_VALUES_TEXT}")
    values: dict[str, Value] = {}
    for part in _split_top_level(text):
        if not part.strip():
            continue
        name, sep, raw = part.partition("=")
        name = name.strip()
        if not sep or not _NAME.match(name):
            raise ChainruleError(f"cannot read {part.strip()!r}: expected name=value, "
                                 "for example x=-2 or w=[2,-3,-3]")
        if name in values:
            raise ChainruleError(f"value for {name!r} given twice")
        values[name] = parse_value(raw, name=name)
    return values


def scalar_assignments(values: dict[str, Value]) -> dict[str, float]:
    """Scalars per name, a vector ``w=[2,-3]`` standing for ``w0=2, w1=-3`` (as in derive graph).

    A matrix, or a name given both ways (``w=[1,2]`` and ``w0=5``), is an error."""
    scalars: dict[str, float] = {}
    origin: dict[str, str] = {}
    for name, value in values.items():
        if not isinstance(value, list):
            expanded = {name: value}
        elif any(isinstance(item, list) for item in value):
            raise ChainruleError(f"{name} is a matrix: expected a number or a vector for {name}")
        else:
            expanded = {f"{name}{i}": item for i, item in enumerate(value)}  # type: ignore[misc]
        for key, item in expanded.items():
            if key in scalars:
                raise ChainruleError(f"value for {key!r} given twice: by {origin[key]} and by "
                                     f"{name}")
            scalars[key], origin[key] = float(item), name  # type: ignore[arg-type]
    return scalars


def parse_value(text: str, *, name: str = "value") -> Value:
    """Parse one number, vector or matrix literal."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ChainruleError(f"cannot read {name}={text.strip()!r}: expected a number, "
                             "a list [1,2] or a matrix [[1,2],[3,4]]") from None
    return _convert(tree.body, name=name, depth=0)


def parse_matrix(text: str, *, name: str) -> list[list[float]]:
    """Parse a rectangular matrix literal; a ragged or non-matrix value is an error."""
    value = parse_value(text, name=name)
    if not isinstance(value, list) or not value or not all(isinstance(r, list) for r in value):
        raise ChainruleError(f"{name} must be a matrix such as [[1,2],[3,4]], got {text.strip()!r}")
    rows: list[list[float]] = value  # type: ignore[assignment]
    widths = {len(row) for row in rows}
    if len(widths) != 1 or 0 in widths:
        raise ChainruleError(f"{name} is ragged: its rows have lengths {[len(r) for r in rows]}")
    return rows


def _convert(node: ast.AST, *, name: str, depth: int) -> Value:
    if depth > 2:
        raise ChainruleError(f"{name} nests deeper than a matrix")
    if isinstance(node, ast.List | ast.Tuple):
        items = [_convert(item, name=name, depth=depth + 1) for item in node.elts]
        if not items:
            raise ChainruleError(f"{name} is an empty list")
        kinds = {isinstance(item, list) for item in items}
        if len(kinds) != 1:
            raise ChainruleError(f"{name} mixes numbers and lists")
        return items  # type: ignore[return-value]
    return _number(node, name=name)


def _number(node: ast.AST, *, name: str) -> float:
    sign = 1.0
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        sign = -sign if isinstance(node.op, ast.USub) else sign
        node = node.operand
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) \
            and not isinstance(node.value, bool):
        try:
            value = sign * float(node.value)
        except OverflowError:  # an integer literal past float's range
            value = math.inf
        if math.isfinite(value):
            return value
    try:
        shown = ast.unparse(node)[:40]
    except Exception:  # noqa: BLE001
        shown = type(node).__name__
    raise ChainruleError(f"cannot read {name}: {shown!r} is not a finite number")


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts
