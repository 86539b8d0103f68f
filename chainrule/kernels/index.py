"""The kernel cache's index: what a derivation gave, recorded so that a warm start derives nothing.

Generating a kernel module imports SymPy (about half a second) and derives and prints its
expressions (up to 0.4 s more), only to find that the module, named by the hash of its source
(:mod:`chainrule.kernels.cache`), is already in the cache. The index remembers, per request
(``module:act:relu``, ``module:update``), the name of the module the request produced, and the
few facts of derive's registries that building a network asks for (:mod:`.facts`: an
activation's canonical name, a loss's default output and unit factor). Training from a warm
cache therefore imports no SymPy (README, "Security and failure behaviour": the kernel cache).

The index is a JSON file in the kernel cache folder named by the *generator stamp*: a SHA-256 of
every source file of ``chainrule/derive`` and ``chainrule/kernels``, chainrule's version,
SymPy's ``release.py`` and the BLAS entry the kernels call (``blas.FLAVOUR``). Editing any of
them, another SymPy or another BLAS opens a new, empty index, so an
entry never outlives the code that derived it: the request is derived again and recorded anew.
An entry is used only when it is well formed, and a module only when its file still hashes to
its name; anything else is a miss. The file is replaced atomically; two processes that record at
once may lose one entry, which is then derived again. Numba's cache files of a module are parsed
(:func:`.cache.drop_unreadable_numba_cache`) only when their names, sizes and times differ from
those recorded after the last check that found them well formed.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import re
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar, cast

from chainrule import __version__
from chainrule.errors import ChainruleError
from chainrule.fsutil import atomic_write_text
from chainrule.kernels.cache import (
    cache_dir,
    drop_unreadable_numba_cache,
    import_file,
    load_source,
    verified,
)

T = TypeVar("T")
PACKAGE = Path(__file__).resolve().parent.parent  # chainrule/
GENERATORS = ("derive", "kernels")  # the folders whose code writes the kernels
_MODULE_NAME = re.compile(r"chainrule_k_[A-Za-z0-9_]+_[0-9a-f]{16}", re.ASCII)
_LOADED: dict[Path, dict[str, Any]] = {}  # index path -> its entries, read once per process


@cache
def generator_stamp(package: Path = PACKAGE) -> str:
    """16 hex digits of SHA-256 over the generating sources, chainrule's version, SymPy's and the
    BLAS entry."""
    from chainrule.kernels.blas import FLAVOUR  # the products generated modules call

    digest = hashlib.sha256(f"chainrule {__version__}\n{FLAVOUR}\n".encode())
    for folder in GENERATORS:
        for path in sorted((package / folder).rglob("*.py")):
            digest.update(f"\n{path.relative_to(package).as_posix()}\n".encode())
            digest.update(path.read_bytes())
    sympy = importlib.util.find_spec("sympy")  # finds the package without importing it
    if sympy is not None and sympy.origin:
        with contextlib.suppress(OSError):
            digest.update(Path(sympy.origin).with_name("release.py").read_bytes())
    return digest.hexdigest()[:16]


def index_path() -> Path:
    return cache_dir() / f"index-{generator_stamp()}.json"


def entries() -> dict[str, Any]:
    """The index of the current stamp (empty when there is none, or it does not parse)."""
    path = index_path()
    if path not in _LOADED:
        _LOADED[path] = _read(path)
    return _LOADED[path]


def _read(path: Path) -> dict[str, Any]:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def record(key: str, value: Any) -> None:
    """Add an entry, merged with what other processes wrote meanwhile; a failed write only
    costs the next start a derivation."""
    path = index_path()
    current = {**_read(path), key: value}
    _LOADED[path] = current
    with contextlib.suppress(ChainruleError, OSError):
        atomic_write_text(path, json.dumps(current, sort_keys=True, indent=0) + "\n",
                          what="kernel cache index")


def remembered(key: str, compute: Callable[[], T], valid: Callable[[object], bool]) -> T:
    """The recorded value of ``key`` when ``valid`` accepts it, else ``compute()``, recorded."""
    found = entries().get(key)
    if valid(found):
        return cast(T, found)
    value = compute()
    record(key, value)
    return value


def indexed_module(key: str, derive: Callable[[], tuple[str, str]]) -> ModuleType:
    """The generated module of request ``key``: imported from the file the index names when it
    is still the source its name is the hash of, else ``load_source(*derive())`` and recorded."""
    name = entries().get(f"module:{key}")
    if isinstance(name, str) and _MODULE_NAME.fullmatch(name):
        if name in sys.modules:
            return sys.modules[name]
        path = cache_dir() / f"{name}.py"
        if verified(path, name):
            check_numba_cache(path.parent, name)
            return import_file(name, path)
    module = load_source(*derive())
    record(f"module:{key}", module.__name__)
    return module


def check_numba_cache(folder: Path, name: str) -> None:
    """:func:`drop_unreadable_numba_cache`, skipped when Numba's files of ``name`` are those (by
    name, size and modification time) that the last such check found well formed."""
    try:
        signature = [[path.name, info.st_size, info.st_mtime_ns]
                     for path in sorted((folder / "__pycache__").glob(f"{name}.*.nb[ic]"))
                     for info in [path.stat()]]
    except OSError:
        signature = []
    if signature and entries().get(f"numba:{name}") == signature:
        return
    if not drop_unreadable_numba_cache(folder, name) and signature:
        record(f"numba:{name}", signature)
