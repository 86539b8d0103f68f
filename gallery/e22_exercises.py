"""An exercise sheet and its worked answer key: one neuron (E22)

``chainrule exercises --topic neuron --count 3 --seed 22 --difficulty 1``: three exercises with
friendly numbers (one-decimal inputs and weights), each answer derived by the engine and verified
by a NumPy forward pass and float64 central differences before it is printed; the key carries the
whole derivation. The same questions as a Moodle XML quiz import sit beside them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from chainrule.derive.exercises.render import (
    key_latex,
    key_markdown,
    moodle_xml,
    sheet_latex,
    sheet_markdown,
)
from chainrule.derive.exercises.sheet import make_sheet
from chainrule.fsutil import atomic_write_text

TOPIC, COUNT, SEED, DIFFICULTY = "neuron", 3, 22, 1


def build(out_dir: Path) -> list[Path]:
    """Write the sheet and the key as LaTeX and Markdown, and the Moodle XML quiz."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sheet = make_sheet(TOPIC, count=COUNT, seed=SEED, difficulty=DIFFICULTY)
    return [
        atomic_write_text(out_dir / "e22_exercises_sheet.tex", sheet_latex(sheet)),
        atomic_write_text(out_dir / "e22_exercises_key.tex", key_latex(sheet)),
        atomic_write_text(out_dir / "e22_exercises.md",
                          sheet_markdown(sheet) + "\n" + key_markdown(sheet)),
        atomic_write_text(out_dir / "e22_exercises_moodle.xml", moodle_xml(sheet)),
    ]


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery/out"))
