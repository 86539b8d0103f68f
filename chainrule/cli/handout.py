"""Build documents for teachers: compile LaTeX to PDF, and assemble a lecture handout from gallery
examples and exercise blocks (``chainrule handout``).

A handout is one LaTeX document: a title, one section per gallery example (its derivation, read
from the .tex the example's script writes, and its figures, the PNGs the script draws), then the
exercises, and their answer key at the end. pdflatex runs twice when it is installed; a document
that does not compile is an error that names the log.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from chainrule.cli.gallery import find_gallery, run_entry
from chainrule.derive.exercises import DIFFICULTIES, MAX_SEED, TOPIC_NAMES
from chainrule.errors import ChainruleError
from chainrule.fsutil import atomic_write_bytes, atomic_write_text, check_output

MAX_ITEMS = 30  # examples, and exercise blocks
MAX_EXERCISES = 100  # exercises in one handout, all blocks together
PDFLATEX_TIMEOUT_S = 300
_BODY = re.compile(r"\\begin\{document\}\n(.*)\\end\{document\}", re.DOTALL)
_HEADING = re.compile(r"\\section\*\{[^\n]*\}\n")
_GRAPHICS = re.compile(r"(\\includegraphics(?:\[[^\]]*\])?\{)([^}]+)\}")
_EXAMPLE = re.compile(r"^[Ee](\d{1,2})$")


@dataclass(frozen=True)
class ExerciseBlock:
    topic: str
    count: int
    seed: int = 1
    difficulty: int = 2


@dataclass(frozen=True)
class HandoutPlan:
    title: str
    examples: tuple[str, ...]  # gallery keys, "e07"
    exercises: tuple[ExerciseBlock, ...]


def pdflatex_available() -> bool:
    return shutil.which("pdflatex") is not None


def compile_pdf(tex: Path) -> Path:
    """Run pdflatex twice on ``tex``; write X.pdf and X.log beside it, or raise naming the log.

    pdflatex reads from ``tex``'s folder (figures are relative to it) but writes into a private
    temporary folder (``-output-directory``), so a link or a device planted at X.pdf, X.log or
    X.aux is never written through. The PDF and the log (for overfull boxes) are then moved into
    place by atomic, checked writes (:mod:`chainrule.fsutil`); X.aux is not kept."""
    pdf, log = tex.with_suffix(".pdf"), tex.with_suffix(".log")
    check_output(pdf, what="PDF", binary=True)
    check_output(log, what="pdflatex log")
    with tempfile.TemporaryDirectory(prefix="chainrule-pdflatex-") as build:
        built = Path(build)
        for _ in range(2):
            try:
                done = subprocess.run(["pdflatex", "-halt-on-error", "-interaction=nonstopmode",
                                       f"-output-directory={build}", tex.name], cwd=tex.parent,
                                      capture_output=True, text=True,
                                      timeout=PDFLATEX_TIMEOUT_S, check=False)
            except subprocess.TimeoutExpired:
                raise ChainruleError(f"pdflatex took over {PDFLATEX_TIMEOUT_S} s on {tex}") from None
            built_log = built / f"{tex.stem}.log"
            log_bytes = built_log.read_bytes() if built_log.is_file() else done.stdout.encode()
            if done.returncode != 0:
                atomic_write_bytes(log, log_bytes, what="pdflatex log")
                raise ChainruleError(f"pdflatex failed on {tex}: see {log}")
        atomic_write_bytes(log, log_bytes, what="pdflatex log")
        return atomic_write_bytes(pdf, (built / f"{tex.stem}.pdf").read_bytes(), what="PDF")


def parse_examples(text: str) -> tuple[str, ...]:
    """"E1,E7,e10" → ("e01", "e07", "e10"); each must be a gallery entry."""
    known = {entry.key for entry in find_gallery()}
    keys = []
    for item in (part.strip() for part in text.split(",") if part.strip()):
        match = _EXAMPLE.match(item)
        key = f"e{int(match.group(1)):02d}" if match else ""
        if key not in known:
            raise ChainruleError(f"unknown gallery example {item!r}: expected E1 to "
                                 f"E{len(known)}, e.g. E1,E7,E10")
        if key not in keys:
            keys.append(key)
    if not keys:
        raise ChainruleError("--examples lists no example: expected e.g. E1,E7,E10")
    if len(keys) > MAX_ITEMS:
        raise ChainruleError(f"--examples lists {len(keys)} examples; the limit is {MAX_ITEMS}")
    return tuple(keys)


def parse_exercise_block(text: str) -> ExerciseBlock:
    """"topic:count" (or "topic:count:difficulty")."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(p.strip() for p in parts):
        raise ChainruleError(f"--exercises {text!r}: expected topic:count, e.g. neuron:3")
    try:
        numbers = [int(p) for p in parts[1:]]
    except ValueError:
        raise ChainruleError(f"--exercises {text!r}: the count must be a whole number") from None
    return _block(parts[0].strip(), numbers[0], 1, numbers[1] if len(numbers) > 1 else 2)


def _block(topic: str, count: int, seed: int, difficulty: int) -> ExerciseBlock:
    if topic.strip().lower().replace("_", "-") not in TOPIC_NAMES:
        raise ChainruleError(f"unknown topic {topic!r}: expected one of {', '.join(TOPIC_NAMES)}")
    if not 1 <= count <= 20:
        raise ChainruleError(f"exercise block {topic}: count {count} is out of range (1 to 20)")
    if difficulty not in DIFFICULTIES:
        raise ChainruleError(f"exercise block {topic}: difficulty {difficulty} is not 1, 2 or 3")
    if not 0 <= seed <= MAX_SEED:
        raise ChainruleError(f"exercise block {topic}: seed {seed} is out of range (0 to {MAX_SEED})")
    return ExerciseBlock(topic, count, seed, difficulty)


def check_blocks(blocks: tuple[ExerciseBlock, ...]) -> tuple[ExerciseBlock, ...]:
    """At most MAX_ITEMS blocks and MAX_EXERCISES exercises in all, checked before any work."""
    if len(blocks) > MAX_ITEMS:
        raise ChainruleError(f"{len(blocks)} exercise blocks; the limit is {MAX_ITEMS}")
    total = sum(block.count for block in blocks)
    if total > MAX_EXERCISES:
        raise ChainruleError(f"the exercise blocks ask for {total} exercises; the limit is "
                             f"{MAX_EXERCISES}")
    return blocks


def read_plan(path: Path) -> HandoutPlan:
    """A TOML plan: title, examples = ["E1", …], and [[exercises]] blocks (topic, count, seed,
    difficulty)."""
    from chainrule.train.data.limits import INPUT_BYTES, read_bounded  # a regular file, capped

    try:
        raw = tomllib.loads(read_bounded(path, "plan", INPUT_BYTES).decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ChainruleError(f"cannot read {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ChainruleError(f"{path} is not valid TOML: {exc}") from None
    unknown = set(raw) - {"title", "examples", "exercises"}
    if unknown:
        raise ChainruleError(f"{path}: unknown key {min(unknown)!r}: expected title, examples, "
                             "exercises")
    title = raw.get("title", "Lecture handout")
    examples = raw.get("examples", [])
    blocks = raw.get("exercises", [])
    if not isinstance(title, str) or not isinstance(examples, list) \
            or not all(isinstance(e, str) for e in examples) or not isinstance(blocks, list):
        raise ChainruleError(f"{path}: title is a string, examples a list of strings like "
                             "\"E7\", exercises a list of tables")
    if len(blocks) > MAX_ITEMS:
        raise ChainruleError(f"{path}: {len(blocks)} exercise blocks; the limit is {MAX_ITEMS}")
    parsed = []
    for block in blocks:
        if not isinstance(block, dict) or not isinstance(block.get("topic"), str) or \
                not all(isinstance(block.get(k, 1), int) for k in ("count", "seed", "difficulty")):
            raise ChainruleError(f"{path}: each [[exercises]] needs topic (string) and count, "
                                 "seed, difficulty (integers)")
        parsed.append(_block(block["topic"], block.get("count", 3), block.get("seed", 1),
                             block.get("difficulty", 2)))
    if len(examples) > MAX_ITEMS:
        raise ChainruleError(f"{path}: {len(examples)} examples; the limit is {MAX_ITEMS}")
    return HandoutPlan(title[:200], parse_examples(",".join(examples)) if examples else (),
                       check_blocks(tuple(parsed)))


def build_handout(plan: HandoutPlan, out: Path, *, pdf: bool) -> list[Path]:
    """Write ``out``/handout.tex (and handout.pdf): the examples with their figures, then the
    exercises and the key."""
    from chainrule.derive.exercises.render import key_body, sheet_body
    from chainrule.derive.exercises.sheet import make_sheet
    from chainrule.derive.printing.latex import document

    out.mkdir(parents=True, exist_ok=True)
    check_handout_outputs(out, pdf=pdf)
    entries = {entry.key: entry for entry in find_gallery()}
    sections = []
    for key in plan.examples:
        entry = entries[key]
        files = run_entry(entry, out / key)
        sections.append(_example_section(entry.title, key, files))
    first, sheets, exercises = 1, [], []
    for block in plan.exercises:
        sheet = make_sheet(block.topic, count=block.count, seed=block.seed,
                           difficulty=block.difficulty)
        exercises.append(f"\\subsection*{{{escape_latex(sheet.topic.title)}}}\n"
                         + sheet_body(sheet, first=first))
        sheets.append((sheet, first))
        first += block.count
    body = "\n".join(sections)
    if exercises:
        body += "\n\\clearpage\n\\section{Exercises}\nGive answers to 4 significant digits (counts and shapes exactly).\n\n" \
            + "\n".join(exercises)
        body += "\n\\clearpage\n\\section{Answer key}\n" + "\n".join(
            key_body(sheet, first=start) for sheet, start in sheets)
    tex = atomic_write_text(out / "handout.tex", document(body, title=plan.title))
    return [tex, compile_pdf(tex)] if pdf else [tex]


def check_handout_outputs(out: Path, *, pdf: bool) -> None:
    """Refuse a link, a folder or a device at OUT/handout.tex (and .pdf) before any work."""
    check_output(out / "handout.tex", what="handout")
    if pdf:
        check_output(out / "handout.pdf", what="handout PDF", binary=True)
        check_output(out / "handout.log", what="pdflatex log")


def escape_latex(text: str) -> str:
    from chainrule.derive.printing.latex_layers import text_to_latex

    return text_to_latex(text)


def _example_section(title: str, key: str, files: list[Path]) -> str:
    """The example's document body under a numbered section; figures drawn from ``key``/."""
    tex = next((f for f in files if f.suffix == ".tex"), None)
    body = ""
    if tex is not None:
        match = _BODY.search(tex.read_text(encoding="utf-8"))
        body = _HEADING.sub("", match.group(1), count=1) if match else ""
        body = _GRAPHICS.sub(lambda m: f"{m.group(1)}{key}/{m.group(2)}}}", body)
    shown = {m.group(2) for m in _GRAPHICS.finditer(body)}
    for png in (f for f in files if f.suffix == ".png"):
        if f"{key}/{png.name}" not in shown:  # a figure the .tex does not draw itself
            body += ("\n\\begin{center}\n\\includegraphics[width=\\linewidth,height=0.4\\textheight,"
                     f"keepaspectratio]{{{key}/{png.name}}}\n\\end{{center}}\n")
    return f"\\section{{{escape_latex(title)}}}\n{body}\n"
