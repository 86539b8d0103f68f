"""gallery/notebook.ipynb runs top to bottom in a fresh kernel, and each result renders the way
the tour says: LaTeX for derivations, a picture for the graph and the training run, HTML for
tables. Skipped where nbclient or ipykernel is not installed (they are in the dev extra)."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = Path(__file__).resolve().parents[2] / "gallery" / "notebook.ipynb"


def _mimetypes(cell) -> set[str]:  # type: ignore[no-untyped-def]
    return {kind for output in cell.get("outputs", []) for kind in output.get("data", {})}


def test_notebook_runs_and_renders(tmp_path: Path) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = {cell.source.splitlines()[0]: cell for cell in notebook.cells
            if cell.cell_type == "code"}
    errors = [o for cell in code.values() for o in cell.outputs if o.output_type == "error"]
    assert not errors
    expected = {
        'api.derive_expr("sigmoid(z)", wrt="z", at={"z": 3.2})': "text/latex",
        'graph = api.derive_graph(': "image/png",
        'api.derive_net("mlp:2-3-1")': "text/markdown",
        'api.summary("lenet5")': "text/html",
        'api.gradcheck("mlp:2-2-2")': "text/html",
        "model.plot()": "image/png",
        "result = model.evaluate()": "text/html",
    }
    for start, mimetype in expected.items():
        cell = next(c for line, c in code.items() if line.startswith(start))
        assert mimetype in _mimetypes(cell), (start, _mimetypes(cell))
    printed = "".join(o.get("text", "") for c in code.values() for o in c.outputs)
    assert "unknown keyword 'epoch' (did you mean 'epochs'?)" in printed
