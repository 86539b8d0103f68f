"""Every standalone LaTeX document is a handout a teacher can use: it compiles with pdflatex, and
the PDF has no overfull box wider than 2 pt, no blank page, and no character lost (pdftotext finds
no "?" where a symbol was meant). No user string reaches LaTeX as a command.

Covers ``derive expr|graph|neuron|net|conv --format latex --standalone`` (a representative set) and
every gallery ``.tex``. Skipped where pdflatex or pdftotext is missing (texlive-latex-base,
texlive-latex-recommended, poppler-utils).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from chainrule.cli.gallery import find_gallery, run_entry
from chainrule.derive.graph import build_graph
from chainrule.derive.parser import parse_expression
from chainrule.derive.printing.latex import document, latex
from chainrule.derive.printing.latex_derivation import breakable
from chainrule.derive.printing.latex_layers import text_to_latex

needs_tex = pytest.mark.skipif(
    shutil.which("pdflatex") is None or shutil.which("pdftotext") is None,
    reason="pdflatex or pdftotext not installed (texlive-latex-base, poppler-utils)")

MAX_OVERFULL_PT = 2.0
_OVERFULL = re.compile(r"Overfull \\[hv]box \((\d+(?:\.\d+)?)pt too (?:wide|high)")


@dataclass(frozen=True)
class Compiled:
    overfull: list[float]  # every Overfull \hbox / \vbox in the log, in pt
    pages: list[str]  # pdftotext's text of each page

    @property
    def text(self) -> str:
        return "\f".join(self.pages)


def compile_tex(tex: Path) -> Compiled:
    """pdflatex ``tex`` (beside it), then read the log's overfull boxes and the PDF's text."""
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
                         cwd=tex.parent, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout[-2000:]
    log = tex.with_suffix(".log").read_text(encoding="latin-1")
    text = subprocess.run(["pdftotext", "-layout", str(tex.with_suffix(".pdf")), "-"],
                          capture_output=True, text=True, timeout=60, check=True).stdout
    return Compiled([float(m) for m in _OVERFULL.findall(log)], text.split("\f")[:-1])


def assert_publishable(tex: Path) -> Compiled:
    compiled = compile_tex(tex)
    too_wide = [width for width in compiled.overfull if width > MAX_OVERFULL_PT]
    assert not too_wide, f"{tex.name}: overfull boxes of {too_wide} pt"
    blank = [number for number, page in enumerate(compiled.pages, 1) if not page.strip()]
    assert compiled.pages and not blank, f"{tex.name}: blank pages {blank}"
    lost = [line for line in compiled.text.splitlines() if "?" in line]
    assert not lost, f"{tex.name}: characters lost: {lost[:3]}"
    return compiled


E7 = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
LONG = ("-t*log(sigmoid(w2*tanh(w1*x+b1)+b2)) - (1-t)*log(1-sigmoid(w2*tanh(w1*x+b1)+b2))"
        " + lambda_1*(w1**2+w2**2)/2")
DOCUMENTS = {
    "expr_short": ["derive", "expr", "sigmoid(w*x+b)", "--wrt", "w", "--at", "w=0.5,x=2,b=0.1",
                   "--format", "latex", "--standalone"],
    "expr_long": ["derive", "expr", LONG, "--wrt", "w1", "--at",
                  "w1=0.5,w2=-1,x=2,b1=0.1,b2=0.3,t=1,lambda_1=0.01", "--format", "latex",
                  "--standalone"],
    "graph": ["derive", "graph", E7, "--at", "w=[2,-3,-3],x=[-1,-2]", "--format", "latex",
              "--standalone"],
    "neuron_sigmoid_half_mse": ["derive", "neuron", "-a", "sigmoid", "-l", "half_mse", "--at",
                                "x=[1,2],w=[0.5,-0.3],b=0.1,t=1", "--format", "latex",
                                "--standalone"],
    "neuron_softmax_ce": ["derive", "neuron", "-l", "softmax_ce", "--at",
                          "x=[1,2],w=[[1,0],[0,1],[1,1]],b=[0,0,0],t=[0,1,0]", "--format",
                          "latex", "--standalone"],
    "net_mlp": ["derive", "net", "mlp:2-3-1", "--format", "latex", "--standalone"],
    "net_lenet5": ["derive", "net", "lenet5", "--format", "latex", "--standalone"],
    "net_cnn": ["derive", "net", "cnn:2x7x6-conv3x3x2s2p1-maxpool2s1-flatten-dense3", "--dropout",
                "0.2", "--l2", "0.01", "--format", "latex", "--standalone"],
    "conv_padding": ["derive", "conv", "--image", str([[(7 * i + 3 * j) % 256 for j in range(7)]
                                                       for i in range(7)]).replace(" ", ""),
                     "--kernel", "[[1,0,1],[0,1,0],[1,0,1]]", "--padding", "2", "--stride", "2",
                     "--format", "latex", "--standalone"],  # 11 columns once padded
}


CHECKED_ELSEWHERE = {"graph", "neuron_sigmoid_half_mse", "net_mlp"}  # by the tests below


@needs_tex
@pytest.mark.parametrize("name", [name for name in DOCUMENTS if name not in CHECKED_ELSEWHERE])
def test_standalone_document_is_publishable(cli, tmp_path: Path, name: str) -> None:
    tex = tmp_path / f"{name}.tex"
    cli.run([*DOCUMENTS[name], "--out", str(tex)])
    assert_publishable(tex)


@needs_tex
def test_net_document_keeps_the_half_of_half_squared_error(cli, tmp_path: Path) -> None:
    tex = tmp_path / "mlp.tex"
    cli.run([*DOCUMENTS["net_mlp"], "--out", str(tex)])
    text = assert_publishable(tex).text
    assert "half squared error ½" in text


@needs_tex
def test_neuron_document_states_model_inputs_and_definitions(cli, tmp_path: Path) -> None:
    tex = tmp_path / "neuron.tex"
    cli.run([*DOCUMENTS["neuron_sigmoid_half_mse"], "--out", str(tex)])
    text = assert_publishable(tex).text
    for heading in ("Model", "Definitions", "Inputs", "Forward pass", "Backward pass"):
        assert heading in text, heading
    assert "weighted sum" in text and "δ = ∂L/∂z" in text
    assert re.search(r"w = \[0\.5, −0\.3\]", text), text


@needs_tex
def test_graph_document_draws_the_graph(cli, tmp_path: Path) -> None:
    tex = tmp_path / "graph.tex"
    cli.run([*DOCUMENTS["graph"], "--out", str(tex)])
    assert (tmp_path / "graph.png").stat().st_size > 0  # written beside --out
    assert "\\includegraphics" in tex.read_text() and "{graph.png}" in tex.read_text()
    assert_publishable(tex)


# -- LaTeX injection (issue 9, item 5) ----------------------------------------------------------
SECRET = "chainrule-secret-8c1f"


def test_graph_name_must_be_an_identifier(cli, tmp_path: Path) -> None:
    secret = tmp_path / "secret.tex"
    secret.write_text(SECRET)
    line = cli.fails(["derive", "graph", "x*y", "--at", "x=1,y=2", "--name",
                      f"\\input{{{secret}}}", "--format", "latex", "--standalone"])
    assert line.startswith("error: --name")


@needs_tex
def test_user_strings_never_run_latex_commands(tmp_path: Path) -> None:
    secret = tmp_path / "secret.tex"
    secret.write_text(SECRET)
    name = f"\\input{{{secret}}}"
    graph = build_graph(parse_expression("x*y"), {"x": 1.0, "y": 2.0}, output=name)
    body = latex(graph) + "\n\n" + latex(graph, environment="longtable")
    tex = tmp_path / "injected.tex"
    tex.write_text(document(body, title=name))
    text = compile_tex(tex).text
    assert SECRET not in text
    assert "\\input{" in text  # the name is shown as it was typed


def test_text_to_latex_escapes_every_special_character() -> None:
    text = text_to_latex("\\input{x} $5 & 10% #1 a_b ~ ^ <|>")
    assert "\\input" not in text.replace("\\textbackslash{}input", "")
    assert re.search(r"(?<!\\)[{}$&%#_~^]", re.sub(r"\\[a-z]+\{\}|\\[{}$&%#_]|\$[^$]*\$", "",
                                                       text)) is None, text


@pytest.mark.parametrize(("unicode", "expected"), [
    ("½", r"\textonehalf{}"), ("δ⁽ˡ⁺¹⁾", r"\delta ^{(l+1)}"), ("∇ₐC", r"\nabla _{a}"),
    ("(aˡ⁻¹)ᵀ", r"^{l-1}"), ("𝟙[j = k]", r"\mathbf{1}"), ("ü", r'\"u'), ("ζ", r"\zeta"),
])
def test_text_to_latex_keeps_every_character(unicode: str, expected: str) -> None:
    text = text_to_latex(unicode)
    assert expected in text and "?" not in text and text.isascii()


def test_breakable_leaves_no_unbreakable_left_right_groups() -> None:
    printed = latex(parse_expression("-t*log(sigmoid(w*x+b)) - (1-t)*log(1-sigmoid(w*x+b))"))
    assert "\\left(" in printed
    broken = breakable(printed)
    assert "\\left" not in broken and "\\right" not in broken
    assert broken.count("{") == broken.count("}")
    assert "\\log{" not in broken  # the brace group around a function's argument is gone


# -- the gallery ----------------------------------------------------------------------------------
ENTRIES = find_gallery()


@needs_tex
@pytest.mark.parametrize("entry", ENTRIES, ids=[e.key for e in ENTRIES])
def test_gallery_document_is_a_publishable_handout(entry, tmp_path: Path) -> None:
    outputs = run_entry(entry, tmp_path)
    for tex in [p for p in outputs if p.suffix == ".tex"]:
        assert_publishable(tex)
        figures = [p.name for p in outputs if p.suffix == ".png"]
        source = tex.read_text()
        for figure in figures:  # every figure it writes is in its handout
            assert f"{{{figure}}}" in source and "\\includegraphics" in source, figure
