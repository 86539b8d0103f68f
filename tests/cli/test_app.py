"""The app shell: --version, help, and the one-line error contract."""

from __future__ import annotations

from conftest import modules_loaded_after

from chainrule import __version__
from chainrule.cli.main import COMMAND_MODULES, load_commands, modules_for

app = load_commands()


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


def test_the_command_table_names_every_registered_command() -> None:
    def paths(typer_app, prefix=()):
        for info in typer_app.registered_commands:
            yield prefix + (info.name,), info.callback.__module__.rsplit(".", 1)[1]
        for group in typer_app.registered_groups:
            yield from paths(group.typer_instance, prefix + (group.name,))

    assert dict(paths(app)) == COMMAND_MODULES


def test_a_command_line_imports_only_its_command() -> None:
    assert modules_for(["derive", "neuron", "--activation", "relu"]) == ["derive_neuron"]
    assert modules_for(["train", "mlp:2-4-1", "--data", "xor"]) == ["train"]
    everything = sorted(set(COMMAND_MODULES.values()))
    assert modules_for(["derive", "--help"]) == everything
    assert modules_for(["--help"]) == everything
    assert modules_for(["derive", "nueron"]) == everything  # click answers with the list
    assert modules_for([]) == everything


def test_a_derivation_does_not_import_the_training_code() -> None:
    script = "from chainrule.cli.main import load_commands\nload_commands(['derive', 'neuron'])"
    heavy = ["chainrule.derive.net", "chainrule.derive.conv_example", "chainrule.train.session",
             "numba", "chainrule.cli.commands.kernels_show", "chainrule.cli.commands.train"]
    assert modules_loaded_after(script, heavy) == []
    everything = modules_loaded_after(script + "\nload_commands()", heavy)  # the probe sees them
    assert {"chainrule.cli.commands.kernels_show", "chainrule.cli.commands.train"} <= set(everything)
