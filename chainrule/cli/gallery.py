"""Find and run the gallery scripts (gallery/eNN_*.py), each a standalone worked example.

A script's module docstring gives its title; its ``build(out_dir)`` writes the outputs and returns
their paths.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path

from chainrule.errors import ChainruleError

_ENTRY = re.compile(r"^(e\d\d)_\w+\.py$")


@dataclass(frozen=True)
class GalleryEntry:
    key: str  # "e07"
    path: Path
    title: str


def gallery_folder() -> Path:
    """The gallery/ folder of the checkout (or ``$CHAINRULE_GALLERY``)."""
    configured = os.environ.get("CHAINRULE_GALLERY")
    folder = Path(configured) if configured else Path(__file__).resolve().parents[2] / "gallery"
    if not folder.is_dir():
        raise ChainruleError(f"gallery folder {str(folder)!r} not found: run from a chainrule "
                             "checkout or set CHAINRULE_GALLERY")
    return folder


def find_gallery(folder: Path | None = None) -> list[GalleryEntry]:
    """Every gallery script, in order of its example number."""
    folder = folder or gallery_folder()
    entries = []
    for path in sorted(folder.glob("e*.py")):
        match = _ENTRY.match(path.name)
        if match:
            entries.append(GalleryEntry(match.group(1), path, _title(path)))
    return entries


def run_entry(entry: GalleryEntry, out_dir: Path) -> list[Path]:
    """Import the script and call its ``build(out_dir)``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    spec = importlib.util.spec_from_file_location(f"chainrule_gallery_{entry.key}", entry.path)
    if spec is None or spec.loader is None:
        raise ChainruleError(f"cannot load gallery script {str(entry.path)!r}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.build(out_dir))


def _title(path: Path) -> str:
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or path.stem
    return docstring.strip().splitlines()[0]
