"""Output paths through the CLI: checked before any work, never a device, link or folder replaced,
the umask respected, two outputs never the same file, and a full or read-only disk in one line with
nothing left behind (README, "Security and failure behaviour")."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import time
from pathlib import Path

import pytest
from conftest import app
from typer.testing import CliRunner

from chainrule.train.checkpoint import load_checkpoint

TRAIN = ["train", "mlp:2-3-2", "--data", "moons", "--epochs", "1", "--batch", "50"]
SUMMARY = ["summary", "mlp:2-3-1"]
EXPR = ["derive", "expr", "x*y", "--wrt", "x"]


def refused(args: list[str]) -> tuple[str, str]:
    """Run a command that must be refused before it starts: exit 2, one line, no work done.
    Returns the line and stdout."""
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output, result.stderr
    assert "epoch" not in result.stdout  # no training started
    return lines[0], result.stdout


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_missing_plot_folder_is_refused_before_training(tmp_path: Path) -> None:
    line, _ = refused([*TRAIN, "--out", str(tmp_path / "ck.npz"),
                       "--plot", str(tmp_path / "none" / "p.png")])
    assert "cannot write --plot" in line and "does not exist" in line
    assert listing(tmp_path) == []  # no checkpoint left behind


def test_an_unwritable_checkpoint_is_refused_before_epoch_1() -> None:
    line, _ = refused([*TRAIN, "--out", "/proc/x.npz"])
    assert line == "error: cannot write checkpoint '/proc/x.npz': no such file or directory"


@pytest.mark.parametrize("args", [TRAIN, SUMMARY, EXPR])
def test_a_folder_at_the_output_is_one_line(tmp_path: Path, args: list[str]) -> None:
    line, _ = refused([*args, "--out", str(tmp_path)])
    assert "it is a folder, expected a file" in line


@pytest.mark.parametrize("args", [TRAIN, SUMMARY])
def test_a_symlink_at_the_output_is_refused_and_left_alone(tmp_path: Path, args) -> None:
    target = tmp_path / "precious"
    target.write_text("keep")
    link = tmp_path / "out"
    link.symlink_to(target)
    line, _ = refused([*args, "--out", str(link)])
    assert "symbolic link" in line
    assert link.is_symlink() and target.read_text() == "keep"


def test_the_same_file_twice_is_refused(tmp_path: Path) -> None:
    same = str(tmp_path / "same.npz")
    assert "--out and --plot are the same file" in refused([*TRAIN, "--out", same,
                                                            "--plot", same])[0]
    (tmp_path / "a.png").write_bytes(b"x")
    os.link(tmp_path / "a.png", tmp_path / "b.png")
    assert "same file" in refused([*TRAIN, "--out", str(tmp_path / "a.png"),
                                   "--plot", str(tmp_path / "b.png")])[0]
    line = refused(["derive", "graph", "x*y", "--at", "x=1,y=2", "--plot", same, "--out", same])[0]
    assert "--plot and --out are the same file" in line
    assert listing(tmp_path) == ["a.png", "b.png"]


def test_plot_over_the_resumed_checkpoint_is_refused(tmp_path: Path, cli) -> None:
    checkpoint = tmp_path / "ck.npz"
    cli.json([*TRAIN, "--out", str(checkpoint)])
    before = checkpoint.read_bytes()
    assert "--plot and --resume are the same file" in refused(
        [*TRAIN, "--resume", str(checkpoint), "--plot", str(checkpoint)])[0]
    assert checkpoint.read_bytes() == before


def test_a_checkpoint_to_a_device_streams_and_keeps_the_node(tmp_path: Path, cli) -> None:
    node = tmp_path / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("mknod needs root")
    cli.json([*TRAIN, "--out", str(node)])
    assert stat.S_ISCHR(os.lstat(node).st_mode) and listing(tmp_path) == ["null"]


def test_dash_is_stdout_for_text_and_refused_for_a_checkpoint(cli) -> None:
    assert "mlp:2-3-1" in cli.run([*SUMMARY, "--out", "-"]).stdout
    assert "binary output is not written to stdout" in refused([*TRAIN, "--out", "-"])[0]


def test_a_full_device_is_one_line(tmp_path: Path) -> None:
    full = tmp_path / "full"
    try:  # a private /dev/full: a broken writer replaces this one, not the machine's
        os.mknod(full, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    except PermissionError:
        pytest.skip("mknod needs root")
    result = CliRunner().invoke(app, [*SUMMARY, "--out", str(full)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: cannot write --out {str(full)!r}: no space left on device"
    assert stat.S_ISCHR(os.lstat(full).st_mode)


def test_outputs_follow_the_umask(tmp_path: Path, cli) -> None:
    old = os.umask(0o022)
    try:
        cli.run([*SUMMARY, "--out", str(tmp_path / "s.txt")])
        cli.json([*TRAIN, "--out", str(tmp_path / "ck.npz"), "--plot", str(tmp_path / "p.png")])
    finally:
        os.umask(old)
    assert {stat.S_IMODE(os.stat(p).st_mode) for p in tmp_path.iterdir()} == {0o644}


def test_a_full_disk_during_a_checkpoint_is_one_line_and_keeps_the_old_one(
        tmp_path: Path, cli, monkeypatch) -> None:
    checkpoint = tmp_path / "ck.npz"
    cli.json([*TRAIN, "--out", str(checkpoint)])
    before = checkpoint.read_bytes()

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    line = cli.fails([*TRAIN, "--epochs", "2", "--resume", str(checkpoint),
                      "--out", str(checkpoint)])
    assert line.startswith("error: cannot write ") and line.endswith(
        f"{str(checkpoint)!r}: no space left on device (the old file, if any, is unchanged)")
    assert checkpoint.read_bytes() == before and listing(tmp_path) == ["ck.npz"]
    assert load_checkpoint(checkpoint).meta["epoch"] == 1


def test_a_killed_writer_s_temporary_file_is_removed_by_the_next_save(tmp_path: Path, cli) -> None:
    stale = tmp_path / ".ck.npz.x1y2z3w4.tmp"  # what a SIGKILL between write and rename leaves
    stale.write_bytes(b"PK partial")
    past = time.time() - 600
    os.utime(stale, (past, past))
    cli.json([*TRAIN, "--out", str(tmp_path / "ck.npz")])
    assert listing(tmp_path) == ["ck.npz"]


def test_gallery_build_to_a_read_only_folder_is_one_line(tmp_path: Path, monkeypatch) -> None:
    def read_only(*args: object, **kwargs: object) -> tuple[int, str]:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    line, _ = refused(["gallery", "build", "--out", str(tmp_path), "--only", "e01"])
    assert line == f"error: cannot write gallery folder {str(tmp_path)!r}: read-only file system"
    assert listing(tmp_path) == []


def test_gallery_build_where_root_cannot_write_is_one_line() -> None:
    folder = Path("/sys/chainrule-gallery-test")
    try:
        folder.mkdir()
    except OSError:
        pass
    else:
        folder.rmdir()
        pytest.skip("/sys is writable here")
    line, _ = refused(["gallery", "build", "--out", str(folder), "--only", "e01"])
    assert line.startswith(f"error: cannot write gallery folder {str(folder)!r}: ")
