"""House rules every course notebook keeps (nbmake executes them; this checks their shape)."""

from __future__ import annotations

import ast
import re
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


# ml.plots functions that return arrays and draw nothing
_NOT_DRAWING = {"stft_db", "mel_db"}
_DRAWS = re.compile(
    r"\bml\.plots\.(?P<plot>[a-z]\w*)\s*\("          # the course's plots
    r"|\bplt\.(?!close\b|rcParams\b|style\b)\w+\s*\("  # pyplot: subplots, figure, plot, imshow, ...
    r"|\b(?:fig|ax|axes)\b[\w\[\]., ]*?\.(?:plot|imshow|scatter|bar|barh|hist|pcolormesh|specgram|fill_between)\s*\("
    r"|\.plot\s*\("                                    # pandas' and matplotlib's .plot(
)


def _outside_solutions(source: str) -> str:
    """The code of a cell without its solution and hidden-test regions (what a student version keeps)."""
    from musiclib.student import marker

    kept, inside = [], None
    for line in source.splitlines():
        mark = marker(line)
        if mark in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS"):
            inside = mark
        elif mark in ("END SOLUTION", "END HIDDEN TESTS"):
            inside = None
        elif inside is None:
            kept.append(line)
    return "\n".join(kept)


def _draws(code: str) -> str | None:
    """The first plotting call in ``code`` (comments ignored), or None."""
    for line in code.splitlines():
        line = line.split("#", 1)[0]
        for match in _DRAWS.finditer(line):
            if match.group("plot") in _NOT_DRAWING:
                continue
            return match.group(0).strip()
    return None


def figure_cells_without_a_sentence(nb: dict) -> list[tuple[str, str]]:
    """(cell id, plotting call) of every figure cell that no sentence says what to see in."""
    cells = nb["cells"]
    found = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        code = _outside_solutions("".join(cell["source"]))
        call = _draws(code)
        if call is None:
            continue
        following = cells[i + 1] if i + 1 < len(cells) else None
        followed_by_text = (following is not None and following["cell_type"] == "markdown"
                            and not "".join(following["source"]).lstrip().startswith("#"))
        if not followed_by_text and not re.search(r"\bprint\s*\(", code):
            found.append((cell.get("id", str(i)), call))
    return found


def test_every_figure_is_followed_by_a_sentence_saying_what_to_see(notebook):
    """A code cell that draws a figure is followed by a markdown cell, or prints a sentence itself.

    A cell *draws* when, outside comments, it calls a drawing function of ``ml.plots`` (all
    but ``stft_db`` and ``mel_db``, which return arrays), any ``plt.`` function (but
    ``close``, ``rcParams``, ``style``), a plotting method of ``fig`` / ``ax`` / ``axes``
    (``plot``, ``imshow``, ``scatter``, ...) or any ``.plot(``. The sentence saying what to see
    is either the next cell, a markdown cell that opens with text (a cell that opens with a
    heading starts the next topic instead), or a ``print(`` in the plotting cell itself
    (for what to see depends on the run's numbers).

    Code inside an exercise's ``### BEGIN SOLUTION`` / ``### END SOLUTION`` region (and the
    hidden tests) is left out: the student version replaces it with a placeholder, so no
    figure is drawn there, and the exercise's own text and answer cell say what the learner
    should look for. Plotting code *outside* those markers still counts.
    """
    path, nb = notebook
    missing = figure_cells_without_a_sentence(nb)
    assert not missing, (f"{path.name}: figures with no sentence after them saying what to see "
                         f"(add a markdown cell after, or print one): {missing}")


@pytest.mark.parametrize("cells, expected", [
    ([("code", "ml.plots.waveform(y, sr=SR);"), ("markdown", "The waveform shows ...")], []),
    ([("code", "ml.plots.waveform(y, sr=SR);"), ("code", "x = 1")], [("c0", "ml.plots.waveform(")]),
    ([("code", "ml.plots.waveform(y, sr=SR);"), ("markdown", "## 2. Next topic")], [("c0", "ml.plots.waveform(")]),
    ([("code", "ml.plots.waveform(y, sr=SR)\nprint(f'peak at {t:.1f} s')"), ("code", "x = 1")], []),
    ([("code", "fig, axes = plt.subplots(1, 2)")], [("c0", "plt.subplots(")]),
    ([("code", "S = ml.plots.stft_db(y)  # ml.plots.spectrogram( in a comment"), ("code", "x")], []),
    ([("code", "### BEGIN SOLUTION\nml.plots.spectrogram(S, sr=SR);\n### END SOLUTION"), ("code", "check()")], []),
    ([("code", "df.plot(kind='bar')")], [("c0", ".plot(")]),
])
def test_the_figure_rule_itself(cells, expected):
    nb = {"cells": [{"cell_type": kind, "id": f"c{i}", "source": [text]} for i, (kind, text) in enumerate(cells)]}
    assert figure_cells_without_a_sentence(nb) == expected
