"""Every gallery script runs, writes what it returns, and does so deterministically."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from chainrule.cli.gallery import find_gallery, run_entry

ENTRIES = find_gallery()


def _digest(paths: list[Path]) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_gallery_has_entries() -> None:
    assert len(ENTRIES) >= 10, [e.key for e in ENTRIES]


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.key for e in ENTRIES])
def test_entry_builds_deterministically(entry, tmp_path: Path) -> None:
    first = run_entry(entry, tmp_path / "a")
    second = run_entry(entry, tmp_path / "b")
    assert first, f"{entry.key} wrote nothing"
    assert all(path.is_file() and path.stat().st_size > 0 for path in first)
    assert {p.suffix for p in first} >= {".tex", ".md"}, [p.name for p in first]
    assert _digest(first) == _digest(second)
    assert entry.title and not entry.title.startswith("e"), entry.title


# Every gallery .tex is compiled and checked (no overfull box, no blank page, no lost character,
# its figure included) in tests/derive/test_latex_documents.py.


def test_e11_reproduces_the_lecture_numbers(tmp_path: Path) -> None:
    """Seed 001's slide: loss about 0.3 at the start, about 0.001 by iteration 1000 (a NumPy
    replay of the slide's code over 200 starts: median 0.340 → 0.00105)."""
    entry = next(e for e in ENTRIES if e.key == "e11")
    md = next(p for p in run_entry(entry, tmp_path) if p.suffix == ".md").read_text()
    rows = re.findall(r"^\| (\d+) \| ([\d.]+) \|$", md, re.MULTILINE)
    losses = {int(epoch): float(loss) for epoch, loss in rows}
    assert losses[1] > 0.2  # the untrained network
    assert 0.0005 < losses[1000] < 0.002, losses
    assert "--lr 4 --schedule constant" in md  # the handout says which settings do it


# -- figures that can be read (issue 11): what each gallery figure draws, checked on the Figure ----
def _figures(key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list:
    """Build gallery entry ``key`` and return every matplotlib Figure it saved."""
    from chainrule.cli import training_plots

    saved, original = [], training_plots.save_figure

    def keep(figure, path):
        saved.append(figure)
        return original(figure, path)

    monkeypatch.setattr(training_plots, "save_figure", keep)
    run_entry(next(e for e in ENTRIES if e.key == key), tmp_path)
    assert saved, f"{key} saved no figure"
    return saved


def _hidden_lines(figure) -> list[tuple[str, str]]:
    """Pairs of lines in one axes that lie within 2 px of each other at every point."""
    figure.canvas.draw()
    hidden = []
    for ax in figure.axes:
        lines = [(line, line.get_transform().transform(line.get_xydata())) for line in ax.lines]
        for i, (first, a) in enumerate(lines):
            for second, b in lines[i + 1:]:
                if a.shape == b.shape and len(a) > 1 and float(abs(a - b).max()) < 2.0:
                    hidden.append((first.get_label(), second.get_label()))
    return hidden


@pytest.mark.parametrize("key", ["e11", "e12", "e20"])
def test_no_curve_hides_under_another(key: str, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for figure in _figures(key, tmp_path, monkeypatch):
        assert not _hidden_lines(figure), (key, _hidden_lines(figure))


def test_e04_titles_fit_their_panels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (figure,) = _figures("e04", tmp_path, monkeypatch)
    renderer = figure.canvas.get_renderer()
    for ax in figure.axes:
        title, panel = ax.title.get_window_extent(renderer), ax.get_window_extent(renderer)
        assert title.width <= panel.width, (ax.get_title(), title.width, panel.width)


def test_e13_tangents_stand_out_from_the_curve(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    (figure,) = _figures("e13", tmp_path, monkeypatch)
    lines = figure.axes[0].lines
    curve = next(line for line in lines if line.get_label() == "J(w)")
    tangents = [line for line in lines  # two points, not the vertical w* line
                if len(line.get_xdata()) == 2 and line.get_xdata()[0] != line.get_xdata()[1]]
    assert len(tangents) >= 5
    for tangent in tangents:  # wider than J(w), in another colour, drawn over it
        assert tangent.get_linewidth() >= 1.5 * curve.get_linewidth()
        assert tangent.get_color() != curve.get_color()
        assert tangent.get_zorder() > curve.get_zorder()


def test_e20_draws_the_recorded_full_run_without_training(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """E20 reads gallery/data (a 10-epoch run on all 60,000 images) and never trains."""
    import json

    from chainrule.train import session

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the gallery must not train Fashion-MNIST")

    monkeypatch.setattr(session, "start", refuse)
    (figure,) = _figures("e20", tmp_path, monkeypatch)
    data = Path(ENTRIES[0].path).parent / "data"
    run = json.loads((data / "e20_fashion_mnist_train.json").read_text())
    scores = json.loads((data / "e20_fashion_mnist_evaluate.json").read_text())
    assert (run["n_train"], run["n_test"], len(run["epochs"])) == (60000, 10000, 10)
    assert scores["accuracy"] == run["test_acc"] > 0.85
    loss_ax, acc_ax = figure.axes[:2]
    assert {line.get_label() for line in loss_ax.lines} == {"train", "test"}
    assert {line.get_label() for line in acc_ax.lines} == {"train", "test"}
    test_loss = next(line for line in loss_ax.lines if line.get_label() == "test")
    assert list(test_loss.get_ydata()) == [e["test_loss"] for e in run["epochs"]]
    md = (tmp_path / "e20_fashion_mnist.md").read_text()
    assert "60,000 training" in md and f"{scores['accuracy']:.4f}" in md
    assert "--epochs 10 --batch 64" in md and "chainrule evaluate fm.npz" in md
