"""Another revision of chainrule, unpacked beside this tree, for before/after timings in one run.

``checkout(rev)`` writes the ``chainrule`` package of a git revision (``git archive REV chainrule``)
into ``$XDG_CACHE_HOME/chainrule-bench/<full sha>`` (default ``~/.cache``) and returns that folder,
to put first on ``PYTHONPATH`` (the editable install of this tree is a meta-path finder that runs
after ``PYTHONPATH``). The folder is kept, keyed by the commit, so that Numba's cache of the
revision's static kernels (``__pycache__`` beside their files) stays warm between runs; generated
kernels share chainrule's own cache, whose files are named by the hash of their source.
``resolve(value)`` accepts a folder (used as it is) or a revision.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "chainrule-bench"


def checkout(rev: str) -> Path:
    """The folder holding revision ``rev``'s ``chainrule`` package (unpacked on first use)."""
    sha = _git("rev-parse", "--verify", f"{rev}^{{commit}}")
    folder = cache_root() / sha
    if (folder / "chainrule" / "__init__.py").exists():
        return folder
    cache_root().mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{sha[:12]}-", dir=cache_root()))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", sha, "chainrule"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(staging)], input=archive, check=True)
    try:
        staging.rename(folder)  # atomic: a concurrent run finds the whole package or none
    except OSError:  # another run unpacked it first
        subprocess.run(["rm", "-rf", str(staging)], check=True)
    return folder


def resolve(value: str) -> Path:
    """A folder given as ``value`` as it is, else the checkout of the revision ``value``."""
    return Path(value) if Path(value).is_dir() else checkout(value)


def describe(rev: str) -> str:
    """``<short sha> ("<subject, cut to 60 characters>")`` of a revision, for the report."""
    subject = _git("log", "-1", "--format=%s", rev)
    cut = subject if len(subject) <= 60 else subject[:59] + "…"
    return f'{_git("rev-parse", "--short", rev)} ("{cut}")'
