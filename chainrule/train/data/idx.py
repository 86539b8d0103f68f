"""The IDX file format of MNIST and Fashion-MNIST, read (gzip or raw) and written, with checks.

Format (LeCun, Cortes & Burges, "The MNIST database", yann.lecun.com/exdb/mnist): two zero bytes,
one type byte (0x08 ubyte, 0x09 sbyte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), one
byte with the number of dimensions, then each dimension as a big-endian uint32, then the data,
big-endian, row-major. The reader checks the magic number, the dimensions and that the data is
exactly as long as they say, so a corrupt or truncated file is one clear error. It reads only
regular files, at most ``CHAINRULE_MAX_INPUT_BYTES`` (raw or unpacked from gzip), and multiplies
the dimensions as Python integers, so that 65536⁴ does not wrap to 0.
"""

from __future__ import annotations

import gzip
import io
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from chainrule.errors import ChainruleError
from chainrule.fsutil import atomic_write_bytes
from chainrule.train.data.limits import INPUT_BYTES, read_bounded

IDX_TYPES: dict[int, str] = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4",
                             0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"


class IdxError(ChainruleError):
    """An IDX file that is corrupt, truncated or not IDX at all."""


def read_idx(path: str | Path, *, stdin_ok: bool = False) -> np.ndarray:
    """Read one IDX file (gzip-compressed or raw) into a native-endian array."""
    path = Path(path)
    return parse_idx(unpack(read_bounded(path, "IDX file", stdin_ok=stdin_ok), source=str(path)),
                     source=str(path))


def parse_idx(data: bytes, *, source: str = "IDX data") -> np.ndarray:
    """Decode IDX bytes, checking the magic number, the dimensions and the size."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in IDX_TYPES:
        raise IdxError(f"{source} is not an IDX file: its magic number is {data[:4].hex() or 'empty'}"
                       ", expected 0000 then a type byte (08, 09, 0b, 0c, 0d, 0e) and a dimension"
                       " count")
    ndim = data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise IdxError(f"{source} is truncated or corrupt: header says {ndim} dimensions, "
                       f"file has {len(data)} bytes")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(IDX_TYPES[data[2]])
    expected = math.prod(dims) * dtype.itemsize  # Python ints: 65536**4 does not wrap to 0
    if len(data) - header != expected:
        raise IdxError(f"{source} is truncated or corrupt: dimensions {list(dims)} need "
                       f"{expected} data bytes, found {len(data) - header}")
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return array.astype(dtype.newbyteorder("="))


def encode_idx(array: np.ndarray) -> bytes:
    """IDX bytes for ``array`` (its dtype must be one the format has)."""
    codes = {np.dtype(v).newbyteorder("="): k for k, v in IDX_TYPES.items()}
    dtype = np.dtype(array.dtype).newbyteorder("=")
    if dtype not in codes:
        raise ChainruleError(f"IDX cannot hold dtype {array.dtype}: expected uint8, int8, int16, "
                             "int32, float32 or float64")
    header = bytes([0, 0, codes[dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=IDX_TYPES[codes[dtype]]).tobytes()


def write_idx(path: str | Path, array: np.ndarray, *, compress: bool | None = None) -> Path:
    """Write ``array`` as IDX, gzip-compressed when ``compress`` (default: the name ends in .gz)."""
    path = Path(path)
    data = encode_idx(array)
    if compress if compress is not None else path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    return atomic_write_bytes(path, data)


def unpack(raw: bytes, *, source: str) -> bytes:
    """``raw`` itself, or what it unpacks to when it is gzip (at most ``CHAINRULE_MAX_INPUT_BYTES``)."""
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    limit = INPUT_BYTES.value
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as handle:
            data = handle.read(limit + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise IdxError(f"{source!r} is a corrupt or truncated gzip file ({exc})") from None
    INPUT_BYTES.check(len(data), f"{source!r} unpacked")
    return data
