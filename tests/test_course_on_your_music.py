"""The course, executed headless in the tiny profile, on data other than the built-in
synthetic styles: a labelled folder as a learner keeps one, and GTZAN in both of its common
layouts. A notebook that breaks on a user's music fails here, and so fails CI.

Three ``musiclib course`` runs, each a process with its own data and build folders, run one
after another in the background from the start of the session (``tests/conftest.py``), on
the second core while the unit tests and nbmake use the first:

* the instructor notebooks on a labelled folder: labels that are no synthetic style, mp3 /
  flac / ogg / wav in nested folders, one long recording, unbalanced, and a label with a
  single recording (left out, and named);
* the student versions (``musiclib course student``) on GTZAN's Kaggle layout with two
  genres and the unreadable ``jazz.00054.wav``: every notebook's own code runs on it, and
  every check says that its answer is missing (the student course's own test);
* the notebooks that read and decode the files (00-02) on GTZAN's original layout: ``.au``
  files beside macOS ``._*`` files. Past notebook 02 the layouts give the same tables.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

import musiclib as ml

from course_data import BackgroundCourses, make_gtzan, make_labelled_folder

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"


# test -> the run it reads; only the runs of the collected tests are started
RUN_OF_TEST = {
    "test_notebooks_that_read_files_run_on_gtzan_original_layout": "gtzan_original",
    "test_course_runs_on_a_labelled_folder_of_mixed_files": "labelled",
    "test_student_course_runs_on_gtzan_kaggle_layout_with_its_unreadable_file": "student_on_gtzan_kaggle",
    # tests/test_site.py: the website built from a run's executed notebooks
    "test_site_of_the_course_works_in_chromium": "labelled",
    "test_student_site_has_no_solutions_and_works_in_chromium": "student_on_gtzan_kaggle",
}
# the order in which start_background_courses runs them
RUN_ORDER = ("gtzan_original", "labelled", "student_on_gtzan_kaggle")


def start_background_courses(root: Path, tests: set[str]) -> BackgroundCourses:
    """Make the datasets (and the student versions) that ``tests`` need, and start their runs."""
    wanted = {RUN_OF_TEST[t] for t in tests if t in RUN_OF_TEST}
    jobs = {}
    if "gtzan_original" in wanted:
        original = make_gtzan(root / "gtzan_original", layout="original", genres={
            "blues": "saw_downtempo", "classical": "pluck_folk_minor", "rock": "saw_industrial"})
        jobs["gtzan_original"] = (original, "--only", "00", "01", "02")
    if "labelled" in wanted:
        jobs["labelled"] = (make_labelled_folder(root / "my_music"),)
    if "student_on_gtzan_kaggle" in wanted:
        kaggle = make_gtzan(root / "gtzan_kaggle", layout="kaggle",
                            genres={"blues": "saw_downtempo", "jazz": "epiano_jazz"})
        student = root / "class"
        ml.student.write_student_versions(student, notebooks_dir=NOTEBOOKS_DIR)
        jobs["student_on_gtzan_kaggle"] = (kaggle, "--notebooks", str(student))
    return BackgroundCourses(root, jobs).start()


def _printed(executed: nbformat.NotebookNode) -> str:
    """Everything the notebook's cells printed or displayed as text."""
    parts = []
    for cell in executed.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def _ok(result, n_notebooks: int) -> Path:
    status, log, out = result
    assert status == 0, log[-3000:]
    table = (out / "notebooks.csv").read_text().splitlines()
    assert len(table) == 1 + n_notebooks and all(",ok," in line for line in table[1:]), table
    return out


@pytest.mark.slow
def test_course_runs_on_a_labelled_folder_of_mixed_files(background_courses):
    out = _ok(background_courses.result("labelled"), len(ml.course.find_notebooks(NOTEBOOKS_DIR)))
    setup = _printed(nbformat.read(out / "00_setup_and_data.ipynb", as_version=4))
    assert "labels   : 3" in setup
    assert "share    : tiny: 11 of 15 recordings (3 to 4 per label), at most 4 s of each" in setup
    assert "left out label 'solo': 1 usable recording(s)" in setup
    for name in ("02_spectral_features", "04_segments_leakage_balance", "08_vae_generation"):
        printed = _printed(nbformat.read(out / f"{name}.ipynb", as_version=4))
        assert "tiny: 11 of 15 recordings" in printed, name  # every data notebook says what it took
    predicted = _printed(nbformat.read(out / "09_predict_your_music.ipynb", as_version=4))
    assert "bach_0.mp3: " in predicted  # the demo: a held-out recording of the folder's own music
    demo_folder = out.parent / "build" / "uploads" / "folder_demo"
    assert sorted(p.name for p in demo_folder.iterdir()) == [
        "bach_0.mp3", "broken.wav", "chopin_1.flac", "satie_2.ogg"]


@pytest.mark.slow
def test_student_course_runs_on_gtzan_kaggle_layout_with_its_unreadable_file(background_courses):
    out = _ok(background_courses.result("student_on_gtzan_kaggle"), len(ml.course.find_notebooks(NOTEBOOKS_DIR)))
    setup = _printed(nbformat.read(out / "00_setup_and_data.ipynb", as_version=4))
    assert "(gtzan)" in setup and "labels   : 2" in setup
    assert "jazz.00054.wav: unreadable" in setup and "a known fault of common GTZAN copies" in setup
    checks = 0
    for path in sorted(out.glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and "ml.exercises.check_" in cell.source:
                text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
                assert re.match(r"… Exercise \d\d\.\d: no answer yet", text), f"{path.name}: {text!r}"
                checks += 1
    assert checks == len(ml.exercises.catalogue())


@pytest.mark.slow
def test_notebooks_that_read_files_run_on_gtzan_original_layout(background_courses):
    out = _ok(background_courses.result("gtzan_original"), 3)
    setup = _printed(nbformat.read(out / "00_setup_and_data.ipynb", as_version=4))
    assert "labels   : 3" in setup and "skipped 0 files" in setup  # the ._* files are not audio
    features = _printed(nbformat.read(out / "02_spectral_features.ipynb", as_version=4))
    assert "tiny: 12 of 12 recordings (4 per label)" in features
