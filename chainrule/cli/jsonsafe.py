"""Strict JSON for results that may hold a non-finite number (a diverged model's loss or output).

JSON has no NaN or Infinity (RFC 8259 §6), and ``json.dumps`` writes them unless told not to. A
command whose result can hold one passes it through :func:`finite_payload`: each NaN or ±inf
becomes ``null`` and the ``non_finite`` field lists where, as paths such as ``loss`` or
``predictions[3].output[0]`` (documented in the commands' ``--help`` and the README). The result
is then checked with ``json.dumps(allow_nan=False)``.
"""

from __future__ import annotations

import json
import math
from typing import Any

NON_FINITE_FIELD = "non_finite"


def finite_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` with NaN/±inf replaced by None and their paths listed under ``non_finite``."""
    where: list[str] = []
    cleaned = _clean(payload, "", where)
    if where:
        cleaned[NON_FINITE_FIELD] = where
    json.dumps(cleaned, allow_nan=False, default=str)  # raises if anything slipped through
    return cleaned


def _clean(value: Any, path: str, where: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v, f"{path}.{k}" if path else str(k), where) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v, f"{path}[{i}]", where) for i, v in enumerate(value)]
    if isinstance(value, bool | int | str) or value is None:
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    if math.isfinite(number):
        return number
    where.append(path)
    return None
