"""Generated source folded to a width, so that ``chainrule kernels show`` reads whole on a screen.

The printers of the compiled epochs (cpu/epoch.py, cpu/conv_epoch.py) write one statement per line,
some of them 200 characters long (a call with a dozen buffers). This folds each long line the way a
person would, without changing what it means:

- a comment line is wrapped into comment lines;
- ``from M import a, b, ...`` gets parentheses and continues on indented lines;
- a call's arguments continue under its opening parenthesis (a trailing comment goes on a line of
  its own above the statement when the two do not fit together).

A line this cannot fold stays as it is. The tests parse every generated module before and after
and compare the syntax trees.
"""

from __future__ import annotations

import textwrap

WIDTH = 100  # as the hand-written modules (ruff's line length)


def fit_lines(source: str, width: int = WIDTH) -> str:
    """``source`` with each line longer than ``width`` folded (see the module docstring)."""
    out: list[str] = []
    for line in source.split("\n"):
        out += _fold(line, width) if len(line) > width else [line]
    return "\n".join(out)


def _fold(line: str, width: int) -> list[str]:
    indent = line[:len(line) - len(line.lstrip())]
    text = line.strip()
    if text.startswith("#"):
        return textwrap.wrap(text.lstrip("# "), width, initial_indent=indent + "# ",
                             subsequent_indent=indent + "# ", break_on_hyphens=False)
    if text.startswith("from ") and " import " in text and "(" not in text:
        head, names = text.split(" import ", 1)
        return _pack(f"{indent}{head} import (", names.split(", "), ")", indent + "    ", width)
    code, comment = _split_comment(text)
    lines = _fold_call(indent, code, width)
    if comment and len(lines[-1]) + 2 + len(comment) <= width:
        return [*lines[:-1], f"{lines[-1]}  {comment}"]
    return ([indent + comment] if comment else []) + lines


def _split_comment(text: str) -> tuple[str, str]:
    """The code and its trailing comment ("" when none); generated code has no '#' in strings."""
    at = text.find("  # ")
    return (text, "") if at < 0 else (text[:at], text[at + 2:])


def _fold_call(indent: str, code: str, width: int) -> list[str]:
    """A statement whose code ends with a call's closing parenthesis, its arguments packed under
    the opening one; [the line] when there is no such call or the arguments would not fit."""
    line = indent + code
    if len(line) <= width or not code.endswith(")"):
        return [line]
    opening = _matching_open(code)
    if opening < 0:
        return [line]
    arguments = _top_level_split(code[opening + 1:-1])
    hang = " " * (len(indent) + opening + 1)
    folded = _pack(indent + code[:opening + 1], arguments, ")", hang, width)
    return folded if all(len(part) <= width for part in folded) else [line]


def _matching_open(code: str) -> int:
    """The index of the parenthesis that the final ')' closes, or -1."""
    depth = 0
    for at in range(len(code) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(code[at], 0)
        if depth == 0:
            return at if code[at] == "(" else -1
    return -1


def _top_level_split(arguments: str) -> list[str]:
    """Arguments split at the commas outside brackets (each without its comma)."""
    parts, depth, start = [], 0, 0
    for at, char in enumerate(arguments):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(arguments[start:at].strip())
            start = at + 1
    return [*parts, arguments[start:].strip()]


def _pack(first: str, items: list[str], close: str, hang: str, width: int) -> list[str]:
    """``first`` then the items joined by ", ", a line filled before the next starts at
    ``hang``; ``close`` after the last item."""
    lines, current = [], first
    for index, item in enumerate(items):
        piece = item + ("," if index < len(items) - 1 else close)
        fresh = current in (first, hang)
        if not fresh and len(current) + 1 + len(piece) > width:
            lines.append(current)
            current = hang + piece
        else:
            current = current + ("" if fresh else " ") + piece
    return [*lines, current]
