"""The cache of generated kernel modules: one file per source, named by the hash of that source.

Numba's ``cache=True`` needs a real file to locate its cache (it does not work for source run
through ``exec``), so each generated module is written once to ``$CHAINRULE_CACHE`` (default
``~/.cache/chainrule/kernels``) as ``<prefix>_<sha256>.py``, never rewritten, registered in
``sys.modules`` before it executes, and then imported. A second process finds both the file and
Numba's compiled cache beside it, and starts warm (DESIGN.md, "Kernels: what we measured").
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
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
    return folder


def module_name(prefix: str, source: str) -> str:
    """``chainrule_k_<prefix>_<first 16 hex digits of sha256(source)>``."""
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]
    return f"chainrule_k_{prefix}_{digest}"


def load_source(prefix: str, source: str) -> ModuleType:
    """Import the module with this source, writing it to the cache folder the first time."""
    name = module_name(prefix, source)
    if name in sys.modules:
        return sys.modules[name]
    path = cache_dir() / f"{name}.py"
    if not path.exists():
        atomic_write_text(path, source)  # named by its hash, so never rewritten
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
