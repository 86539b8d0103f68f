"""``chainrule handout``: one lecture handout (LaTeX and PDF) from gallery examples and exercises."""

from __future__ import annotations

from pathlib import Path

import typer

from chainrule.cli.apps import app
from chainrule.errors import ChainruleError
from chainrule.fsutil import check_folder_writable

PLAN_OPTION = typer.Option(None, "--plan", "-p", help="A TOML file listing the title, the examples "
                           "and the exercise blocks (schema below).")
EXERCISES_OPTION = typer.Option([], "--exercises", "-x", help="An exercise block "
                                "topic:count[:difficulty], e.g. neuron:3; repeatable. The key goes "
                                "at the end.")
HANDOUT_OUT_OPTION = typer.Option(Path("handout"), "--out", "-o",
                                  help="Folder for handout.tex, handout.pdf and the figures.")


@app.command("handout")
def handout_command(
    examples: str = typer.Option(None, "--examples", "-e",
                                 help="Gallery examples, e.g. E1,E7,E10,E15."),
    plan: Path = PLAN_OPTION,
    exercises: list[str] = EXERCISES_OPTION,
    title: str = typer.Option("Lecture handout", "--title", help="The handout's title."),
    out: Path = HANDOUT_OUT_OPTION,
    no_pdf: bool = typer.Option(False, "--no-pdf", help="Write the LaTeX only."),
) -> None:
    """Build one lecture handout: a section per gallery example (its derivation and its figures,
    drawn by the example's script into OUT), then the exercises, then their worked key. With
    pdflatex installed it also writes OUT/handout.pdf.

    [bold]Plan file[/bold] (TOML; instead of --examples and --exercises):

      title = "Lecture 4: backpropagation"
      examples = ["E6", "E7", "E10"]
      \\[\\[exercises]]
      topic = "neuron"      # a topic of `chainrule exercises`
      count = 3             # 1 to 20 (at most 100 exercises in all)
      seed = 1              # optional, default 1
      difficulty = 2        # optional, 1 to 3, default 2

    [bold]Examples[/bold]

      chainrule handout --examples E1,E7,E10,E15 --out lecture/
      chainrule handout --examples E7 --exercises graph:2 --exercises neuron:3:1 --out lecture/
      chainrule handout --plan lecture4.toml --out lecture4/
    """
    from chainrule.cli.handout import (
        HandoutPlan,
        build_handout,
        check_blocks,
        check_handout_outputs,
        parse_examples,
        parse_exercise_block,
        pdflatex_available,
        read_plan,
    )

    if plan is not None:
        if examples is not None or exercises:
            raise ChainruleError("--plan lists everything: give it without --examples/--exercises")
        chosen = read_plan(plan)
    else:
        if examples is None and not exercises:
            raise ChainruleError("nothing to put in the handout: give --examples, --exercises "
                                 "or --plan")
        chosen = HandoutPlan(title[:200], parse_examples(examples) if examples else (),
                             check_blocks(tuple(parse_exercise_block(x) for x in exercises)))
    check_folder_writable(out, what="--out folder")
    pdf = pdflatex_available() and not no_pdf
    check_handout_outputs(out, pdf=pdf)
    for path in build_handout(chosen, out, pdf=pdf):
        typer.echo(f"wrote {path}", err=True)
