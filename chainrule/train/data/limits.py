"""Caps on what one input may make chainrule read or hold, and the one bounded way to read a file.

Each cap is refused *before* the work, with the limit and the environment variable that raises it
named in the one-line error (README, "Security and failure behaviour"). The whole-number caps are
:class:`chainrule.limits.Cap` instances, like the caps on specs and expressions, and the
real-number bound a :class:`chainrule.limits.BoundCap`:

====================================  =============  ==============================================
variable                              default        what it bounds
====================================  =============  ==============================================
``CHAINRULE_MAX_INPUT_BYTES``         268435456      bytes read from one data/input file (256 MiB),
                                                     and what a gzip IDX file may unpack to
``CHAINRULE_MAX_IMAGE_PIXELS``        16777216       width × height of a PNG (4096²), read from its
                                                     header before any pixel is decoded
``CHAINRULE_MAX_CHECKPOINT_BYTES``    1073741824     a checkpoint's file size and the sum of the
                                                     array sizes its .npy headers declare (1 GiB)
``CHAINRULE_MAX_PERCEPTRON_STEPS``    200000         epochs × patterns of a perceptron trace
``CHAINRULE_MAX_TRACE_VALUES``        2000000        epochs × patterns × inputs of that trace
``CHAINRULE_MAX_ABS_VALUE``           1e6            |value| of any number in a CSV, IDX float or
                                                     perceptron data (float32 squares stay finite)
====================================  =============  ==============================================

Files are read only when they are regular files (``-`` means stdin where a command says so): a
device such as /dev/zero, a FIFO or a folder is refused by its kind, and at most cap + 1 bytes are
ever read.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import numpy as np

from chainrule.errors import ChainruleError
from chainrule.limits import BoundCap, Cap

STDIN = "-"


INPUT_BYTES = Cap("CHAINRULE_MAX_INPUT_BYTES", 256 * 2**20, "bytes")
IMAGE_PIXELS = Cap("CHAINRULE_MAX_IMAGE_PIXELS", 4096 * 4096, "pixels")
CHECKPOINT_BYTES = Cap("CHAINRULE_MAX_CHECKPOINT_BYTES", 2**30, "bytes")
PERCEPTRON_STEPS = Cap("CHAINRULE_MAX_PERCEPTRON_STEPS", 200_000, "steps (epochs × patterns)")
TRACE_VALUES = Cap("CHAINRULE_MAX_TRACE_VALUES", 2_000_000, "values (epochs × patterns × inputs)")
ABS_VALUE = BoundCap("CHAINRULE_MAX_ABS_VALUE", 1e6)


def check_regular_file(path: Path, what: str) -> os.stat_result:
    """The file's status, when ``path`` is a regular file (symlinks followed); else one error."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ChainruleError(f"{what} {str(path)!r} does not exist") from None
    except OSError as exc:
        raise ChainruleError(f"cannot read {what} {str(path)!r}: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ChainruleError(f"{what} {str(path)!r} is a folder, expected a file")
    if not stat.S_ISREG(info.st_mode):
        raise ChainruleError(f"{what} {str(path)!r} is not a regular file (a device, FIFO or "
                             "socket): expected a file")
    return info


def read_bounded(path: Path, what: str, cap: Cap = INPUT_BYTES, *, stdin_ok: bool = False) -> bytes:
    """The bytes of a regular file (or of stdin, ``-``, when ``stdin_ok``), at most ``cap``."""
    limit = cap.value
    if stdin_ok and str(path) == STDIN:
        data = sys.stdin.buffer.read(limit + 1)
        cap.check(len(data), f"{what} on stdin")
        return data
    info = check_regular_file(path, what)
    cap.check(info.st_size, f"{what} {str(path)!r}")
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise ChainruleError(f"cannot read {what} {str(path)!r}: {exc.strerror}") from None
    cap.check(len(data), f"{what} {str(path)!r}")
    return data


def check_values(array: np.ndarray, what: str) -> None:
    """Refuse NaN, ±inf and magnitudes over ``CHAINRULE_MAX_ABS_VALUE`` in a float array."""
    values = np.asarray(array)
    if values.size == 0 or not np.issubdtype(values.dtype, np.floating):
        return
    finite = np.isfinite(values)
    if not finite.all():
        index = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ChainruleError(f"{what} holds a non-finite value ({values[index]}) at index "
                             f"{list(index)}: expected finite numbers")
    largest = float(np.max(np.abs(values)))
    limit = ABS_VALUE.value
    if largest > limit:
        raise ChainruleError(f"{what} holds a value of magnitude {largest:g}, over the limit of "
                             f"{limit:g} (rescale the data, or raise it with {ABS_VALUE.env}=X)")
