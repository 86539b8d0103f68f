"""Atomic writes: the file appears whole or not at all, and bad folders are one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainrule.errors import ChainruleError
from chainrule.fsutil import atomic_write_bytes, atomic_write_text


def test_writes_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    atomic_write_text(target, "first")
    atomic_write_text(target, "second")
    assert target.read_text() == "second"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ChainruleError, match="does not exist"):
        atomic_write_bytes(tmp_path / "nope" / "x.bin", b"x")


def test_failure_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write_text(tmp_path / "x.txt", "data")
    assert list(tmp_path.iterdir()) == []
