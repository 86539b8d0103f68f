"""The JSON answers of every topic, recomputed by this test's own SymPy and NumPy code from the
JSON alone (expression or spec, wrt, at), without chainrule's derivation code."""

from __future__ import annotations

import itertools
import json
import re

import numpy as np
import pytest
import sympy as sp

from chainrule.cli.output import to_json_text
from chainrule.derive.exercises.render import sheet_payload
from chainrule.derive.exercises.sheet import TOPICS, make_sheet

X = sp.Symbol("X")
LOCALS = {"sigmoid": sp.Lambda(X, 1 / (1 + sp.exp(-X))), "relu": sp.Lambda(X, sp.Max(0, X)),
          "softplus": sp.Lambda(X, sp.log(1 + sp.exp(X))), "tanh": sp.tanh, "exp": sp.exp,
          "log": sp.log}


def _payloads(topic: str) -> list[dict]:
    out = []
    for difficulty in (1, 2, 3):
        sheet = make_sheet(topic, count=1, seed=11, difficulty=difficulty)
        out += json.loads(to_json_text(sheet_payload(sheet)))["exercises"]
    return out


def _sympy(ex: dict) -> list[float]:
    """f (or L) and its derivatives, by sympy.diff of the JSON expression."""
    names = {name: sp.Symbol(name) for name in ex["at"]}
    expr = sp.parse_expr(ex["expression"], local_dict={**LOCALS, **names})
    point = {names[k]: sp.Float(v) for k, v in ex["at"].items()}
    wrts = ex["wrt"] if isinstance(ex["wrt"], list) else [ex["wrt"]]
    return [float(expr.subs(point).evalf())] + [float(sp.diff(expr, names[w]).subs(point).evalf())
                                                for w in wrts]


def _neuron(ex: dict) -> list[float]:
    at, spec = ex["at"], ex["spec"]
    x, w, b, t = (sp.Matrix(at["x"]), sp.Matrix(sp.symbols(f"w0:{len(at['w'])}")),
                  sp.Symbol("b"), at["t"])
    z = (w.T * x)[0] + b
    a = {"sigmoid": 1 / (1 + sp.exp(-z)), "tanh": sp.tanh(z), "relu": sp.Max(0, z),
         "softplus": sp.log(1 + sp.exp(z))}[spec["activation"]]
    loss = {"half_mse": (a - t) ** 2 / 2, "mse": (a - t) ** 2,
            "bce": -(t * sp.log(a) + (1 - t) * sp.log(1 - a))}[spec["loss"]]
    point = {**dict(zip(w, at["w"], strict=True)), b: at["b"]}
    return [float(e.subs(point).evalf()) for e in (a, loss, sp.diff(loss, w[0]), sp.diff(loss, b))]


def _backprop(ex: dict) -> list[float]:
    at = ex["at"]
    n0, n1, n2 = ex["spec"]["sizes"]
    w1, w2 = sp.Matrix(n1, n0, sp.symbols(f"p0:{n1 * n0}")), sp.Matrix(n2, n1, sp.symbols(f"q0:{n2 * n1}"))
    b1, b2 = sp.Matrix(sp.symbols(f"c0:{n1}")), sp.Matrix(sp.symbols(f"d0:{n2}"))
    sig = lambda m: m.applyfunc(lambda v: 1 / (1 + sp.exp(-v)))
    a2 = sig(w2 * sig(w1 * sp.Matrix(at["x"]) + b1) + b2)
    cost = sum((a2[i] - at["y"][i]) ** 2 for i in range(n2)) / 2
    point = {**dict(zip(w1, np.ravel(at["W1"]), strict=True)),
             **dict(zip(w2, np.ravel(at["W2"]), strict=True)),
             **dict(zip(b1, at["b1"], strict=True)), **dict(zip(b2, at["b2"], strict=True))}
    return [float(e.subs(point).evalf()) for e in
            (cost, sp.diff(cost, b2[0]), sp.diff(cost, w2[0, 0]), sp.diff(cost, b1[0]),
             sp.diff(cost, w1[0, 1]))]


def _perceptron(ex: dict) -> list[float]:
    w, b = np.array(ex["at"]["w"], float), ex["at"]["b"]
    p, t = np.array(ex["patterns"], float), np.array(ex["targets"], float)
    for i in range(ex["spec"]["steps"]):
        e = t[i % 4] - float(w @ p[i % 4] + b >= 0)
        w, b = w + ex["spec"]["lr"] * e * p[i % 4], b + ex["spec"]["lr"] * e
    return [w[0], w[1], b]


def _conv(ex: dict) -> list[float]:
    s, p = ex["spec"]["stride"], ex["spec"]["padding"]
    x = np.pad(np.array(ex["at"]["image"]), p)
    k = np.array(ex["at"]["kernel"])
    size = (x.shape[0] - k.shape[0]) // s + 1
    out = np.array([[np.sum(x[r * s:r * s + len(k), c * s:c * s + len(k)] * k)
                     for c in range(size)] for r in range(size)])
    i, j = ex["spec"]["cell"]
    return [size, size, out[0, 0], out[i - 1, j - 1]]


def _pooling(ex: dict) -> list[float]:
    spec, x, g = ex["spec"], np.array(ex["at"]["X"]), np.array(ex["at"]["dL_dY"])
    k, s = spec["window"], spec["stride"]
    grad, out = np.zeros_like(x), np.zeros_like(g)
    for r in range(g.shape[0]):
        for c in range(g.shape[1]):
            win = x[r * s:r * s + k, c * s:c * s + k]
            if spec["mode"] == "max":
                out[r, c] = win.max()
                m = np.unravel_index(np.argmax(win), win.shape)
                grad[r * s + m[0], c * s + m[1]] += g[r, c]
            else:
                out[r, c] = win.mean()
                grad[r * s:r * s + k, c * s:c * s + k] += g[r, c] / k ** 2
    (i, j), (a, b) = spec["cell"], spec["input_cell"]
    return [out[i - 1, j - 1], grad[a - 1, b - 1]]


def _params(ex: dict) -> list[float]:
    family, body = ex["spec"].split(":")
    tokens = body.split("-")
    if family == "mlp":
        sizes = [int(t) for t in tokens]
        counts = [n * (m + 1) for m, n in itertools.pairwise(sizes)]
        return [sum(counts), counts[0], sizes[1]]
    c, n, _ = (int(v) for v in tokens[0].split("x"))
    counts, widths = [], []
    for token in tokens[1:]:
        if m := re.fullmatch(r"conv(\d+)x\d+x(\d+)(?:s(\d+))?(?:p(\d+))?", token):
            k, f, s, p = int(m[1]), int(m[2]), int(m[3] or 1), int(m[4] or 0)
            counts.append(f * (k * k * c + 1))
            c, n = f, (n + 2 * p - k) // s + 1
        elif m := re.fullmatch(r"maxpool(\d+)", token):
            counts.append(0)
            n //= int(m[1])
        else:
            units = int(token[5:])
            counts.append(units * (c * n * n + 1))
            c, n = units, units
        widths.append(n)
    return [sum(counts), counts[0], widths[0]]


OWN = {"chain-rule": _sympy, "graph": _sympy, "losses": _sympy, "neuron": _neuron,
       "backprop": _backprop, "perceptron": _perceptron, "conv": _conv, "pooling": _pooling,
       "params": _params}


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_json_answers_match_an_own_computation(topic: str) -> None:
    for ex in _payloads(topic):
        assert ex["topic"] == topic and ex["prompt"]["text"] and ex["prompt"]["latex"]
        assert ex["solution"] and all({"rule", "text", "latex"} <= set(s) for s in ex["solution"])
        assert "expression" in ex or "spec" in ex
        mine = OWN[topic](ex)
        given = [a["value"] for a in ex["answers"]]
        assert list(ex["answer"].values()) == given
        for answer, own in zip(ex["answers"], mine, strict=True):
            exact = answer["tolerance"] == 0  # counts and shapes: exact integers
            expected = float(own) if exact else float(f"{own:.4g}")
            assert answer["value"] == pytest.approx(expected, rel=1e-12, abs=1e-12), (ex, mine)
