"""``chainrule exercises``: a seeded exercise sheet and its worked answer key (for teachers)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from chainrule.cli.apps import app
from chainrule.derive.exercises import DIFFICULTIES, MAX_COUNT, MAX_SEED, TOPIC_NAMES
from chainrule.fsutil import atomic_write_text, check_folder_writable, check_output

if TYPE_CHECKING:
    from chainrule.derive.exercises.sheet import Sheet


class SheetFormat(str, Enum):
    latex = "latex"
    markdown = "markdown"
    json = "json"
    moodle = "moodle"


SHEET_FORMAT_OPTION = typer.Option(SheetFormat.latex, "--format", "-f", case_sensitive=False,
                                   help="latex, markdown, json or moodle (Moodle XML quiz import).")
SHEET_OUT_OPTION = typer.Option(None, "--out", "-o", help="A folder: the sheet and the key as "
                                "separate files (TOPIC-sSEED-dD-sheet.tex and -key.tex, with PDFs "
                                "when pdflatex is installed; .md; one .json; one .xml).")
_TOPIC_HELP = ("One of " + ", ".join(TOPIC_NAMES) + " (README, \"For teachers\", says what each "
               "asks)")


@app.command("exercises")
def exercises_command(
    topic: str = typer.Option(..., "--topic", "-t", help=f"The topic. {_TOPIC_HELP}."),
    count: int = typer.Option(5, "--count", "-n", min=1, max=MAX_COUNT,
                              help=f"Exercises on the sheet, 1 to {MAX_COUNT}."),
    seed: int = typer.Option(1, "--seed", "-s", min=0, max=MAX_SEED,
                             help="The sheet's seed: the same seed gives byte-identical files."),
    difficulty: int = typer.Option(2, "--difficulty", "-d", min=min(DIFFICULTIES),
                                   max=max(DIFFICULTIES), help="1 (one step) to 3 (a longer chain)."),
    fmt: SheetFormat = SHEET_FORMAT_OPTION,
    out: Path = SHEET_OUT_OPTION,
) -> None:
    """Write an exercise sheet with friendly numbers and a worked answer key.

    Every answer is derived by chainrule's engine and verified by an independent route (a float64
    central difference, a NumPy forward pass, a brute-force convolution) before it is printed; an
    exercise that does not verify is drawn again. Answers are given to 4 significant digits; Moodle
    questions accept ±0.5 % (counts: exact). Without --out, LaTeX and Markdown print the sheet and
    then the key.

    [bold]Examples[/bold]

      chainrule exercises --topic neuron --count 5 --seed 7 --out sheets/
      chainrule exercises --topic chain-rule --difficulty 3 --format markdown
      chainrule exercises --topic conv --count 10 --format moodle --out quiz/
      chainrule exercises --topic backprop --count 2 --format json
    """
    from chainrule.derive.exercises import render  # SymPy and the engine: only when it runs
    from chainrule.derive.exercises.sheet import get_topic, make_sheet

    if out is None:
        sheet = make_sheet(topic, count=count, seed=seed, difficulty=difficulty)
        producers = {SheetFormat.latex: render.both_latex, SheetFormat.markdown: render.both_markdown,
                     SheetFormat.json: lambda s: _json(s), SheetFormat.moodle: render.moodle_xml}
        typer.echo(producers[fmt](sheet), nl=False)
        return
    from chainrule.cli.handout import compile_pdf, pdflatex_available  # not for --help

    check_folder_writable(out, what="--out folder")
    stem = f"{get_topic(topic).name}-s{seed}-d{difficulty}"
    pdf = fmt is SheetFormat.latex and pdflatex_available()
    for name in sheet_files(stem, fmt, pdf=pdf):  # a link or a folder there: refused before work
        check_output(out / name, what="--out", binary=name.endswith(".pdf"))
    sheet = make_sheet(topic, count=count, seed=seed, difficulty=difficulty)
    written: list[Path] = []
    if fmt is SheetFormat.latex:
        for kind, text in (("sheet", render.sheet_latex(sheet)), ("key", render.key_latex(sheet))):
            tex = atomic_write_text(out / f"{stem}-{kind}.tex", text)
            written += [tex, compile_pdf(tex)] if pdf else [tex]
    elif fmt is SheetFormat.markdown:
        written.append(atomic_write_text(out / f"{stem}-sheet.md", render.sheet_markdown(sheet)))
        written.append(atomic_write_text(out / f"{stem}-key.md", render.key_markdown(sheet)))
    elif fmt is SheetFormat.json:
        written.append(atomic_write_text(out / f"{stem}.json", _json(sheet)))
    else:
        written.append(atomic_write_text(out / f"{stem}.xml", render.moodle_xml(sheet)))
    for path in written:
        typer.echo(f"wrote {path}", err=True)
    typer.echo(f"{len(sheet.exercises)} exercises, each verified independently "
               f"({sheet.rejected} draws rejected)", err=True)


def sheet_files(stem: str, fmt: SheetFormat, *, pdf: bool) -> list[str]:
    """The file names ``exercises --out`` writes for ``fmt``."""
    if fmt is SheetFormat.latex:
        return [f"{stem}-{kind}{ext}" for kind in ("sheet", "key")
                for ext in ((".tex", ".pdf", ".log") if pdf else (".tex",))]
    if fmt is SheetFormat.markdown:
        return [f"{stem}-sheet.md", f"{stem}-key.md"]
    return [f"{stem}.json" if fmt is SheetFormat.json else f"{stem}.xml"]


def _json(sheet: Sheet) -> str:
    from chainrule.cli.output import to_json_text
    from chainrule.derive.exercises import render

    return to_json_text(render.sheet_payload(sheet))
