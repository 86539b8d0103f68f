"""The worked convolution (E15, seed 002) and its input checks."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.derive.conv_example import convolve
from chainrule.errors import ChainruleError

IMAGE = [[18, 54, 51, 239, 244, 188], [55, 121, 75, 78, 95, 88], [35, 24, 204, 113, 109, 221],
         [3, 154, 104, 235, 25, 130], [15, 253, 225, 159, 78, 233], [68, 85, 180, 214, 245, 0]]
KERNEL = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]


def test_e15() -> None:
    example = convolve(IMAGE, KERNEL)
    assert example.first_cell == 429
    assert example.output == [[429, 505, 686, 856], [261, 792, 412, 640],
                              [633, 653, 851, 751], [608, 913, 713, 657]]
    assert example.steps[-1].value == 429
    assert example.steps[1].numeric == "18·1 + 54·0 + 51·1 + 55·0 + 121·1 + 75·0 + 35·1 + 24·0 + 204·1"


def test_padding_pads_with_zeros_and_shows_the_padded_image() -> None:
    example = convolve([[1, 2], [3, 4]], [[1, 1], [1, 1]], padding=1)
    assert example.output == [[1, 3, 2], [4, 10, 6], [3, 7, 4]]
    assert example.padded[0] == [0, 0, 0, 0]
    assert example.steps[1].numeric == "0·1 + 0·1 + 0·1 + 1·1"


def test_stride_two_matches_numpy() -> None:
    example = convolve(IMAGE, [[1, -1], [2, 0.5]], stride=2)
    x, k = np.array(IMAGE, float), np.array([[1, -1], [2, 0.5]])
    expected = [[np.sum(x[i:i + 2, j:j + 2] * k) for j in (0, 2, 4)] for i in (0, 2, 4)]
    assert np.allclose(example.output, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("image", "kernel", "stride", "padding", "words"), [
    ([[1, 2], [3, 4]], KERNEL, 1, 0, "larger than the padded image 2×2"),
    ([[1, 2], [3]], [[1]], 1, 0, "ragged"),
    (IMAGE, [[1, 2]], 1, 0, "square"),
    (IMAGE, KERNEL, 0, 0, "stride must be at least 1"),
    (IMAGE, KERNEL, 1, -2, "padding must be 0 or more"),
    ([[0.0] * 65], [[1]], 1, 0, "the limit is 64×64"),
])
def test_bad_input(image, kernel, stride: int, padding: int, words: str) -> None:
    with pytest.raises(ChainruleError, match=words):
        convolve(image, kernel, stride=stride, padding=padding)


def test_a_kernel_that_fits_only_with_padding_is_accepted() -> None:
    assert convolve([[1, 2], [3, 4]], KERNEL, padding=1).output == [[5, 5], [5, 5]]


def test_the_symbolic_terms_are_in_the_order_of_the_numbers() -> None:
    """The numbers are image·kernel ("18·1 + …"): the symbolic line must be x·w, not w·x."""
    from chainrule.derive.printing.layers_text import expr_text
    example = convolve([[1, 2], [3, 4]], [[5, 6], [7, 8]])
    assert expr_text(example.steps[0].after).startswith("x[0,0]·w[0,0] + x[0,1]·w[0,1]")
    assert example.steps[1].numeric.startswith("1·5 + 2·6")
    assert "x[m,n]·w[m,n]" in example.steps[0].text
