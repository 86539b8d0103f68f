"""Every gallery script runs, writes what it returns, and does so deterministically."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import assert_compiles, needs_pdflatex

from chainrule.cli.gallery import find_gallery, run_entry

ENTRIES = find_gallery()


def _digest(paths: list[Path]) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_gallery_has_entries() -> None:
    assert len(ENTRIES) >= 10, [e.key for e in ENTRIES]


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.key for e in ENTRIES])
def test_entry_builds_deterministically(entry, tmp_path: Path) -> None:
    first = run_entry(entry, tmp_path / "a")
    second = run_entry(entry, tmp_path / "b")
    assert first, f"{entry.key} wrote nothing"
    assert all(path.is_file() and path.stat().st_size > 0 for path in first)
    assert {p.suffix for p in first} >= {".tex", ".md"}, [p.name for p in first]
    assert _digest(first) == _digest(second)
    assert entry.title and not entry.title.startswith("e"), entry.title


@needs_pdflatex
@pytest.mark.parametrize("entry", ENTRIES, ids=[e.key for e in ENTRIES])
def test_entry_latex_compiles(entry, tmp_path: Path) -> None:
    for tex in [p for p in run_entry(entry, tmp_path) if p.suffix == ".tex"]:
        assert_compiles(tex)
