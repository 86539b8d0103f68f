"""One-hot encoding (E19)."""

from __future__ import annotations

import pytest

from chainrule.derive.encoding import one_hot
from chainrule.errors import ChainruleError


def test_e19_label_2_of_10() -> None:
    assert one_hot(2, 10) == [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]


def test_every_label_is_a_unit_vector() -> None:
    for label in range(4):
        vector = one_hot(label, 4)
        assert sum(vector) == 1.0 and vector[label] == 1.0


@pytest.mark.parametrize(("label", "classes", "message"), [
    (10, 10, "outside 0..9"), (-1, 3, "outside 0..2"), (0, 0, "at least 1"),
    (1.0, 3, "needs integers"), (True, 3, "needs integers"),
])
def test_bad_labels(label: object, classes: int, message: str) -> None:
    with pytest.raises(ChainruleError, match=message):
        one_hot(label, classes)  # type: ignore[arg-type]
