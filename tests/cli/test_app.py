"""The app shell: --version, help, and the one-line error contract."""

from __future__ import annotations

from chainrule import __version__
from chainrule.cli.main import app


def test_version(cli) -> None:
    assert cli.run(["--version"]).stdout.strip() == f"chainrule {__version__}"


def test_help_lists_the_command_groups(cli) -> None:
    output = cli.run(["--help"]).stdout
    for group in ("derive", "kernels", "gallery"):
        assert group in output


def test_unknown_gallery_entry_is_one_line(cli) -> None:
    line = cli.fails(["gallery", "build", "--only", "e99"])
    assert line.startswith("error: unknown gallery entry 'e99'")


def test_help_paragraphs_are_reflowed_and_examples_kept() -> None:
    from chainrule.cli.apps import reflow_help

    text = """Title line.

    A paragraph written
    on two lines.

    Examples

      chainrule a
      chainrule b
    """
    assert reflow_help(text) == ("Title line.\n\nA paragraph written on two lines.\n\nExamples\n\n"
                                 "  chainrule a\n  chainrule b")


def test_every_command_help_is_reflowed() -> None:
    from chainrule.cli.main import app

    def infos(typer_app):
        yield from typer_app.registered_commands
        for group in typer_app.registered_groups:
            yield from infos(group.typer_instance)

    commands = list(infos(app))
    assert len(commands) >= 12
    for info in commands:
        for paragraph in info.help.split("\n\n"):
            lines = paragraph.splitlines()
            assert len(lines) == 1 or all(line.startswith("  ") for line in lines[1:]), \
                (info.callback.__name__, paragraph)


def test_a_closed_pipe_ends_quietly(cli, monkeypatch) -> None:
    from chainrule.cli.commands import summary

    def closed(*args, **kwargs):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(summary, "emit", closed)
    result = cli.runner.invoke(app, ["summary", "mlp:4-5-3"])
    assert result.exit_code == 141
    assert "internal error" not in result.output
