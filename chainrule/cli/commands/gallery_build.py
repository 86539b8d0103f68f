"""``chainrule gallery build``: run every gallery script and collect its .tex, .md and .png outputs."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from chainrule.cli.apps import gallery_app
from chainrule.cli.gallery import GalleryEntry, find_gallery, run_entry
from chainrule.errors import ChainruleError
from chainrule.fsutil import check_folder_writable

GALLERY_OUT_OPTION = typer.Option(Path("gallery/out"), "--out", "-o",
                                  help="Folder for the outputs (created if needed; checked to be "
                                  "writable before any entry runs).")
ONLY_OPTION = typer.Option([], "--only", help="Build only these entries, e.g. e07.")


@gallery_app.command("build")
def build(out: Path = GALLERY_OUT_OPTION, only: list[str] = ONLY_OPTION) -> None:
    """Regenerate the lecture worked examples (E1–E21) and the exercise sheet E22 as LaTeX, Markdown and PNG.

    Each entry is a standalone script in gallery/; its outputs go to OUT/<entry>/.

    [bold]Examples[/bold]

      chainrule gallery build
      chainrule gallery build --out /tmp/handouts --only e07 --only e15
    """
    entries = _select(find_gallery(), only)
    check_folder_writable(out, what="gallery folder")
    table = Table("entry", "title", "files")
    for entry in entries:
        try:
            files = run_entry(entry, out / entry.key)
        except OSError as exc:  # the disk filled up, or the folder changed under us
            raise ChainruleError(f"gallery entry {entry.key}: cannot write to {str(out)!r}: "
                                 f"{exc.strerror or exc}") from None
        table.add_row(entry.key, entry.title, ", ".join(f.name for f in files))
    Console().print(table)


def _select(entries: list[GalleryEntry], only: list[str]) -> list[GalleryEntry]:
    if not only:
        return entries
    wanted = {key.lower() for key in only}
    chosen = [entry for entry in entries if entry.key in wanted]
    missing = wanted - {entry.key for entry in chosen}
    if missing:
        known = ", ".join(entry.key for entry in entries)
        raise ChainruleError(f"unknown gallery entry {min(missing)!r}: expected one of {known}")
    return chosen
