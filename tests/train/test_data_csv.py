"""CSV files: header optional, last column the label or the target, seeded split."""

import numpy as np
import pytest

from chainrule.errors import ChainruleError
from chainrule.train.data import load_dataset


def test_classification_with_header(tmp_path):
    path = tmp_path / "gate.csv"
    path.write_text("p1,p2,label\n0,0,0\n0,1,1\n1,0,1\n1,1,1\n")
    data = load_dataset(str(path))
    assert data.n_classes == 2 and data.input_shape == (2,)
    np.testing.assert_array_equal(data.y_train, [0, 1, 1, 1])
    np.testing.assert_array_equal(data.x_test, data.x_train)  # under 10 rows: its own test split


def test_regression_without_header_is_split(tmp_path):
    path = tmp_path / "line.csv"
    path.write_text("".join(f"{x},{3 * x + 1.5}\n" for x in range(20)))
    data = load_dataset(str(path))
    assert data.task == "regression"
    assert len(data.x_train) == 16 and len(data.x_test) == 4
    np.testing.assert_allclose(data.y_train[:, 0], 3 * data.x_train[:, 0] + 1.5)


@pytest.mark.parametrize(("text", "message"), [
    ("a,b\n", "no data rows"),
    ("1,2\n3\n", "data row 2: expected 2 numbers"),
    ("1,2\n3,x\n", "data row 2"),
    ("1\n2\n", "expected 2 numbers"),
])
def test_bad_csv(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ChainruleError, match=message):
        load_dataset(str(path))
