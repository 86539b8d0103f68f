"""Folding generated source to 100 columns (kernels/fit_lines.py): each kind of long line, and the
compiled epochs of several networks, whose syntax trees are the same before and after and whose
lines all fit."""

from __future__ import annotations

import ast

import numpy as np
import pytest

from chainrule.derive.spec import parse_spec
from chainrule.kernels.cpu import conv_epoch, epoch
from chainrule.kernels.fit_lines import fit_lines
from chainrule.train.network import build_network
from chainrule.train.optim import Optimizer

NETWORKS = [("mlp:784-128-10", "softmax_ce", 0.0), ("mlp:20-16-12-1", "bce", 0.5),
            ("lenet5", "softmax_ce", 0.0),
            ("cnn:1x28x28-conv3x3x32p1-maxpool2-conv3x3x64p1-maxpool2-dense128-dense10", "mse",
             0.0)]


def test_a_comment_is_wrapped_into_comment_lines() -> None:
    line = "    # " + " ".join(["word"] * 40)
    folded = fit_lines(line, 40).split("\n")
    assert all(len(part) <= 40 and part.startswith("    # ") for part in folded)
    assert " ".join(part[6:] for part in folded) == line[6:]


def test_an_import_gets_parentheses() -> None:
    line = "from some_module import " + ", ".join(f"name{i}" for i in range(12))
    folded = fit_lines(line, 50)
    assert folded.split("\n")[0] == "from some_module import (name0, name1, name2,"
    assert folded.endswith("name11)")
    assert ast.dump(ast.parse(folded)) == ast.dump(ast.parse(line))


def test_a_call_continues_under_its_parenthesis_and_its_comment_moves_above() -> None:
    line = "        bad += step(x.reshape((b, 8, 1)), weights[0], hw, threads)  # BP4 + the rule"
    folded = fit_lines(line, 50).split("\n")
    assert folded == ["        # BP4 + the rule",
                      "        bad += step(x.reshape((b, 8, 1)),",
                      "                    weights[0], hw, threads)"]


def test_short_lines_and_lines_it_cannot_fold_stay() -> None:
    assert fit_lines("x = 1\n    y = 2\n") == "x = 1\n    y = 2\n"
    unbreakable = "z = " + "a" * 120
    assert fit_lines(unbreakable) == unbreakable


def sources(spec: str, loss: str, dropout: float) -> list[tuple[str, str, str]]:
    net = build_network(parse_spec(spec), loss=loss, dropout=dropout)
    x = np.zeros((1, *net.spec.input_shape))
    request = net.chunk_request(x, np.zeros((1, net.spec.n_outputs)), None, Optimizer(lr=0.1),
                                rng=np.random.default_rng(0))
    return epoch.chunk_sources(request) or conv_epoch.conv_chunk_sources(request, epoch)


@pytest.mark.parametrize(("spec", "loss", "dropout"), NETWORKS)
def test_epochs_fit_100_columns_and_mean_what_they_meant(spec: str, loss: str, dropout: float,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    folded = sources(spec, loss, dropout)
    for module in (epoch, conv_epoch):
        monkeypatch.setattr(module, "fit_lines", lambda source: source)
    unfolded = sources(spec, loss, dropout)
    assert [name for name, _, _ in folded] == ["epoch steps", "epoch"]
    wide = max(len(line) for _, _, text in unfolded for line in text.split("\n"))
    assert wide > 100 or spec.startswith("mlp")  # the conv epochs had long lines to fold
    for (_, _, after), (_, _, before) in zip(folded, unfolded, strict=True):
        assert ast.dump(ast.parse(after)) == ast.dump(ast.parse(before))
        assert max(len(line) for line in after.split("\n")) <= 100
