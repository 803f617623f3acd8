"""Student versions: solutions replaced by placeholders, hidden tests removed, notebooks still run."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

import musiclib as ml
from musiclib import cli
from musiclib.student import CODE_STUB, TEXT_STUB, MarkerError, marker, student_notebook, student_source

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.mark.parametrize("line, expected", [
    ("### BEGIN SOLUTION", "BEGIN SOLUTION"),
    ("    # END SOLUTION  ", "END SOLUTION"),
    ("#### BEGIN HIDDEN TESTS", "BEGIN HIDDEN TESTS"),
    ("### END HIDDEN TESTS", "END HIDDEN TESTS"),
    ("x = 1  # BEGIN SOLUTION", None),      # a marker is alone on its line
    ("Use ### BEGIN SOLUTION markers", None),
    ("BEGIN SOLUTION", None),               # without a comment or heading mark
    ("### BEGIN SOLUTIONS", None),
])
def test_marker_lines(line, expected):
    assert marker(line) == expected


def test_code_solution_becomes_stub_for_the_names_read_later():
    source = "\n".join([
        "### BEGIN SOLUTION",
        "helper = 3",
        "answer = helper * 2",
        "unused = 5",
        "### END SOLUTION",
    ])
    out = student_source(source, "code", later_code="check(answer)")
    assert out == f"{CODE_STUB}\nanswer = ..."


def test_names_read_after_the_region_in_the_same_cell_are_stubbed_and_that_code_kept():
    source = "x = 1\n### BEGIN SOLUTION\nfor k in range(3):\n    total = k\n### END SOLUTION\nprint(total)\n"
    assert student_source(source, "code") == f"x = 1\n{CODE_STUB}\ntotal = ...\nprint(total)"


def test_a_solution_that_rebinds_an_earlier_name_gets_no_stub_for_it():
    source = "### BEGIN SOLUTION\nsettings = 1\nnew = 2\n### END SOLUTION"
    out = student_source(source, "code", defined_before=["settings"], later_code="f(settings, new)")
    assert out == f"{CODE_STUB}\nnew = ..."


def test_indented_solution_keeps_its_indentation_and_runs():
    source = "if True:\n    ### BEGIN SOLUTION\n    value = 41 + 1\n    ### END SOLUTION\n    pass\n"
    out = student_source(source, "code", later_code="value")
    assert out == f"if True:\n    {CODE_STUB}\n    value = ...\n    pass"
    scope = {}
    exec(out, scope)
    assert scope["value"] is Ellipsis


def test_function_and_import_names_in_a_solution_are_stubbed_when_used():
    source = "### BEGIN SOLUTION\nimport math as m\ndef f(x):\n    return [i for i in x]\n### END SOLUTION"
    assert student_source(source, "code", later_code="f(m.pi)") == f"{CODE_STUB}\nm = ...\nf = ..."


def test_hidden_tests_are_removed_and_several_regions_replaced():
    source = "\n".join([
        "### BEGIN SOLUTION", "a = 1", "### END SOLUTION",
        "feedback = check(a)",
        "### BEGIN HIDDEN TESTS", "assert feedback.right", "### END HIDDEN TESTS",
        "### BEGIN SOLUTION", "b = a + 1", "### END SOLUTION",
    ])
    out = student_source(source, "code", later_code="b")
    assert out == f"{CODE_STUB}\na = ...\nfeedback = check(a)\n{CODE_STUB}\nb = ..."


def test_markdown_solution_becomes_text_placeholder():
    source = "**Your answer:**\n\n### BEGIN SOLUTION\nBecause artists repeat.\n### END SOLUTION\n\nMore text."
    assert student_source(source, "markdown") == f"**Your answer:**\n\n{TEXT_STUB}\n\nMore text."


@pytest.mark.parametrize("source, words", [
    ("### BEGIN SOLUTION\nx = 1", "line 1: BEGIN SOLUTION without END SOLUTION"),
    ("x = 1\n### END SOLUTION", "line 2: END SOLUTION without BEGIN SOLUTION"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "line 2: BEGIN SOLUTION inside"),
    ("### BEGIN HIDDEN TESTS\nassert x", "line 1: BEGIN HIDDEN TESTS without END HIDDEN TESTS"),
])
def test_unpaired_markers_name_the_cell_and_line(source, words):
    with pytest.raises(MarkerError, match=re.escape(f"07_x.ipynb cell 3: {words}")):
        student_source(source, "code", where="07_x.ipynb cell 3")


def _instructor_notebook():
    nb = new_notebook(cells=[
        new_markdown_cell("# 00 · Demo\n\n**Prerequisites:** none."),
        new_code_cell("import musiclib as ml\nimport numpy as np\ny = np.zeros(22050)"),
        new_markdown_cell("### Exercise 1 · Duration"),
        new_code_cell("### BEGIN SOLUTION\nduration_s = y.shape[0] / 22050\n### END SOLUTION"),
        new_code_cell("feedback = ml.exercises.check_clip_duration(duration_s, y=y, sr=22050)\n"
                      "### BEGIN HIDDEN TESTS\nassert feedback.right, feedback\n### END HIDDEN TESTS"),
        new_markdown_cell("**Your answer:**\n\n### BEGIN SOLUTION\nSamples divided by rate.\n### END SOLUTION"),
    ])
    nb.cells[1].outputs = [new_output("stream", name="stdout", text="old output")]
    nb.cells[1].execution_count = 4
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def test_student_notebook_keeps_everything_else_and_leaves_the_original_alone():
    nb = _instructor_notebook()
    before = nbformat.writes(nb)
    student = student_notebook(nb, "00_demo.ipynb")
    assert nbformat.writes(nb) == before
    assert len(student.cells) == len(nb.cells) and student.metadata == nb.metadata
    assert [c.get("id") for c in student.cells] == [c.get("id") for c in nb.cells]
    assert student.cells[1].source == nb.cells[1].source and student.cells[1].outputs == []
    assert student.cells[1].execution_count is None
    assert student.cells[3].source == f"{CODE_STUB}\nduration_s = ..."
    assert "assert" not in student.cells[4].source
    assert "Samples divided" not in nbformat.writes(student)


def test_cli_writes_student_versions_that_run_and_report_missing_answers(tmp_path, capsys):
    source = tmp_path / "instructor"
    source.mkdir()
    nbformat.write(_instructor_notebook(), source / "00_demo.ipynb")
    out = tmp_path / "class"
    assert cli.main(["course", "student", "--notebooks", str(source), "--out", str(out)]) == 0
    assert "1 student notebooks written" in capsys.readouterr().out
    assert [p.name for p in out.iterdir()] == ["00_demo.ipynb"]  # no temporary files left

    run = ml.course.execute_notebook(out / "00_demo.ipynb", tmp_path / "run")
    assert run.status == "ok", run.error
    executed = nbformat.read(tmp_path / "run" / "00_demo.ipynb", as_version=4)
    assert executed.cells[4].outputs[0]["text"].startswith("… Exercise 01.1: no answer yet")

    # the instructor version runs its hidden test and passes
    run = ml.course.execute_notebook(source / "00_demo.ipynb", tmp_path / "instructor-run")
    assert run.status == "ok", run.error


def test_refuses_to_overwrite_the_instructor_notebooks(tmp_path, capsys):
    source = tmp_path / "instructor"
    source.mkdir()
    nbformat.write(_instructor_notebook(), source / "00_demo.ipynb")
    assert cli.main(["course", "student", "--notebooks", str(source), "--out", str(source)]) == 2
    assert "instructor notebooks; choose another --out" in capsys.readouterr().err
    assert "BEGIN SOLUTION" in (source / "00_demo.ipynb").read_text()


# --- the course itself ----------------------------------------------------------------------------


def _solution_lines(nb) -> set[str]:
    """Distinctive lines of every solution: long enough, and not part of any text outside solutions."""
    solution = {line.strip() for text in ml.student.solutions(nb) for line in text.splitlines()}
    elsewhere = []
    for cell in nb.cells:
        lines = cell.source.splitlines()
        inside = False
        for line in lines:
            found = marker(line)
            if found in ("BEGIN SOLUTION", "END SOLUTION"):
                inside = found == "BEGIN SOLUTION"
            elif not inside:
                elsewhere.append(line.strip())
    shown = "\n".join(elsewhere)  # text the students see anyway (a task may quote a call as a hint)
    return {line for line in solution if len(line) >= 16 and line not in shown}


@pytest.fixture(scope="module")
def student_course(tmp_path_factory):
    out = tmp_path_factory.mktemp("class")
    return ml.student.write_student_versions(out, notebooks_dir=NOTEBOOKS_DIR)


def test_student_versions_hold_no_solution_text(student_course):
    assert len(student_course) == len(ml.course.find_notebooks(NOTEBOOKS_DIR))
    for path in student_course:
        instructor = nbformat.read(NOTEBOOKS_DIR / path.name, as_version=4)
        text = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
        assert ml.student.solutions(instructor), f"{path.name}: no solutions in the instructor version"
        for word in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS"):
            assert word not in text, f"{path.name} still holds {word}"
        for line in _solution_lines(instructor):
            assert line not in text, f"{path.name} still holds solution text: {line!r}"
        assert CODE_STUB in text or TEXT_STUB in text


