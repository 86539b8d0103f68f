"""Fuzz properties of the file loaders (issue 9): IDX, CSV, PNG and checkpoints. Random bytes and
mutated valid files only ever load or raise :class:`~chainrule.errors.ChainruleError`, never another
exception (the parsers' own properties are in tests/derive/test_fuzz_parsers.py)."""

from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule.errors import ChainruleError
from chainrule.train.checkpoint import load_checkpoint
from chainrule.train.data.csv import parse_numeric_rows
from chainrule.train.data.idx import encode_idx, parse_idx
from chainrule.train.prediction import png_pixels
from chainrule.train.session import TrainOptions, start

_SETTINGS = settings(max_examples=150, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow,
                                            HealthCheck.function_scoped_fixture])


@st.composite
def mutated_bytes(draw: st.DrawFn, seed: bytes) -> bytes:
    """``seed`` with a few bytes flipped, cut, repeated or inserted."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        kind = draw(st.sampled_from(["flip", "cut", "repeat", "insert"]))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at:at + draw(st.integers(1, 16))]
        elif kind == "repeat":
            data[at:at] = data[at:at + draw(st.integers(1, 16))]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


def _only_our_error(load, data: bytes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            load(data)
        except ChainruleError:
            pass


IDX = encode_idx(np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3))
CSV = b"x0,x1,label\n0.5,1.0,0\n-1,2e-3,1\n3,4,1\n"


def _png() -> bytes:
    from matplotlib import image
    buffer = io.BytesIO()
    image.imsave(buffer, np.linspace(0, 1, 64).reshape(8, 8), format="png", cmap="gray")
    return buffer.getvalue()


PNG = _png()


def test_the_seeds_are_valid() -> None:
    """Each property starts from a file its loader accepts (else the mutations test nothing)."""
    assert parse_idx(IDX).shape == (2, 3, 3)
    assert len(parse_numeric_rows(CSV, source="seed")) == 3
    assert png_pixels(PNG, source="seed").shape[:2] == (8, 8)


@_SETTINGS
@given(st.one_of(st.binary(max_size=256), mutated_bytes(IDX)))
def test_idx_parser_gives_only_its_own_error(data: bytes) -> None:
    _only_our_error(lambda d: parse_idx(d, source="fuzz"), data)


@_SETTINGS
@given(st.one_of(st.binary(max_size=256), mutated_bytes(CSV)))
def test_csv_parser_gives_only_its_own_error(data: bytes) -> None:
    _only_our_error(lambda d: parse_numeric_rows(d, source="fuzz"), data)


@_SETTINGS
@given(st.one_of(st.binary(max_size=256), mutated_bytes(PNG)))
def test_png_reader_gives_only_its_own_error(data: bytes) -> None:
    _only_our_error(lambda d: png_pixels(d, source="fuzz"), data)


@pytest.fixture(scope="module")
def checkpoint_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("ck") / "ck.npz"
    start("mlp:2-3-2", "xor", TrainOptions(epochs=1, batch=4, optimizer="adam"), out=out).run()
    return out.read_bytes()


def _stored(data: bytes) -> bytes:
    """A valid checkpoint rewritten without compression, so byte mutations reach the arrays."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        members = {name: source.read(name) for name in source.namelist()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as target:
        for name, content in members.items():
            target.writestr(name, content)
    return buffer.getvalue()


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_checkpoint_loader_gives_only_its_own_error(checkpoint_bytes: bytes, tmp_path: Path,
                                                    data: st.DataObject) -> None:
    seed = _stored(checkpoint_bytes)
    raw = data.draw(st.one_of(st.binary(max_size=512), mutated_bytes(seed),
                              mutated_bytes(checkpoint_bytes)))
    path = tmp_path / "fuzz.npz"
    path.write_bytes(raw)
    _only_our_error(lambda _: load_checkpoint(path), raw)


def test_the_uncompressed_checkpoint_seed_loads(checkpoint_bytes: bytes, tmp_path: Path) -> None:
    path = tmp_path / "stored.npz"
    path.write_bytes(_stored(checkpoint_bytes))
    assert load_checkpoint(path).params
