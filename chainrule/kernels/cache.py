"""The cache of generated kernel modules: one file per source, named by the hash of that source.

Numba's ``cache=True`` needs a real file to locate its cache (it does not work for source run
through ``exec``), so each generated module is written to ``$CHAINRULE_CACHE`` (default
``~/.cache/chainrule/kernels``) as ``<prefix>_<sha256>.py`` (the prefix cut down to
``[A-Za-z0-9_]``: ``act_leaky_relu:0.1`` becomes ``act_leaky_relu_0_1``), written once, registered in
``sys.modules`` before it executes, and then imported. A second process finds both the file and
Numba's compiled cache beside it, and starts warm (DESIGN.md, "Kernels: what we measured").

A cached file is trusted only if its content still hashes to its name: one that was edited,
truncated or corrupted is rewritten (atomically) from the source before it is imported, and Numba,
which keys its compiled cache on the file's time stamp and size, recompiles it. Numba's own
cache files (``__pycache__/<module>.*.nbi``, ``.nbc``: pickles that Numba loads) are parsed
opcode by opcode without being loaded; a truncated or garbled one is deleted with its siblings, so
that Numba recompiles instead of failing. Numba loads them with ``pickle``, so a cache folder that
another user can write is refused (README, "Security and failure behaviour").
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import os
import pickletools
import re
import stat
import sys
from pathlib import Path
from types import ModuleType

from chainrule.errors import ChainruleError
from chainrule.fsutil import atomic_write_text


def cache_dir() -> Path:
    """The folder that holds generated modules: ``$CHAINRULE_CACHE`` or the user cache."""
    configured = os.environ.get("CHAINRULE_CACHE")
    folder = Path(configured) if configured else Path.home() / ".cache" / "chainrule" / "kernels"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ChainruleError(f"cannot create the kernel cache folder {str(folder)!r}: "
                             f"{exc.strerror}; set CHAINRULE_CACHE to a writable folder") from None
    for checked in (folder, folder / "__pycache__"):
        check_private(checked)
    return folder


def cache_subdir(name: str) -> Path:
    """A folder inside the cache folder (``data`` holds the decoded data sets), private like it."""
    folder = cache_dir() / name
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise ChainruleError(f"cannot create the cache folder {str(folder)!r}: {exc.strerror}; "
                             "set CHAINRULE_CACHE to a writable folder") from None
    check_private(folder)
    return folder


def check_private(folder: Path) -> None:
    """Refuse a cache folder that another user could write to: Numba unpickles the files in it,
    so such a folder would let that user run code as us. Root-owned folders are trusted."""
    try:
        info = folder.stat()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ChainruleError(f"cannot use the kernel cache folder {str(folder)!r}: "
                             f"{exc.strerror}") from None
    if info.st_mode & stat.S_IWOTH or info.st_uid not in (os.geteuid(), 0):
        raise ChainruleError(f"the kernel cache folder {str(folder)!r} can be written by other "
                             "users, and Numba loads its files with pickle; set CHAINRULE_CACHE "
                             "to a folder only you can write")


def module_name(prefix: str, source: str) -> str:
    """``chainrule_k_<prefix>_<first 16 hex digits of sha256(source)>``, a Python identifier and a
    portable file name: every character of ``prefix`` outside ``[A-Za-z0-9_]`` becomes ``_``
    (``leaky_relu:0.1`` → ``leaky_relu_0_1``). The hash of the source keeps names apart."""
    return f"chainrule_k_{_identifier(prefix)}_{_digest(source.encode('utf-8'))}"


def _identifier(prefix: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", prefix, flags=re.ASCII)


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:16]


def verified(path: Path, name: str) -> bool:
    """Whether the file at ``path`` exists and its content hashes to the digest in ``name``."""
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise ChainruleError(f"cannot read the kernel cache file {str(path)!r}: "
                             f"{exc.strerror}; set CHAINRULE_CACHE to a writable folder") from None
    return name.endswith(f"_{_digest(content)}")


def load_source(prefix: str, source: str) -> ModuleType:
    """Import the module with this source, writing it to the cache folder the first time."""
    name = module_name(prefix, source)
    if name in sys.modules:
        return sys.modules[name]
    path = cache_dir() / f"{name}.py"
    if not verified(path, name):  # missing, or no longer the source its name is the hash of
        atomic_write_text(path, source, what="kernel cache file")
    drop_unreadable_numba_cache(path.parent, name)
    return import_file(name, path)


def import_file(name: str, path: Path) -> ModuleType:
    """Import the cached module file ``path`` as ``name`` (registered in ``sys.modules`` first)."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ChainruleError(f"cannot import generated kernel module {str(path)!r}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before exec, so that numba's cache locator finds the module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def drop_unreadable_numba_cache(folder: Path, name: str) -> list[Path]:
    """Delete Numba's cache files of module ``name`` if any of them is not a well-formed pickle
    stream (checked with :func:`pickletools.genops`, which parses and never loads)."""
    files = sorted((folder / "__pycache__").glob(f"{name}.*.nb[ic]"))
    if all(_well_formed(f) for f in files):
        return []
    for file in files:
        with contextlib.suppress(OSError):
            file.unlink()
    return files


def _well_formed(path: Path) -> bool:
    """An index (``.nbi``) holds two pickles, a data file (``.nbc``) one."""
    try:
        stream = io.BytesIO(path.read_bytes())
        for _ in range(2 if path.suffix == ".nbi" else 1):
            for _op in pickletools.genops(stream):
                pass
    except (OSError, ValueError, EOFError, KeyError, IndexError, TypeError,
            UnicodeDecodeError):
        return False
    return True
