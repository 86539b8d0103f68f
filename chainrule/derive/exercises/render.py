"""Render a :class:`~chainrule.derive.exercises.sheet.Sheet`: the sheet and the key as LaTeX or Markdown,
the whole as JSON, or the questions as Moodle XML (the quiz import format).

Every renderer is a pure function of the sheet, so the same seed gives byte-identical files.
LaTeX documents come from :func:`chainrule.derive.printing.latex.document` (the same preamble and
page layout as every other document chainrule writes).
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from typing import Any

from chainrule.derive.exercises.common import Exercise, Math, escape_latex, number
from chainrule.derive.exercises.sheet import Sheet
from chainrule.derive.printing.latex import document


def sheet_body(sheet: Sheet, *, first: int = 1) -> str:
    """The exercises as a LaTeX ``enumerate`` (numbered from ``first``)."""
    items = "\n".join(f"\\item {ex.latex}\n" for ex in sheet.exercises)
    return (f"\\begin{{enumerate}}\\setcounter{{enumi}}{{{first - 1}}}\n"
            "\\setlength{\\itemsep}{2ex}\n" f"{items}\\end{{enumerate}}\n")


def key_body(sheet: Sheet, *, first: int = 1) -> str:
    """For each exercise its answers (4 significant digits) and the worked solution."""
    parts = []
    for n, ex in enumerate(sheet.exercises, start=first):
        answers = r",\quad ".join(f"${a.latex} = {number(a.value)}$" for a in ex.answers)
        parts.append(f"\\section*{{Exercise {n}}}\n\\textbf{{Answers:}} {answers}\n\n"
                     f"{ex.solution.latex}\n")
    return "\n".join(parts)


def sheet_latex(sheet: Sheet) -> str:
    note = ("Give answers to 4 significant digits (counts and shapes exactly). "
            f"{escape_latex(sheet.topic.summary[0].upper() + sheet.topic.summary[1:])}.\n\n")
    return document(note + sheet_body(sheet), title=sheet.title)


def key_latex(sheet: Sheet) -> str:
    return document(key_body(sheet), title=sheet.title.replace("exercises", "answer key"))


def both_latex(sheet: Sheet) -> str:
    """Sheet and key in one document, the key on a new page (stdout without --out)."""
    key = sheet.title.replace("exercises", "answer key")
    return document(sheet_body(sheet) + f"\n\\newpage\n\\section*{{{escape_latex(key)}}}\n"
                    + key_body(sheet), title=sheet.title)


def sheet_markdown(sheet: Sheet) -> str:
    lines = [f"# {sheet.title}", "", "Give answers to 4 significant digits (counts and shapes exactly).", ""]
    lines += [f"{n}. {ex.markdown}" for n, ex in enumerate(sheet.exercises, start=1)]
    return "\n".join(lines) + "\n"


def key_markdown(sheet: Sheet) -> str:
    lines = [f"# {sheet.title.replace('exercises', 'answer key')}", ""]
    for n, ex in enumerate(sheet.exercises, start=1):
        lines += [f"## Exercise {n}", "",
                  "**Answers:** " + ", ".join(f"${a.latex} = {number(a.value)}$"
                                              for a in ex.answers), ""]
        lines += [f"{i}. **{s.rule}**: {s.text} ${s.latex}$"
                  for i, s in enumerate(ex.solution.steps, start=1)]
        lines.append("")
    return "\n".join(lines)


def both_markdown(sheet: Sheet) -> str:
    return sheet_markdown(sheet) + "\n" + key_markdown(sheet)


def exercise_payload(ex: Exercise) -> dict[str, Any]:
    """One exercise as JSON: topic, prompt, expression or spec, wrt, at, answer, solution."""
    payload: dict[str, Any] = {"topic": ex.topic,
                               "prompt": {"text": ex.text, "latex": ex.latex}}
    payload.update(ex.data)
    payload["answer"] = {a.name: a.value for a in ex.answers}
    payload["answers"] = [{"name": a.name, "latex": a.latex, "value": a.value,
                           "exact": a.exact, "tolerance": a.tolerance} for a in ex.answers]
    payload["solution"] = [{"rule": s.rule, "text": s.text, "latex": s.latex}
                           for s in ex.solution.steps]
    return payload


def sheet_payload(sheet: Sheet) -> dict[str, Any]:
    return {"topic": sheet.topic.name, "seed": sheet.seed, "difficulty": sheet.difficulty,
            "count": len(sheet.exercises), "verified": len(sheet.exercises),
            "exercises": [exercise_payload(ex) for ex in sheet.exercises]}


def _html(ex: Exercise) -> str:
    return "".join((f"\\[{p.latex}\\]" if p.display else f"\\({p.latex}\\)")
                   if isinstance(p, Math) else html.escape(p) for p in ex.prompt)


def _feedback(ex: Exercise) -> str:
    steps = "".join(f"<li><b>{html.escape(s.rule)}</b>: {html.escape(s.text)} \\({s.latex}\\)</li>"
                    for s in ex.solution.steps)
    answers = ", ".join(f"\\({a.latex} = {number(a.value)}\\)" for a in ex.answers)
    return f"<p>Answers: {answers}</p><ol>{steps}</ol>"


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    ET.SubElement(element, "text").text = text
    return element


def moodle_xml(sheet: Sheet) -> str:
    """Moodle XML: a category, then one numerical question per answer of each exercise, with the
    prompt in LaTeX for MathJax (``\\( \\)``), a tolerance, and the worked solution as general
    feedback. Import it in Moodle under Question bank → Import → Moodle XML format."""
    quiz = ET.Element("quiz")
    category = ET.SubElement(quiz, "question", {"type": "category"})
    _text(category, "category", f"$course$/top/chainrule/{sheet.topic.name}")
    for n, ex in enumerate(sheet.exercises, start=1):
        feedback = _feedback(ex)
        for part, answer in zip("abcdefghij", ex.answers, strict=False):
            question = ET.SubElement(quiz, "question", {"type": "numerical"})
            label = f" ({part})" if len(ex.answers) > 1 else ""
            _text(question, "name", f"{sheet.topic.name} s{sheet.seed} d{sheet.difficulty} "
                  f"#{n}{label}: {answer.name}")
            ask = (f"<p>{_html(ex)}</p><p>Enter \\({answer.latex}\\) "
                   "(to 4 significant digits).</p>")
            _text(question, "questiontext", ask, format="html")
            _text(question, "generalfeedback", feedback, format="html")
            ET.SubElement(question, "defaultgrade").text = "1.0000000"
            ET.SubElement(question, "penalty").text = "0.3333333"
            ET.SubElement(question, "hidden").text = "0"
            reply = _text(question, "answer", number(answer.value), fraction="100",
                          format="moodle_auto_format")
            _text(reply, "feedback", "", format="html")
            ET.SubElement(reply, "tolerance").text = repr(answer.tolerance)
            ET.SubElement(question, "unitgradingtype").text = "0"
            ET.SubElement(question, "unitpenalty").text = "0.1000000"
            ET.SubElement(question, "showunits").text = "3"
            ET.SubElement(question, "unitsleft").text = "0"
    ET.indent(quiz)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="unicode") + "\n"
