"""House rules every course notebook keeps (nbmake executes them; this checks their shape)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_the_course_has_its_first_notebooks():
    names = [p.name for p in NOTEBOOKS]
    assert "00_setup_and_data.ipynb" in names and "01_audio_basics.ipynb" in names
    numbers = [n[:2] for n in names]
    assert len(numbers) == len(set(numbers)), "two notebooks share a number"


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.stem)
def notebook(request):
    return request.param, json.loads(request.param.read_text())


def test_title_cell_with_goals_and_prerequisites(notebook):
    path, nb = notebook
    first = nb["cells"][0]
    text = "".join(first["source"])
    assert first["cell_type"] == "markdown" and text.startswith("# "), f"{path.name}: no title cell"
    assert "Prerequisites" in text and "Time" in text, f"{path.name}: title cell lacks prerequisites/time"


def test_imports_musiclib_and_reads_settings(notebook):
    path, nb = notebook
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "import musiclib as ml" in code
    assert "ml.config.settings(" in code


def test_committed_without_outputs(notebook):
    path, nb = notebook
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name}: cell {i} carries outputs"
            assert cell.get("execution_count") is None, f"{path.name}: cell {i} has an execution count"


def test_ends_with_exercises_and_summary(notebook):
    path, nb = notebook
    markdown = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "## Exercises" in markdown and "## Summary" in markdown


def test_no_long_function_definitions(notebook):
    """Heavy code lives in musiclib; a notebook may define at most a short helper."""
    path, nb = notebook
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        tree = ast.parse("".join(cell["source"]))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                length = node.end_lineno - node.lineno + 1
                assert length <= 6, f"{path.name}: cell {i} defines {node.name} in {length} lines"
