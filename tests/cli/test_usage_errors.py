"""Usage errors and bad input: exactly one line on stderr (``error: …``), exit 2, no box, no
traceback, and no "internal error", for every command, whether click, typer or chainrule finds it."""

from __future__ import annotations

import pytest

from chainrule.cli.apps import expression_last
from chainrule.cli.main import load_commands

app = load_commands()


@pytest.mark.parametrize(("args", "line"), [
    (["train", "mlp:2-2", "--data", "moons", "--batch", "0"],
     "error: --batch: expected an integer ≥ 1, got 0"),
    (["train", "mlp:2-2", "--data", "moons", "--epochs", "-1"],
     "error: --epochs: expected an integer ≥ 0, got -1"),
    (["train", "mlp:2-2", "--data", "moons", "--batch", "many"],
     "error: --batch: expected an integer, got 'many'"),
    (["train", "mlp:2-2", "--data", "moons", "--lr", "fast"],
     "error: --lr: expected a number, got 'fast'"),
    (["train", "mlp:2-2"], "error: missing option --data; see 'chainrule train --help'"),
    (["summary"], "error: missing argument MODEL; see 'chainrule summary --help'"),
    (["derive", "net", "mlp:2-2-1", "--format", "nope"],
     "error: --format: 'nope' is not one of 'text', 'latex', 'markdown', 'json'"),
    (["gradcheck", "mlp:2-2", "--seed", "-1"], "error: --seed: expected an integer ≥ 0, got -1"),
    (["train", "mlp:2-2", "--data", "moons", "--seed", "-1"],
     "error: --seed: expected an integer ≥ 0, got -1"),
    (["derive", "conv", "--image", "[[1,2,3],[4,5,6],[7,8,9]]", "--kernel", "[[1]]",
      "--padding", "1000"], "error: --padding: expected an integer ≤ 64, got 1000"),
])
def test_a_usage_error_is_one_exact_line(cli, args: list[str], line: str) -> None:
    assert cli.fails(args) == line


@pytest.mark.parametrize(("args", "start"), [
    (["train", "mlp:2-2", "--bogus"], "error: no such option --bogus"),
    (["derive", "nueron"], "error: no such command 'nueron'"),
    (["nope"], "error: no such command 'nope'"),
    (["summary", "mlp:2-2", "extra"], "error: got unexpected extra argument(s) (extra)"),
    (["derive", "expr", "x", "--wrt"], "error: option '--wrt' requires an argument"),
])
def test_unknown_and_malformed_command_lines_are_one_line(cli, args: list[str],
                                                          start: str) -> None:
    line = cli.fails(args)
    assert line.startswith(start) and "--help'" in line
    assert "╭" not in line and "Usage:" not in line


@pytest.mark.parametrize(("args", "words"), [
    (["summary", "mlp:2²-4"], "bad layer size '2²'"),
    (["summary", "mlp:100000-100000-100000"], "CHAINRULE_MAX_PARAMS"),
    (["summary", "cnn:1x28x28-conv3x3x1000000-dense10"], "1,000,000 filters"),
    (["derive", "expr", "(9**99)**99*x", "--wrt", "x"], "too large"),
    (["derive", "expr", "((9**999)**999)**999", "--wrt", "x"], "too large"),
    (["derive", "expr", "(x+1)**999", "--wrt", "x"], "the limit is 64"),
    (["derive", "expr", "exp(exp(exp(x)))", "--wrt", "x", "--at", "x=1000"], "overflows"),
    (["derive", "expr", "x", "--wrt", "x", "--at", "x=1" + "0" * 400], "not a finite number"),
    (["derive", "expr", "1e309*x", "--wrt", "x"], "not finite"),
    (["derive", "expr", "х*y", "--wrt", "y"], "write 'x' instead"),
    (["derive", "conv", "--image", "[[1,2,3],[4,5,6],[7,8,9]]", "--kernel", "[[1,0],[0,1]]",
      "--padding", "3"], "larger than the kernel size 2"),
    (["gradcheck", "mlp:1000-1000"], "CHAINRULE_MAX_GRADCHECK_PARAMS"),
    (["gradcheck", "cnn:1x2000x2000-conv3x3x1-maxpool16-dense12"],
     "CHAINRULE_MAX_GRADCHECK_VALUES"),
    (["gradcheck", "mlp:2-2", "--seed", str(2**32)], "≤ 4294967295"),
    (["train", "cnn:1x28x28-conv3x3x64-dense10", "--data", "moons", "--batch", "100000"],
     "CHAINRULE_MAX_ACTIVATIONS"),
])
def test_bad_input_that_was_an_internal_error_or_unbounded_is_one_line(cli, args: list[str],
                                                                       words: str) -> None:
    line = cli.fails(args)
    assert line.startswith("error: ") and words in line, line


def test_expressions_may_start_with_a_minus(cli) -> None:
    payload = cli.json(["derive", "expr", "-x*y", "--wrt", "x", "--at", "x=1,y=2"])
    assert payload["derivative_value"] == -2.0
    graph = cli.json(["derive", "graph", "-x*y", "--at", "x=1,y=2"])
    assert graph is not None
    assert expression_last(["-x*y", "--at", "x=1"], valued={"--at"}, flags=set()) \
        == ["--at", "x=1", "--", "-x*y"]


def test_derive_expr_reads_vectors_as_derive_graph_does(cli) -> None:
    args = ["w0*x0+w1*x1+w2", "--at", "w=[2,-3,-3],x=[-1,-2]"]
    expr = cli.json(["derive", "expr", args[0], "--wrt", "w0", *args[1:]])
    graph = cli.json(["derive", "graph", *args])
    assert expr["value"] == 2 * -1 + -3 * -2 - 3 == 1
    assert expr["derivative_value"] == -1.0
    assert cli.fails(["derive", "expr", "w0*x", "--wrt", "x", "--at", "x=1,w=[1,2],w0=3"]) \
        == "error: value for 'w0' given twice: by w and by w0"
    assert graph is not None


def test_help_and_no_arguments_still_print_help(cli) -> None:
    assert "Usage" in cli.run(["summary", "--help"]).stdout
    result = cli.runner.invoke(app, ["derive"])
    assert result.exit_code == 0 and "expr" in result.output  # a bare group: its help, exit 0


def test_running_out_of_memory_is_one_line(cli, monkeypatch) -> None:
    from chainrule.derive import params  # summary imports count_params from here when it runs

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(params, "count_params", exhausted)
    assert cli.fails(["summary", "mlp:4-5-3"]).startswith("error: out of memory")


def test_simplify_never_expands_a_high_power_of_a_sum(cli, monkeypatch) -> None:
    import sympy as sp

    from chainrule.derive import steps

    real = sp.simplify

    def guarded(expr, *args, **kwargs):
        assert steps._largest_sum_power(expr) <= steps.SIMPLIFY_POWER, expr
        return real(expr, *args, **kwargs)

    monkeypatch.setattr(sp, "simplify", guarded)
    payload = cli.json(["derive", "expr", "(x+y)**64*(x-y)**64", "--wrt", "x", "--at", "x=0.5,y=0.25"])
    x, y = 0.5, 0.25  # d/dx = 64(x+y)^63 (x-y)^64 + 64(x+y)^64 (x-y)^63
    expected = 64 * (x + y)**63 * (x - y)**64 + 64 * (x + y)**64 * (x - y)**63
    assert payload["derivative_value"] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("option", ["--show-completion", "--install-completion"])
def test_completion_for_a_shell_typer_has_no_script_for_is_a_usage_error(
        option: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under sh, typer's completion options said "Shell sh not supported." with exit status 1
    (--install-completion on stdout); chainrule makes it one line on stderr and status 2."""
    import typer.completion
    from typer.testing import CliRunner

    monkeypatch.setattr(typer.completion, "_get_shell_name", lambda: "sh")
    result = CliRunner().invoke(load_commands(), [option], prog_name="chainrule")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        ("error: shell completion covers bash, zsh, fish, powershell, pwsh; this shell is sh; "
        "see 'chainrule --help'")]


def test_completion_for_bash_is_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    import typer.completion
    from typer.testing import CliRunner

    monkeypatch.setattr(typer.completion, "_get_shell_name", lambda: "bash")
    result = CliRunner().invoke(load_commands(), ["--show-completion"], prog_name="chainrule")
    assert result.exit_code == 0 and "complete -o default -F _chainrule_completion" in result.stdout
