"""The app shell: --version, help, and the one-line error contract."""

from __future__ import annotations

from chainrule import __version__


def test_version(cli) -> None:
    assert cli.run(["--version"]).stdout.strip() == f"chainrule {__version__}"


def test_help_lists_the_command_groups(cli) -> None:
    output = cli.run(["--help"]).stdout
    for group in ("derive", "kernels", "gallery"):
        assert group in output


def test_unknown_gallery_entry_is_one_line(cli) -> None:
    line = cli.fails(["gallery", "build", "--only", "e99"])
    assert line.startswith("error: unknown gallery entry 'e99'")
