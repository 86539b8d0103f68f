"""Safe file output: check an output path before the work, then write it whole or not at all.

The policy (README, "Security and failure behaviour"):

* a regular file or a new path gets an atomic write: a temporary file ``.NAME.XXXXXXXX.tmp``
  beside it, fsync, then a rename over the target. A reader never sees half a file, and a failure
  (``ENOSPC``, ``EROFS``, ``EACCES``, Ctrl-C) removes the temporary file and leaves the old file
  as it was. A new file gets mode ``0666 & ~umask``; a replaced file keeps its mode (and, for
  root, its owner);
* ``-``, ``/dev/stdout``, ``/dev/stderr`` and ``/dev/fd/N`` are streams: text is written to them,
  binary output (checkpoints, PNG) is refused. A character device (``/dev/null``) or a FIFO is
  opened and written, never replaced;
* a symbolic link is refused (chainrule never writes through a link, so a link planted in a shared
  folder cannot redirect a write by root), unless it leads to a character device or a FIFO;
* a folder, a block device or a socket at the path is refused;
* two outputs of one command may not be the same file (:func:`check_distinct`).

Temporary files that a killed process left behind (older than this process, with our prefix for
the same target) are removed by the next write to that target.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from chainrule.errors import ChainruleError

_STARTED = time.time()  # temporary files older than this process are leftovers of a killed one
_FD_PATH = re.compile(r"^/(?:dev/fd|proc/self/fd)/(\d+)$")
_NAMED_FDS = {"-": 1, "/dev/stdout": 1, "/dev/stderr": 2}
_TEMP_RANDOM = r"[a-z0-9_]{8}"  # tempfile's name sequence: 8 of [a-z0-9_]


class Kind(Enum):
    """What is at an output path, and so how it is written."""

    NEW = "new"  # nothing yet: atomic write
    REPLACE = "replace"  # a regular file: atomic replace
    STREAM = "stream"  # a descriptor, a character device or a FIFO: opened and written


@dataclass(frozen=True)
class OutputTarget:
    """A checked output path."""

    path: Path
    kind: Kind
    fd: int | None = None  # for "-", /dev/stdout, /dev/fd/N: the descriptor to write to

    @property
    def identity(self) -> tuple[object, ...] | None:
        """What makes two outputs the same file (None: a device, which may be shared)."""
        if self.fd is not None:
            return ("fd", self.fd)
        if self.kind is Kind.STREAM:
            return None
        if self.kind is Kind.REPLACE:
            info = os.stat(self.path)
            return ("inode", info.st_dev, info.st_ino)
        return ("path", os.path.realpath(self.path))


def check_output(path: str | os.PathLike[str], *, what: str = "", binary: bool = False,
                 probe: bool = True) -> OutputTarget:
    """Check that ``path`` can take an output; with ``probe``, create and delete a temporary file
    in its folder to prove it. Raises a one-line :class:`ChainruleError` naming the problem."""
    text = os.fspath(path)
    target = Path(text)
    label = f"cannot write {what + ' ' if what else ''}{text!r}"
    fd = _NAMED_FDS.get(text)
    match = _FD_PATH.match(text)
    if fd is None and match:
        fd = int(match.group(1))
    if fd is not None:
        if binary:
            raise ChainruleError(f"{label}: binary output is not written to stdout or stderr; "
                                 "give a file name (/dev/null discards it)")
        return OutputTarget(target, Kind.STREAM, fd)
    if not text:
        raise ChainruleError(f"{label}: expected a file name")
    try:
        info = os.lstat(text)
    except FileNotFoundError:
        _check_folder(target, label, probe=probe)
        return OutputTarget(target, Kind.NEW)
    except OSError as exc:
        raise ChainruleError(f"{label}: {_reason(exc)}") from None
    mode = info.st_mode
    if stat.S_ISLNK(mode):
        if _leads_to_stream(text):
            return _stream_target(target, label)
        raise ChainruleError(f"{label}: it is a symbolic link, and chainrule does not write "
                             "through links; give the path of the file itself")
    if stat.S_ISDIR(mode):
        raise ChainruleError(f"{label}: it is a folder, expected a file")
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return _stream_target(target, label)
    if not stat.S_ISREG(mode):
        kind = "a block device" if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) \
            else "not a regular file"
        raise ChainruleError(f"{label}: it is {kind}, expected a regular file")
    if not os.access(text, os.W_OK):
        raise ChainruleError(f"{label}: permission denied")
    _check_folder(target, label, probe=probe)
    return OutputTarget(target, Kind.REPLACE)


def check_distinct(targets: Sequence[tuple[str, OutputTarget]]) -> None:
    """Refuse two outputs of one command that are the same file: ``[(option, target), …]``."""
    seen: dict[tuple[object, ...], str] = {}
    for option, target in targets:
        identity = target.identity
        if identity is None:
            continue
        if identity in seen:
            raise ChainruleError(f"{seen[identity]} and {option} are the same file "
                                 f"{str(target.path)!r}: give each output its own file")
        seen[identity] = option


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, what: str = "") -> Path:
    """Write binary ``data`` to ``path`` (atomically for a file; see the module docstring)."""
    return write_output(path, data, what=what, binary=True)


def atomic_write_text(path: str | os.PathLike[str], text: str, *, what: str = "") -> Path:
    """Write ``text`` (UTF-8) to ``path`` (atomically for a file; ``-`` is stdout)."""
    return write_output(path, text.encode("utf-8"), what=what, binary=False)


def write_output(path: str | os.PathLike[str], data: bytes, *, what: str = "",
                 binary: bool) -> Path:
    """Write ``data`` to a checked output path and return the path."""
    target = check_output(path, what=what, binary=binary, probe=False)
    label = f"cannot write {what + ' ' if what else ''}{str(target.path)!r}"
    if target.kind is Kind.STREAM:
        _write_stream(target, data, label)
    else:
        _replace(target, data, label)
    return target.path


def check_folder_writable(folder: Path, *, what: str = "") -> None:
    """Create ``folder`` if needed and prove that files can be created in it."""
    label = f"cannot write {what + ' ' if what else ''}{str(folder)!r}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ChainruleError(f"{label}: it is not a folder") from None
    except OSError as exc:
        raise ChainruleError(f"{label}: {_reason(exc)}") from None
    if not folder.is_dir():
        raise ChainruleError(f"{label}: it is not a folder")
    _probe(folder, ".chainrule-probe", label)


def remove_stale_temps(target: Path) -> list[Path]:
    """Remove the temporary files of ``target`` that a killed process left behind: our prefix and
    suffix for that name, a regular file, and last written before this process started."""
    folder = _folder_of(target)
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.{_TEMP_RANDOM}\.tmp$")
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not pattern.match(entry.name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and info.st_mtime < _STARTED - 1.0:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def current_umask() -> int:
    """The process's umask, read without changing it where /proc allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _replace(target: OutputTarget, data: bytes, label: str) -> None:
    path = target.path
    folder = _folder_of(path)
    remove_stale_temps(path)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise ChainruleError(f"{label}: {_reason(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            _copy_mode(handle.fileno(), path)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        _check_still_replaceable(path, label)
        os.replace(tmp_name, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        if isinstance(exc, OSError):
            raise ChainruleError(f"{label}: {_reason(exc)} (the old file, if any, is "
                                 "unchanged)") from None
        raise


def _copy_mode(fd: int, path: Path) -> None:
    """A replaced file keeps its mode (and owner, where we may set it); a new one follows the
    umask, as ``open(…, "w")`` would."""
    try:
        old = os.stat(path)
    except FileNotFoundError:
        os.fchmod(fd, 0o666 & ~current_umask())
        return
    if (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
        with contextlib.suppress(OSError):
            os.fchown(fd, old.st_uid, old.st_gid)
    os.fchmod(fd, stat.S_IMODE(old.st_mode) & 0o777)  # never carry set-id bits to new content


def _check_still_replaceable(path: Path, label: str) -> None:
    """Right before the rename: what is at the path must still be nothing or a regular file."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise ChainruleError(f"{label}: something other than a regular file appeared there")


def _write_stream(target: OutputTarget, data: bytes, label: str) -> None:
    try:
        if target.fd in (1, 2):
            stream = sys.stdout if target.fd == 1 else sys.stderr
            stream.flush()
            stream.buffer.write(data)
            stream.buffer.flush()
            return
        if target.fd is not None:
            _write_all(target.fd, data)
            return
        fd = os.open(target.path, os.O_WRONLY | os.O_NOCTTY)
        try:
            mode = os.fstat(fd).st_mode
            if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
                raise ChainruleError(f"{label}: it is no longer a device or a FIFO")
            _write_all(fd, data)
        finally:
            os.close(fd)
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise ChainruleError(f"{label}: {_reason(exc)}") from None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _stream_target(target: Path, label: str) -> OutputTarget:
    if not os.access(target, os.W_OK):
        raise ChainruleError(f"{label}: permission denied")
    return OutputTarget(target, Kind.STREAM)


def _leads_to_stream(path: str) -> bool:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def _check_folder(target: Path, label: str, *, probe: bool) -> None:
    folder = _folder_of(target)
    if not folder.is_dir():
        what = "does not exist" if not folder.exists() else "is not a folder"
        raise ChainruleError(f"{label}: folder {str(folder)!r} {what}")
    if probe:  # its error names the reason: permission, a read-only mount, /proc…
        _probe(folder, f".{target.name}", label)


def _probe(folder: Path, prefix: str, label: str) -> None:
    """Create and delete a temporary file: the only test that catches every reason (a read-only
    mount, /proc, a full quota on inodes, root squashing) before the work starts."""
    try:
        fd, name = tempfile.mkstemp(prefix=f"{prefix}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise ChainruleError(f"{label}: {_reason(exc)}") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(name)


def _folder_of(target: Path) -> Path:
    return target.parent if str(target.parent) else Path(".")


def _reason(exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    return reason[:1].lower() + reason[1:]
