"""One-hot encoding: a class label k of C classes becomes the unit vector e_k.

Follows Goodfellow, Bengio & Courville, *Deep Learning* (2016), §6.2.2.3 (softmax targets) and
Bishop, *Pattern Recognition and Machine Learning* (2006), §4.1 (the 1-of-K coding scheme).
"""

from __future__ import annotations

from chainrule.errors import ChainruleError


def one_hot(label: int, classes: int) -> list[float]:
    """e_label in R^classes: 1.0 at position ``label`` (0-based), 0.0 elsewhere."""
    if isinstance(label, bool) or not isinstance(label, int) or not isinstance(classes, int):
        raise ChainruleError(f"one_hot needs integers, got label={label!r}, classes={classes!r}")
    if classes < 1:
        raise ChainruleError(f"classes must be at least 1, got {classes}")
    if not 0 <= label < classes:
        raise ChainruleError(f"label {label} is outside 0..{classes - 1}")
    return [1.0 if k == label else 0.0 for k in range(classes)]
