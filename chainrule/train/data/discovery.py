"""Where IDX data sets live: a folder of four IDX files, found by name, and the search path.

Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017) is looked for in ``$CHAINRULE_DATA`` (the folder
itself or its ``fashion-mnist`` subfolder), then in the user data folder
(``$XDG_DATA_HOME/chainrule/fashion-mnist``, by default ``~/.local/share/chainrule/fashion-mnist``),
then in ``/usr/share/datasets/fashion-mnist``, where the Debian package
``dataset-fashion-mnist`` puts it. MNIST uses the same format from a folder the user supplies.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from chainrule.errors import ChainruleError

SYSTEM_DIRS: dict[str, list[Path]] = {
    "fashion-mnist": [Path("/usr/share/datasets/fashion-mnist")],
    "mnist": [],
}
_KINDS = {"images": 3, "labels": 1}


class MissingData(ChainruleError):
    """A named data set whose files are not where chainrule looks."""


@dataclass(frozen=True)
class IdxFiles:
    """The four IDX files of a train/test image set."""

    train_images: Path
    train_labels: Path
    test_images: Path
    test_labels: Path


def user_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "chainrule"


def idx_files(folder: Path) -> IdxFiles | None:
    """The four files in ``folder`` (``train-images-idx3-ubyte[.gz]``, ``t10k-labels…``, or the
    ``train-images.idx3-ubyte`` spelling), or ``None`` if any is missing."""
    found: dict[str, Path] = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        for kind, dims in _KINDS.items():
            path = _first_existing(folder, prefix, kind, dims)
            if path is None:
                return None
            found[f"{split}_{kind}"] = path
    return IdxFiles(**found)


def _first_existing(folder: Path, prefix: str, kind: str, dims: int) -> Path | None:
    for sep in ("-", "."):
        for suffix in (".gz", ""):
            path = folder / f"{prefix}-{kind}{sep}idx{dims}-ubyte{suffix}"
            if path.is_file():
                return path
    return None


def search_dirs(name: str) -> list[Path]:
    """The folders searched for the named set, in order."""
    dirs: list[Path] = []
    if env := os.environ.get("CHAINRULE_DATA"):
        dirs += [Path(env) / name, Path(env)]
    dirs.append(user_data_dir() / name)
    return dirs + SYSTEM_DIRS.get(name, [])


def find_named(name: str) -> IdxFiles:
    """The IDX files of ``fashion-mnist`` or ``mnist``, or a one-line error saying how to get them."""
    dirs = search_dirs(name)
    for folder in dirs:
        if (files := idx_files(folder)) is not None:
            return files
    looked = ", ".join(str(d) for d in dirs)
    if name == "fashion-mnist":
        raise MissingData(f"Fashion-MNIST not found (looked in {looked}): install it with "
                          "`sudo apt-get install dataset-fashion-mnist`, or put its 4 IDX files in "
                          "a folder and set CHAINRULE_DATA to that folder")
    raise MissingData(f"{name.upper()} not found (looked in {looked}): put its 4 IDX files "
                      "(train-images-idx3-ubyte.gz, …) in a folder and set CHAINRULE_DATA to it, "
                      "or pass the folder as --data DIR")


def files_in(folder: Path) -> IdxFiles:
    """The IDX files in a folder the user named, or a one-line error listing what is expected."""
    if (files := idx_files(folder)) is None:
        raise MissingData(f"folder {str(folder)!r} does not hold the 4 IDX files: expected "
                          "train-images-idx3-ubyte, train-labels-idx1-ubyte, "
                          "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each may end in .gz)")
    return files
