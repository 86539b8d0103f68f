"""``chainrule derive conv``: E15 (seed 002) through the CLI, and its input checks."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import rel_err

IMAGE = ("[[18,54,51,239,244,188],[55,121,75,78,95,88],[35,24,204,113,109,221],"
         "[3,154,104,235,25,130],[15,253,225,159,78,233],[68,85,180,214,245,0]]")
KERNEL = "[[1,0,1],[0,1,0],[1,0,1]]"
E15_MAP = [[429, 505, 686, 856], [261, 792, 412, 640], [633, 653, 851, 751],
           [608, 913, 713, 657]]


def test_e15_map_and_first_cell(cli) -> None:
    payload = cli.json(["derive", "conv", "--image", IMAGE, "--kernel", KERNEL])
    assert payload["output"] == E15_MAP
    assert payload["first_cell"] == 429
    assert payload["steps"][-1]["value"] == 429
    assert payload["steps"][-1]["numeric"].endswith("= 429")
    assert "18·1 + 54·0 + 51·1" in payload["steps"][1]["numeric"]
    assert [step["rule"] for step in payload["steps"]] == ["sum", "product", "simplify"]


@pytest.mark.parametrize(("stride", "padding"), [(2, 0), (1, 1), (2, 1), (3, 2)])
def test_stride_and_padding_match_numpy(cli, stride: int, padding: int) -> None:
    payload = cli.json(["derive", "conv", "--image", IMAGE, "--kernel", "[[1,2],[-1,0.5]]",
                        "--stride", str(stride), "--padding", str(padding)])
    x = np.pad(np.array(eval(IMAGE), dtype=float), padding)
    k = np.array([[1, 2], [-1, 0.5]])
    size = (x.shape[0] - 2) // stride + 1
    expected = [[float(np.sum(x[i * stride:i * stride + 2, j * stride:j * stride + 2] * k))
                 for j in range(size)] for i in range(size)]
    assert rel_err(np.array(payload["output"]), np.array(expected)) < 1e-12


def test_text_shows_the_map(cli) -> None:
    text = cli.run(["derive", "conv", "--image", IMAGE, "--kernel", KERNEL]).stdout
    assert "429" in text and "913" in text


@pytest.mark.parametrize(("args", "words"), [
    (["--image", "[[1,2,3],[4,5]]", "--kernel", "[[1]]"], "ragged"),
    (["--image", "[[1,2],[3,4]]", "--kernel", KERNEL], "larger than the padded image"),
    (["--image", IMAGE, "--kernel", KERNEL, "--stride", "0"], "--stride: expected an integer ≥ 1"),
    (["--image", IMAGE, "--kernel", "[[1,2,3],[4,5,6]]"], "square"),
    (["--image", IMAGE, "--kernel", KERNEL, "--padding", "-1"], "padding"),
    (["--image", "[1,2,3]", "--kernel", KERNEL], "matrix"),
])
def test_bad_input_fails_with_one_line(cli, args: list[str], words: str) -> None:
    assert words in cli.fails(["derive", "conv", *args])
