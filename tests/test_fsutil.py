"""Safe output: atomic writes that never replace a device, a link or a folder, follow the umask,
report a full or read-only disk in one line with the old file intact, and clean up after a kill."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import threading
import time
from pathlib import Path

import pytest

from chainrule.errors import ChainruleError
from chainrule.fsutil import (
    Kind,
    atomic_write_bytes,
    atomic_write_text,
    check_distinct,
    check_folder_writable,
    check_output,
    current_umask,
)


def test_writes_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    atomic_write_text(target, "first")
    atomic_write_text(target, "second")
    assert target.read_text() == "second"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ChainruleError, match="does not exist"):
        atomic_write_bytes(tmp_path / "nope" / "x.bin", b"x")


def test_failure_leaves_no_temporary_file_and_the_old_file(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "x.txt"
    target.write_text("old")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(ChainruleError, match="input/output error"):
        atomic_write_text(target, "new")
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"] and target.read_text() == "old"


@pytest.mark.parametrize(("code", "reason"), [(errno.ENOSPC, "no space left on device"),
                                              (errno.EROFS, "read-only file system"),
                                              (errno.EACCES, "permission denied")])
def test_write_errors_are_one_line_and_keep_the_old_file(tmp_path: Path, monkeypatch, code,
                                                         reason) -> None:
    target = tmp_path / "ck.npz"
    target.write_bytes(b"old")

    def failing_fsync(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(ChainruleError) as info:
        atomic_write_bytes(target, b"new" * 1000)
    assert reason in str(info.value) and "\n" not in str(info.value)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["ck.npz"]


def make_device(path: Path, minor: int = 3) -> None:
    """A private copy of /dev/null (minor 3) or /dev/full (minor 7): a broken writer replaces
    this one, not the machine's."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    except PermissionError:
        pytest.skip("mknod needs root")


def make_null_device(path: Path) -> None:
    make_device(path, 3)


def test_a_full_device_is_one_line(tmp_path: Path) -> None:
    full = tmp_path / "full"
    make_device(full, 7)
    with pytest.raises(ChainruleError, match="no space left on device"):
        atomic_write_text(full, "x" * 10)
    assert stat.S_ISCHR(os.stat(full).st_mode)


def test_a_character_device_is_written_to_never_replaced(tmp_path: Path) -> None:
    node = tmp_path / "null"
    make_null_device(node)
    atomic_write_bytes(node, b"PK\x03\x04 a checkpoint")
    atomic_write_text(node, "text")
    assert stat.S_ISCHR(os.lstat(node).st_mode)
    assert check_output(node).kind is Kind.STREAM
    assert [p.name for p in tmp_path.iterdir()] == ["null"]


def test_a_fifo_is_streamed_to(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    atomic_write_text(fifo, "hello\n")
    reader.join(timeout=10)
    assert received == [b"hello\n"] and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_symlink_is_refused_and_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    link = tmp_path / "out.npz"
    link.symlink_to(target)
    with pytest.raises(ChainruleError, match="symbolic link"):
        atomic_write_bytes(link, b"zip")
    with pytest.raises(ChainruleError, match="symbolic link"):
        check_output(link)
    assert link.is_symlink() and target.read_text() == "keep me"


def test_a_symlink_to_a_device_is_streamed(tmp_path: Path) -> None:
    link = tmp_path / "discard"
    link.symlink_to("/dev/null")
    atomic_write_text(link, "gone")
    assert link.is_symlink() and os.readlink(link) == "/dev/null"


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ChainruleError, match="it is a folder, expected a file"):
        atomic_write_text(tmp_path, "x")
    with pytest.raises(ChainruleError, match="it is a folder"):
        check_output(tmp_path)


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_files_follow_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    old = os.umask(umask)
    try:
        assert current_umask() == umask
        path = atomic_write_text(tmp_path / "new.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == mode


def test_a_replaced_file_keeps_its_mode_but_not_set_id_bits(tmp_path: Path) -> None:
    path = tmp_path / "shared.txt"
    path.write_text("old")
    path.chmod(0o640)
    atomic_write_text(path, "new")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640 and path.read_text() == "new"
    path.chmod(0o4755)
    atomic_write_text(path, "newer")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o755


def test_dash_streams_text_and_refuses_binary(capsysbinary) -> None:
    atomic_write_text("-", "to stdout\n")
    assert capsysbinary.readouterr().out == b"to stdout\n"
    with pytest.raises(ChainruleError, match="binary output is not written to stdout"):
        atomic_write_bytes("-", b"\x89PNG")
    with pytest.raises(ChainruleError, match="binary output"):
        check_output("/dev/stdout", binary=True)


def test_stale_temporary_files_of_the_target_are_removed(tmp_path: Path) -> None:
    stale = tmp_path / ".ck.npz.k3j_9x2a.tmp"  # left by a process killed before its rename
    fresh = tmp_path / ".ck.npz.ab12cd34.tmp"  # maybe another process's write in flight
    other = tmp_path / ".other.npz.zz99zz99.tmp"  # another target's
    for path in (stale, fresh, other):
        path.write_bytes(b"partial")
    past = time.time() - 3600
    for path in (stale, other):
        os.utime(path, (past, past))
    atomic_write_bytes(tmp_path / "ck.npz", b"whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [".ck.npz.ab12cd34.tmp", ".other.npz.zz99zz99.tmp", "ck.npz"])


def test_the_check_proves_the_folder_writable_and_leaves_nothing(tmp_path: Path) -> None:
    target = check_output(tmp_path / "new.npz", binary=True)
    assert target.kind is Kind.NEW and list(tmp_path.iterdir()) == []
    (tmp_path / "old.npz").write_bytes(b"x")
    assert check_output(tmp_path / "old.npz").kind is Kind.REPLACE


def test_proc_is_refused_before_any_work() -> None:
    with pytest.raises(ChainruleError, match="cannot write checkpoint '/proc/x.npz'"):
        check_output("/proc/x.npz", what="checkpoint", binary=True)


def test_a_read_only_folder_is_refused_by_the_probe(tmp_path: Path, monkeypatch) -> None:
    def read_only(*args: object, **kwargs: object) -> tuple[int, str]:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    with pytest.raises(ChainruleError, match="read-only file system"):
        check_output(tmp_path / "x.png", what="--plot")
    with pytest.raises(ChainruleError, match="read-only file system"):
        check_folder_writable(tmp_path / "gallery")


def test_two_outputs_that_are_the_same_file_are_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ChainruleError, match="--out and --plot are the same file"):
        check_distinct([("--out", check_output("./same.npz")),
                        ("--plot", check_output(tmp_path / "." / "same.npz"))])
    Path("a.npz").write_bytes(b"x")
    os.link("a.npz", "b.npz")  # one file, two names
    with pytest.raises(ChainruleError, match="same file"):
        check_distinct([("--out", check_output("a.npz")), ("--plot", check_output("b.npz"))])
    check_distinct([("--out", check_output("a.npz")), ("--plot", check_output("c.png")),
                    ("--x", check_output("/dev/null")), ("--y", check_output("/dev/null"))])


def test_root_replacing_a_user_s_file_keeps_its_owner(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can give a file to another user")
    path = tmp_path / "student.npz"
    path.write_bytes(b"old")
    os.chown(path, 65534, 65534)
    atomic_write_bytes(path, b"new")
    info = os.stat(path)
    assert (info.st_uid, info.st_gid) == (65534, 65534) and path.read_bytes() == b"new"
